"""``GET /metrics``: Prometheus text for the on-call engineer.

Two kinds of figure. The queue, tips and whether a scheduler leads are read from the database at scrape
time, so every process reports the same truth whichever one Prometheus reaches. Webhook latency is counted
where the webhook is answered: with several web processes behind one port (``--reuse-port``) set
``PROMETHEUS_MULTIPROC_DIR`` to an empty directory shared by them (prometheus_client's multiprocess mode),
and every scrape reports the histogram summed over all of them; without it, each process reports its own.
``lookout_build_info{version}`` says which version answered.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Awaitable, Callable, Iterator

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.clock import Clock
from core.model import Channel, DeliveryState, TipState
from core.ports import UnitOfWorkFactory
from runtime.version import lookout_version

WEBHOOK_PATHS = ("/telegram/webhook", "/whatsapp/webhook", "/slack/events")
# Webhooks must answer in well under a second (Slack gives 3 s); buckets resolve the fast end.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's own variable, read when it is imported


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROCESS_DIR) or None


class _Snapshot(Collector):
    """The figures of one scrape, as gauges built for it (not kept between scrapes, so nothing goes stale)."""

    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterator[Metric]:
        yield from self._families


class Metrics:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        channels: tuple[Channel, ...],
        *,
        clock: Clock,
        scheduler_leads: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._channels = channels
        self._scheduler_leads = scheduler_leads
        folder = multiprocess_dir()
        if folder:
            os.makedirs(folder, exist_ok=True)  # each process writes its own file there
        self._own = CollectorRegistry()
        self.webhook_seconds = Histogram(
            "lookout_webhook_seconds",
            "Time to answer a platform's webhook",
            ["path", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self._own,
        )

    async def _database_figures(self) -> list[Metric]:
        async with self._uow(read_only=True) as uow:
            by_state = await uow.operations.deliveries_by_state()
            backlog = await uow.operations.due_backlog(self._clock())
            tips = await uow.operations.tips_by_state()
        deliveries = GaugeMetricFamily(
            "lookout_deliveries", "Delivery rows by channel and state", labels=["channel", "state"]
        )
        due = GaugeMetricFamily("lookout_queue_due", "Deliveries due to be sent now", labels=["channel"])
        oldest = GaugeMetricFamily(
            "lookout_queue_oldest_due_seconds", "How long the oldest due delivery has waited", labels=["channel"]
        )
        # Every combination is written, zeros included, so a state that empties reads 0 rather than vanishing.
        for channel in sorted({*self._channels, *(c for c, _ in by_state)}):
            for state in DeliveryState:
                deliveries.add_metric([channel.value, state.value], by_state.get((channel, state), 0))
            waiting = backlog.get(channel)
            due.add_metric([channel.value], waiting.due if waiting else 0)
            oldest.add_metric([channel.value], waiting.oldest_due_seconds if waiting else 0)
        tip_states = GaugeMetricFamily("lookout_tips", "Tips by state", labels=["state"])
        for tip_state in TipState:
            tip_states.add_metric([tip_state.value], tips.get(tip_state, 0))
        families: list[Metric] = [deliveries, due, oldest, tip_states]
        if self._scheduler_leads is not None:
            leaders = GaugeMetricFamily(
                "lookout_scheduler_leaders", "Schedulers holding the leader lock (1 is right; 0: none leads)"
            )
            leaders.add_metric([], 1 if await self._scheduler_leads() else 0)
            families.append(leaders)
        build = GaugeMetricFamily("lookout_build_info", "The version of Lookout answering", labels=["version"])
        build.add_metric([lookout_version()], 1)
        families.append(build)
        return families

    def _latency(self) -> bytes:
        if not multiprocess_dir():
            return generate_latest(self._own)
        every_process = CollectorRegistry()
        MultiProcessCollector(every_process)  # sums each web process's file in the shared directory
        return generate_latest(every_process)

    async def render(self) -> bytes:
        snapshot = CollectorRegistry()
        snapshot.register(_Snapshot(await self._database_figures()))
        return generate_latest(snapshot) + self._latency()


class TimeWebhooks:
    """Plain ASGI middleware (cheaper than Starlette's BaseHTTPMiddleware on the hot path):
    time from a webhook request arriving to its response starting."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in WEBHOOK_PATHS:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                elapsed = time.perf_counter() - started
                self.metrics.webhook_seconds.labels(scope["path"], str(message["status"])).observe(elapsed)
            await send(message)

        await self.app(scope, receive, timed_send)


def bearer_matches(authorization: str | None, token: str) -> bool:
    """``Authorization: Bearer <token>``, compared in constant time (bytes, so any header text is safe to compare)."""
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def add_metrics(app: FastAPI, metrics: Metrics, *, token: str | None = None) -> None:
    """Mount ``GET /metrics``; with ``token`` (LOOKOUT_METRICS_TOKEN) it answers 401 to anyone not bearing it."""
    app.add_middleware(TimeWebhooks, metrics=metrics)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics(request: Request) -> Response:
        if token and not bearer_matches(request.headers.get("authorization"), token):
            return Response(
                "A bearer token is required.\n",
                status_code=401,
                media_type="text/plain",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        return Response(await metrics.render(), media_type=CONTENT_TYPE_LATEST)
