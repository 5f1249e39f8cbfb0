"""``lookout bench load``: residents writing to the bot while an alert fans out.

``lookout serve`` (web + worker + scheduler) runs as its own process against a
Telegram Bot API stand-in in another; this process plays Telegram delivering
updates to the webhook: an open-loop schedule at ``rate`` a second (each request
leaves on time whether or not earlier ones have been answered, so a slow server
cannot hide its queueing), from ``senders`` subscribed residents, half asking
``/help`` and half writing a message (which the bot answers by offering to pass
it on as information). Meanwhile an alert to ``fanout`` residents is being sent
at Telegram's pace. Figures: the time to answer each webhook call (p50/p95/p99),
errors, and the fan-out's own rate during the load. Loopback only; bounded by
``seconds`` (≤ 60).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, select

from benchmarks.fanout import CENTRE, FORCE_CONFIG, OFFICER, SUPERVISOR, TOKEN, _Receiver, _reset
from benchmarks.serve_process import ServeProcess
from core.clock import utc_now
from core.force import load_force_config
from core.geo.areas import CircleArea
from core.services.alerts import AlertRequest, AlertService
from core.services.roles import Roles
from runtime.population import build_population
from storage.database import is_sqlite, make_async_engine
from storage.migrate import upgrade
from storage.tables import conversations, deliveries, inbound_updates, residents
from storage.uow import unit_of_work_factory

SECRET = "bench-load-secret-0123456789"
MAX_SECONDS = 60.0
MAX_IN_FLIGHT = 2000
REPLIES_QUIET_S = 10.0  # replies still owed after this long without one are counted as not sent
BASELINE_S = 5.0  # how long the server's CPU is read with only the fan-out going, before the load


async def run_load_benchmark(
    *,
    database_url: str | None,
    rate: float = 200.0,
    seconds: float = 30.0,
    fanout: int = 20_000,
    senders: int = 2_000,
    web_processes: int = 1,
) -> dict[str, Any]:
    seconds = min(seconds, MAX_SECONDS)
    force = load_force_config(FORCE_CONFIG)
    with tempfile.TemporaryDirectory(prefix="lookout-load-") as folder:
        url = database_url or f"sqlite:///{folder}/load.db"
        upgrade(url)
        engine = make_async_engine(url)
        try:
            await _empty(engine)
            await build_population(
                engine,
                residents=fanout,
                centre=CENTRE,
                radius_m=900,
                resolution=force.resolution,
                seed=11,
                topics=["all"],
                sectors=[],
                telegram_share=1.0,
            )
            async with engine.connect() as conn:
                chats = [
                    int(a.split(":")[1])
                    for a in (await conn.execute(select(residents.c.address).limit(senders))).scalars()
                ]
            # The stand-in answers every call (no per-bot limit): the worker paces the fan-out at Telegram's
            # published 30/s itself, and the bot's answers to 200 people a second are what is being measured.
            with (
                _Receiver(rate=None) as receiver,
                ServeProcess(
                    _serve_settings(url, receiver.base_url), Path(folder) / "serve.log", web_processes=web_processes
                ) as server,
            ):
                service = AlertService(
                    unit_of_work_factory(engine, clock=utc_now),
                    force,
                    roles=Roles(supervisors=frozenset({SUPERVISOR})),
                    clock=utc_now,
                )
                draft = await service.draft(
                    AlertRequest(
                        everyone=True,
                        incident_number="MV-20261125-0456",
                        headline="Load test alert",
                        message="Lookout load benchmark.",
                        area=CircleArea(*CENTRE, 1000),
                    ),
                    OFFICER,
                )
                await service.approve(draft.id, SUPERVISOR)  # type: ignore[arg-type]
                queued = (await service.send(draft.id, OFFICER)).total  # type: ignore[arg-type]
                await asyncio.sleep(2)  # the fan-out is under way
                # The server's CPU a second with the fan-out going and no residents writing: what the load's
                # messages cost is the rest (their answers and replies, nothing else).
                baseline_begun = server.cpu_seconds()
                await asyncio.sleep(BASELINE_S)
                baseline_per_s = (server.cpu_seconds() - baseline_begun) / BASELINE_S
                sent_before, server_cpu_before = await _sent(engine), server.cpu_seconds()
                latencies, errors, elapsed, generator_cpu = await _load(
                    f"{server.url}/telegram/webhook", chats, rate=rate, seconds=seconds
                )
                load_ended = time.monotonic()
                sent_during = await _sent(engine) - sent_before
                replies, last_reply_at = await _replies(engine, receiver, expected=len(latencies))
                # The server's CPU until its replies were out (they may follow the load): every message's whole cost.
                server_cpu = server.cpu_seconds() - server_cpu_before
                busy = elapsed + max(0.0, (last_reply_at or load_ended) - load_ended)
                server_rss_mb = server.peak_rss_mb()
        finally:
            await engine.dispose()
    ordered = sorted(latencies)

    def percentile(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000, 1) if ordered else 0.0

    return {
        "database": "sqlite" if is_sqlite(url) else "postgresql",
        "web_processes": web_processes,
        "target_per_s": rate,
        "seconds": seconds,
        "requests": len(latencies) + errors,
        "achieved_per_s": round((len(latencies) + errors) / elapsed, 1),
        "errors": errors,
        "p50_ms": percentile(0.50),
        "p95_ms": percentile(0.95),
        "p99_ms": percentile(0.99),
        "max_ms": round(ordered[-1] * 1000, 1) if ordered else 0.0,
        "mean_ms": round(statistics.fmean(ordered) * 1000, 1) if ordered else 0.0,
        # Each message is answered by one reply; past the bot's pace (Telegram's 30 a second) the webhook is
        # answered first and the replies follow, so here is when the last of them reached "Telegram".
        "replies_sent": replies,
        "last_reply_after_load_s": round(max(0.0, last_reply_at - load_ended), 1) if last_reply_at else None,
        "fanout_recipients": queued,
        "fanout_sent_during_load_per_s": round(sent_during / elapsed, 1),
        "load_generator_cpu_percent": round(100 * generator_cpu / elapsed, 1),
        # CPU time, unlike answer times, hardly changes with whatever else the machine is doing:
        # the server's cost per message (fan-out included) compares runs on busy and quiet machines.
        "server_cpu_percent": round(100 * server_cpu / busy, 1),
        "server_cpu_ms_per_message": round(1000 * server_cpu / max(1, len(latencies)), 2),
        # The same less the fan-out's and the processes' own CPU meanwhile (their rate measured just before the
        # load): one resident message's cost, its answer and its reply, which compares across fan-out speeds.
        "server_cpu_ms_per_message_net": round(
            1000 * max(0.0, server_cpu - baseline_per_s * busy) / max(1, len(latencies)), 2
        ),
        "server_cpu_baseline_percent": round(100 * baseline_per_s, 1),
        "server_peak_rss_mb": server_rss_mb,
    }


async def _load(
    webhook: str, chats: list[int], *, rate: float, seconds: float
) -> tuple[list[float], int, float, float]:
    latencies: list[float] = []
    errors = 0
    update_ids = itertools.count(1)
    rng = random.Random(5)
    # The load generator shares the machine with the server under test, so it should be cheap per
    # request: aiohttp's client is lighter than httpx's. Its own CPU use is reported with the figures.
    connector = aiohttp.TCPConnector(limit=MAX_IN_FLIGHT)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    ) as client:

        async def one(update: dict[str, Any]) -> None:
            nonlocal errors
            started = time.perf_counter()
            try:
                async with client.post(webhook, json=update) as answer:
                    await answer.read()
                    status = answer.status
            except (aiohttp.ClientError, TimeoutError):
                errors += 1
                return
            if status != 200:
                errors += 1
                return
            latencies.append(time.perf_counter() - started)

        tasks: list[asyncio.Task[None]] = []
        total = int(rate * seconds)
        begun, cpu_begun = time.perf_counter(), time.process_time()
        for n in range(total):
            delay = begun + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            chat = rng.choice(chats)
            text = "/help" if n % 2 else f"I think I saw the van again ({n})"
            tasks.append(asyncio.create_task(one(_update(next(update_ids), chat, text))))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - begun
        generator_cpu = time.process_time() - cpu_begun
    return latencies, errors, elapsed, generator_cpu


def _serve_settings(database_url: str, telegram_base: str) -> dict[str, str]:
    return {
        "LOOKOUT_DATABASE_URL": database_url,
        "LOOKOUT_FORCE_CONFIG": str(FORCE_CONFIG),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": telegram_base,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "LOOKOUT_GEOCODER_DOMAIN": "127.0.0.1:9",
        "LOOKOUT_GEOCODER_SCHEME": "http",
    }


def _update(update_id: int, chat: int, text: str) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": int(time.time()),
        "text": text,
        "chat": {"id": chat, "type": "private", "first_name": "Resident"},
        "from": {"id": chat, "is_bot": False, "first_name": "Resident", "language_code": "en"},
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
    return {"update_id": update_id, "message": message}


async def _replies(engine, receiver: _Receiver, *, expected: int) -> tuple[int, float | None]:  # noqa: ANN001
    """The bot's replies the Telegram stand-in took (every message it took, less the fan-out's), once all
    ``expected`` have come or they stop coming; and when the last came (the machine's monotonic clock, to ½ s)."""
    replies, last_at, still_since = 0, None, time.monotonic()
    while time.monotonic() - still_since < REPLIES_QUIET_S:
        now = receiver.stats()["sent"] - await _sent(engine)
        if now != replies:
            replies, last_at, still_since = now, time.monotonic(), time.monotonic()
        if replies >= expected:
            break
        await asyncio.sleep(0.5)
    return replies, last_at


async def _sent(engine) -> int:  # noqa: ANN001
    async with engine.connect() as conn:
        return (
            await conn.execute(select(func.count()).select_from(deliveries).where(deliveries.c.state == "sent"))
        ).scalar_one()


async def _empty(engine) -> None:  # noqa: ANN001
    """No residents, alerts or conversations from an earlier run. The inbound log especially:
    update ids start at 1 each run, and ones already seen would be answered as duplicates."""
    await _reset(engine)
    async with engine.begin() as conn:
        for table in (inbound_updates, conversations):
            await conn.execute(table.delete())
