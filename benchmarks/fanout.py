"""``lookout bench fanout``: the delivery worker against a local Telegram Bot API.

The receiver (``sandbox.telegram``) runs in its own process, as a platform
would; the worker runs in this one. Figures, not pass/fail:

- ``unlimited_per_s``: deliveries per second with no platform limit (the engine's own ceiling);
- ``limit_per_s`` / ``limited_achieved_per_s`` / ``rate_limited_responses``: with the receiver
  enforcing 30 messages/s and answering 429 + retry_after beyond it;
- ``first_delivery_p95_ms``: from ``send`` returning to the first message arriving, over small alerts;
- ``sms_*``: the same alert by text through a local Twilio Messages resource (``sandbox.sms``), paced at the
  sender's configured rate (``SMS_MESSAGES_PER_SECOND`` segments a second, shared by ``SMS_MAX_SEGMENTS``);
- ``peak_rss_mb`` of this process (worker + database client).
"""

from __future__ import annotations

import asyncio
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from types import EllipsisType
from typing import Any

import httpx
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from benchmarks.cpu import run_first
from bots.sms.adapter import SmsAdapter
from bots.sms.twilio_api import Sender, TwilioApi
from bots.telegram.adapter import TelegramAdapter, make_bot
from core.clock import utc_now
from core.delivery.ratelimit import HEADROOM
from core.delivery.worker import DeliveryWorker
from core.force import ForceConfig, load_force_config
from core.geo.areas import CircleArea
from core.geo.cells import cell_to_int, snap
from core.model import Channel
from core.services.alerts import AlertRequest, AlertService
from core.services.roles import Roles
from runtime.examples import EXAMPLE_FORCE_CONFIG
from storage.database import is_sqlite, make_async_engine
from storage.migrate import upgrade
from storage.rate_buckets import PostgresSlotSource
from storage.tables import deliveries, places, residents, subscriptions
from storage.uow import unit_of_work_factory

TOKEN = "123456:BENCH"
SMS_ACCOUNT = "AC" + "be" * 16
SMS_TOKEN = "bench-sms-token"
CENTRE = (52.8067, -2.1174)
FORCE_CONFIG = EXAMPLE_FORCE_CONFIG
OFFICER = "cli:bench"
SUPERVISOR = "bench-supervisor"  # a 50,000-recipient alert is above the example force's approval threshold


async def run_fanout_benchmark(
    *,
    recipients: int,
    database_url: str | None,
    limited_recipients: int = 600,
    limit: float = 30.0,
    latency_samples: int = 20,
    sms_recipients: int = 0,
    sms_rate: float = 1.0,
    sms_max_segments: int = 3,
) -> dict[str, Any]:
    force = load_force_config(FORCE_CONFIG)
    with tempfile.TemporaryDirectory(prefix="lookout-bench-") as folder:
        url = database_url or f"sqlite:///{folder}/fanout.db"
        upgrade(url)
        engine = make_async_engine(url)
        try:
            await _reset(engine)
            await _seed(engine, recipients, force.resolution)
            figures: dict[str, Any] = {
                "database": "sqlite" if is_sqlite(url) else "postgresql",
                "recipients": recipients,
            }
            with _Receiver(rate=None) as receiver:
                figures.update(await _unlimited(engine, force, receiver, recipients))
                figures["first_delivery_p95_ms"], figures["first_delivery_p50_ms"] = await _first_delivery(
                    engine, force, receiver, latency_samples
                )
            await _reset(engine)
            await _seed(engine, limited_recipients, force.resolution)
            with _Receiver(rate=limit) as receiver:
                figures.update(await _limited(engine, force, receiver, limited_recipients, limit))
            if sms_recipients:
                await _reset(engine)
                await _seed(engine, sms_recipients, force.resolution, channel=Channel.SMS)
                with _Receiver(
                    rate=None, module="sandbox.sms", args=["--account", SMS_ACCOUNT, "--token", SMS_TOKEN]
                ) as receiver:
                    figures.update(await _sms(engine, force, receiver, sms_recipients, sms_rate, sms_max_segments))
        finally:
            await engine.dispose()
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return figures


async def _unlimited(engine: AsyncEngine, force: ForceConfig, receiver: _Receiver, recipients: int) -> dict[str, Any]:
    service = _service(engine, force)
    worker = _worker(engine, force, receiver, rate=None)
    result = await _send(service)
    started = time.perf_counter()
    await _run_until_done(worker, engine)
    elapsed = time.perf_counter() - started
    stats = receiver.stats()
    return {
        "unlimited_per_s": round(result.total / elapsed, 1),
        "unlimited_seconds": round(elapsed, 2),
        "unlimited_delivered": stats["sent"],
        "unlimited_duplicates": stats["duplicates"],
    }


async def _limited(
    engine: AsyncEngine, force: ForceConfig, receiver: _Receiver, recipients: int, limit: float
) -> dict[str, Any]:
    service = _service(engine, force)
    worker = _worker(engine, force, receiver, rate=...)
    await _send(service)
    await _run_until_done(worker, engine)
    stats = receiver.stats()
    window = stats["last_at"] - stats["first_at"]
    return {
        "limit_per_s": limit,
        "limited_recipients": recipients,
        "limited_achieved_per_s": round((stats["sent"] - 1) / window, 2) if window > 0 else None,
        "rate_limited_responses": stats["rate_limited"],
    }


async def _sms(
    engine: AsyncEngine, force: ForceConfig, receiver: _Receiver, recipients: int, rate: float, max_segments: int
) -> dict[str, Any]:
    """The alert to ``recipients`` texters at the pace the runtime gives SMS (runtime/app.py: ``paces_of``)."""
    api = TwilioApi(SMS_ACCOUNT, SMS_TOKEN, receiver.base_url, Sender("+447700900000"))
    adapter = SmsAdapter(api, force_name=force.name, max_segments=max_segments, alert_link=lambda reference: None)
    pace = rate * HEADROOM / max_segments
    worker = DeliveryWorker(
        unit_of_work_factory(engine, clock=utc_now),
        {Channel.SMS: adapter},
        force_name=force.name,
        rates={Channel.SMS: pace},
        slot_source=None if engine.dialect.name == "sqlite" else PostgresSlotSource(engine),
        clock=utc_now,
    )
    await _send(_service(engine, force))
    started = time.perf_counter()
    await _run_until_done(worker, engine)
    elapsed = time.perf_counter() - started
    stats = receiver.stats()
    window = (stats["last_at"] or 0) - (stats["first_at"] or 0)
    return {
        "sms_recipients": recipients,
        "sms_configured_segments_per_s": rate,
        "sms_max_segments": max_segments,
        "sms_pace_texts_per_s": round(pace, 2),
        "sms_texts": stats["sent"],
        "sms_segments": stats["segments"],
        "sms_achieved_texts_per_s": round((stats["sent"] - 1) / window, 2) if window > 0 else None,
        "sms_achieved_segments_per_s": round((stats["segments"] - 1) / window, 2) if window > 0 else None,
        "sms_refused": stats["rejected"],
        "sms_seconds": round(elapsed, 2),
    }


async def _first_delivery(
    engine: AsyncEngine, force: ForceConfig, receiver: _Receiver, samples: int
) -> tuple[float, float]:
    """Small alerts sent while the worker idles: how soon does the first message land?"""
    await _reset(engine)
    await _seed(engine, 5, force.resolution)
    service = _service(engine, force)
    worker = _worker(engine, force, receiver, rate=None)
    running = asyncio.create_task(worker.run())
    waits: list[float] = []
    try:
        await asyncio.sleep(0.5)
        for _ in range(samples):
            before = receiver.stats()["sent"]
            await _send(service)
            returned = time.perf_counter()
            while receiver.stats()["sent"] == before:
                await asyncio.sleep(0.005)
            waits.append((time.perf_counter() - returned) * 1000)
            await asyncio.sleep(1.1)  # past the per-chat interval, so spacing never delays the next sample
    finally:
        worker.stop()
        await running
        await _close_adapters(worker)
    waits.sort()
    return round(waits[max(0, int(len(waits) * 0.95) - 1)], 1), round(statistics.median(waits), 1)


def _service(engine: AsyncEngine, force: ForceConfig) -> AlertService:
    return AlertService(
        unit_of_work_factory(engine, clock=utc_now),
        force,
        roles=Roles(supervisors=frozenset({SUPERVISOR})),
        clock=utc_now,
    )


def _worker(
    engine: AsyncEngine, force: ForceConfig, receiver: _Receiver, *, rate: float | EllipsisType | None
) -> DeliveryWorker:
    adapter = TelegramAdapter(make_bot(TOKEN, receiver.base_url))
    source = None if engine.dialect.name == "sqlite" else PostgresSlotSource(engine)
    rates: dict[Channel, float | None] = (
        {} if isinstance(rate, EllipsisType) else {Channel.TELEGRAM: rate}
    )  # ...: the platform's own
    return DeliveryWorker(
        unit_of_work_factory(engine, clock=utc_now),
        {Channel.TELEGRAM: adapter},
        force_name=force.name,
        rates=rates,
        slot_source=source,
        clock=utc_now,
    )


async def _send(service: AlertService):  # noqa: ANN202
    draft = await service.draft(
        AlertRequest(
            incident_number="MV-20261125-0456",
            headline="Benchmark alert",
            message="Lookout fan-out benchmark.",
            area=CircleArea(*CENTRE, 500),
            everyone=True,
        ),
        OFFICER,
    )
    await service.approve(draft.id, SUPERVISOR)  # type: ignore[arg-type]
    return await service.send(draft.id, OFFICER)  # type: ignore[arg-type]


async def _run_until_done(worker: DeliveryWorker, engine: AsyncEngine) -> None:
    running = asyncio.create_task(worker.run())
    try:
        while await _open_deliveries(engine):
            await asyncio.sleep(0.05)
    finally:
        worker.stop()
        await running
        await _close_adapters(worker)


async def _close_adapters(worker: DeliveryWorker) -> None:
    for adapter in worker.adapters.values():
        await adapter.aclose()


async def _open_deliveries(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        query = (
            select(func.count()).select_from(deliveries).where(deliveries.c.state.in_(["pending", "sending", "failed"]))
        )
        return (await conn.execute(query)).scalar_one()


async def _reset(engine: AsyncEngine) -> None:
    from storage.tables import alerts, audit_log, messages, reference_counters

    async with engine.begin() as conn:
        for table in (deliveries, messages, subscriptions, places, residents, reference_counters):
            await conn.execute(table.delete())
        await conn.execute(alerts.update().values(original_id=None))
        await conn.execute(alerts.delete())
        if engine.dialect.name == "postgresql":
            await conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER USER")
            await conn.execute(audit_log.delete())
            await conn.exec_driver_sql("ALTER TABLE audit_log ENABLE TRIGGER USER")


async def _seed(engine: AsyncEngine, count: int, resolution: int, *, channel: Channel = Channel.TELEGRAM) -> None:
    """``count`` residents of ``channel`` (Telegram or SMS) at the centre, all subscribed to everything."""
    cell = cell_to_int(snap(*CENTRE, resolution))
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        await conn.execute(
            insert(residents),
            [
                {
                    "id": i,
                    "channel": channel.value,
                    "address": _address(channel, i),
                    "language": "en",
                    "age_confirmed": True,
                    "is_tester": False,
                    "active": True,
                    "created_at": now,
                }
                for i in range(1, count + 1)
            ],
        )
        await conn.execute(
            insert(places),
            [{"resident_id": i, "label": "Home", "cell": cell, "created_at": now} for i in range(1, count + 1)],
        )
        await conn.execute(insert(subscriptions), [{"resident_id": i, "topic": "all"} for i in range(1, count + 1)])


def _address(channel: Channel, number: int) -> str:
    return f"sms:+4477{number:08d}" if channel is Channel.SMS else f"telegram:{1_000_000 + number}"


class _Receiver:
    """A platform stand-in in its own process: ``python -m sandbox.telegram`` unless another ``module`` and its ``args``."""

    def __init__(
        self,
        *,
        rate: float | None,
        extra: Sequence[str] = (),
        module: str = "sandbox.telegram",
        args: Sequence[str] | None = None,
    ) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        if args is None:
            args = ["--token", TOKEN, "--rate", str(rate or 0), "--per-chat", "1" if rate else "0"]
        self._args = [sys.executable, "-m", module, "--port", str(self.port), *args, *extra]
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> _Receiver:
        self._process = subprocess.Popen(self._args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.runs_first = run_first(self._process.pid)
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{self.base_url}/_sandbox/stats", timeout=1)
                return self
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the stand-in ({self._args[2]}) did not start") from None
                time.sleep(0.05)

    @property
    def pid(self) -> int:
        assert self._process is not None, "not started"
        return self._process.pid

    def stats(self) -> dict[str, Any]:
        return httpx.get(f"{self.base_url}/_sandbox/stats", timeout=5).json()

    def arrivals(self) -> list[tuple[int, float]]:
        """(chat id, when on the machine's monotonic clock) of each message the Telegram stand-in took, in order."""
        return [
            (int(chat), float(at)) for chat, at in httpx.get(f"{self.base_url}/_sandbox/arrivals", timeout=30).json()
        ]

    def __exit__(self, *exc_info: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
