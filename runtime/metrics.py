"""``GET /metrics``: Prometheus text for the on-call engineer.

Queue and tip figures are read from the database at scrape time (so every web
process reports the same truth); webhook latency is this process's own
histogram (Prometheus sums it over processes).
"""
from __future__ import annotations

import hmac
import time

from fastapi import FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.clock import Clock
from core.model import Channel, DeliveryState, TipState
from core.ports import UnitOfWorkFactory

WEBHOOK_PATHS = ("/telegram/webhook", "/whatsapp/webhook", "/slack/events")
# Webhooks must answer in well under a second (Slack gives 3 s); buckets resolve the fast end.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self, uow: UnitOfWorkFactory, channels: tuple[Channel, ...], *, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock
        self._channels = channels
        self.registry = CollectorRegistry()
        self.deliveries = Gauge("lookout_deliveries", "Delivery rows by channel and state", ["channel", "state"], registry=self.registry)
        self.due = Gauge("lookout_queue_due", "Deliveries due to be sent now", ["channel"], registry=self.registry)
        self.oldest_due = Gauge("lookout_queue_oldest_due_seconds", "How long the oldest due delivery has waited", ["channel"], registry=self.registry)
        self.tips = Gauge("lookout_tips", "Tips by state", ["state"], registry=self.registry)
        self.webhook_seconds = Histogram(
            "lookout_webhook_seconds", "Time to answer a platform's webhook", ["path", "status"], buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    async def render(self) -> bytes:
        async with self._uow(read_only=True) as uow:
            by_state = await uow.operations.deliveries_by_state()
            backlog = await uow.operations.due_backlog(self._clock())
            tips = await uow.operations.tips_by_state()
        # Every combination is written, zeros included, so a state that empties reads 0 rather than vanishing.
        for channel in {*self._channels, *(c for c, _ in by_state)}:
            for state in DeliveryState:
                self.deliveries.labels(channel.value, state.value).set(by_state.get((channel, state), 0))
            waiting = backlog.get(channel)
            self.due.labels(channel.value).set(waiting.due if waiting else 0)
            self.oldest_due.labels(channel.value).set(waiting.oldest_due_seconds if waiting else 0)
        for state in TipState:
            self.tips.labels(state.value).set(tips.get(state, 0))
        return generate_latest(self.registry)


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
            return Response("A bearer token is required.\n", status_code=401, media_type="text/plain",
                            headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
        return Response(await metrics.render(), media_type=CONTENT_TYPE_LATEST)
