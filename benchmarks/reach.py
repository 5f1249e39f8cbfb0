"""``lookout bench reach``: urgent first, nearest first, and how soon 95% are reached at the platforms' real ceilings.

Three figures, each against platform stand-ins in their own processes that
enforce the platforms' limits (Telegram: 30 messages/s free, 1 a second per
chat, paid broadcasts up to 1,000/s; WhatsApp: the number's throughput and the
pair rate to one user):

- ``urgent_all_delivered_s``: a routine (``Expected``) alert to ``routine``
  Telegram residents is fanning out at the free rate when an ``Immediate``
  alert goes to ``urgent`` other Telegram residents; seconds from that send
  until the last of them has it. ``urgent_target_s`` is 1.2 × urgent / pace + 2 s,
  what it would take if the queue were empty.
- ``nearest_first_rank_correlation``: Spearman's ρ between the order the urgent
  alert's messages arrived and each resident's distance from its centre.
- ``reach_95_s`` (PostgreSQL only): an ``Immediate`` alert to ``reach`` residents,
  60% Telegram with paid broadcast at 1,000/s and 40% WhatsApp at 1,000/s,
  delivered by two worker processes (``lookout serve`` and ``lookout worker``);
  seconds until 95% of them have it, each channel's rate over its own 95%, the
  429s the stand-ins answered, and the CPU each process used per message
  (``cpu_ms_per_message_*``, read from /proc) with the rate this machine's
  cores could carry at that cost. The stand-ins run at a higher scheduling
  priority than everything else (``reach_stand_ins_run_first``), as platforms
  on their own machines would: see ``benchmarks.cpu``.

The in-process worker of the first two figures is the same ``DeliveryWorker``
``lookout serve`` runs. Figures, not pass/fail.
"""

from __future__ import annotations

import asyncio
import math
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import h3
import numpy as np
from pyproj import Geod
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from benchmarks.cpu import cpu_seconds, database_backend_pids
from benchmarks.fanout import CENTRE, FORCE_CONFIG, OFFICER, SUPERVISOR, TOKEN, _Receiver, _reset, _service
from benchmarks.serve_process import ServeProcess
from bots.telegram.adapter import TelegramAdapter, make_bot
from core.clock import utc_now
from core.delivery.ratelimit import HEADROOM
from core.delivery.worker import DeliveryWorker
from core.force import ForceConfig, load_force_config
from core.geo.areas import CircleArea
from core.geo.cells import int_to_cell
from core.model import Channel
from core.services.alerts import AlertRequest, AlertService
from runtime.population import build_population
from storage.database import is_sqlite, make_async_engine
from storage.migrate import upgrade
from storage.rate_buckets import PostgresSlotSource
from storage.tables import deliveries, places
from storage.uow import unit_of_work_factory

ROUTINE_RADIUS_M = 3000.0
URGENT_RADIUS_M = 800.0
URGENT_CENTRE = (CENTRE[0] + 0.045, CENTRE[1])  # 5 km north: the urgent alert's residents are its own
IN_FLIGHT_S = 5.0  # the routine alert goes out this long before the urgent one
FREE_RATE = 30.0
PAID_RATE = 1000.0
WHATSAPP_RATE = 1000.0
TELEGRAM_SHARE = 0.6
WHATSAPP_PHONE_ID = "100000000000001"
WHATSAPP_TOKEN = "bench-whatsapp-token"
WHATSAPP_DAILY_LIMIT = 100_000  # Meta's tier for a portfolio that reaches tens of thousands a day
_GEOD = Geod(ellps="WGS84")


async def run_reach_benchmark(
    *,
    database_url: str | None,
    routine: int = 20_000,
    urgent: int = 500,
    reach: int = 50_000,
    say=print,  # noqa: ANN001
) -> dict[str, Any]:
    force = load_force_config(FORCE_CONFIG)
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="lookout-bench-reach-") as folder:
        url = database_url or f"sqlite:///{folder}/reach.db"
        figures["database"] = "sqlite" if is_sqlite(url) else "postgresql"
        upgrade(url)
        engine = make_async_engine(url)
        try:
            say(f"urgent behind routine: {routine:,} routine and {urgent:,} urgent Telegram residents")
            figures.update(await _urgent_behind_routine(engine, force, routine, urgent))
            if is_sqlite(url):
                figures["reach_95_s"] = None
                figures["reach_note"] = "reach_95_s needs PostgreSQL (two worker processes): give --database-url"
            else:
                say(
                    f"reach: {reach:,} residents, Telegram paid broadcast and WhatsApp at {WHATSAPP_RATE:,.0f}/s, two workers"
                )
                try:
                    figures.update(await _reach(engine, url, force, reach, Path(folder)))
                except RuntimeError as exc:  # the processes would not start: keep the figures already measured
                    figures["reach_95_s"], figures["reach_error"] = None, str(exc)[:500]
        finally:
            await _reset(engine)
            await engine.dispose()
    return figures


# --- urgent first, nearest first ------------------------------------------------------------------------------


async def _urgent_behind_routine(engine: AsyncEngine, force: ForceConfig, routine: int, urgent: int) -> dict[str, Any]:
    await _reset(engine)
    await build_population(
        engine,
        residents=routine,
        centre=CENTRE,
        radius_m=ROUTINE_RADIUS_M,
        resolution=force.resolution,
        seed=11,
        topics=(),
        sectors=(),
        telegram_share=1.0,
    )
    await build_population(
        engine,
        residents=urgent,
        centre=URGENT_CENTRE,
        radius_m=URGENT_RADIUS_M,
        resolution=force.resolution,
        seed=12,
        topics=(),
        sectors=(),
        telegram_share=1.0,
    )
    service = _service(engine, force)
    with _Receiver(rate=FREE_RATE) as telegram:
        adapter = TelegramAdapter(make_bot(TOKEN, telegram.base_url))
        source = None if engine.dialect.name == "sqlite" else PostgresSlotSource(engine)
        worker = DeliveryWorker(
            unit_of_work_factory(engine, clock=utc_now),
            {Channel.TELEGRAM: adapter},
            force_name=force.name,
            slot_source=source,
            clock=utc_now,
        )
        running = asyncio.create_task(worker.run())
        try:
            routine_alert = await _send(service, CircleArea(*CENTRE, ROUTINE_RADIUS_M), "Expected")
            await asyncio.sleep(IN_FLIGHT_S)
            sent_at = time.monotonic()
            urgent_alert = await _send(service, CircleArea(*URGENT_CENTRE, URGENT_RADIUS_M), "Immediate")
            chats = await _chats_of(engine, urgent_alert.message_id)
            arrived = await _wait_for_chats(telegram, chats, timeout=600)
            last = max(arrived.values()) if len(arrived) == len(chats) else None
            routine_sent_meanwhile = sum(
                1 for chat, at in telegram.arrivals() if chat not in chats and sent_at <= at <= (last or math.inf)
            )
            await service.cancel(routine_alert.reference, OFFICER, reason="Benchmark over.")
        finally:
            worker.stop()
            await running
            await adapter.aclose()
        stats = telegram.stats()
    pace = FREE_RATE * HEADROOM
    distances = await _distances(engine, urgent_alert.message_id, URGENT_CENTRE)
    order = sorted(arrived, key=lambda chat: arrived[chat])
    return {
        "routine_recipients": routine,
        "urgent_recipients": len(chats),
        "urgent_pace_per_s": round(pace, 1),
        "urgent_all_delivered_s": round(last - sent_at, 2) if last is not None else None,
        "urgent_target_s": round(1.2 * len(chats) / pace + 2, 2),
        "urgent_first_delivered_s": round(min(arrived.values()) - sent_at, 2) if arrived else None,
        "routine_sent_while_urgent_went": routine_sent_meanwhile,
        "nearest_first_rank_correlation": round(_spearman(list(range(len(order))), [distances[c] for c in order]), 4),
        "telegram_429": stats["rate_limited"],
    }


async def _send(service: AlertService, area: CircleArea, urgency: str):  # noqa: ANN202
    draft = await service.draft(
        AlertRequest(
            incident_number="MV-20261125-0456",
            headline=f"{urgency} benchmark alert",
            message="Lookout reach benchmark.",
            area=area,
            urgency=urgency,
            everyone=True,
        ),
        OFFICER,
    )
    if (await service.preview(draft.id, OFFICER)).approval_needed:  # type: ignore[arg-type]
        await service.approve(draft.id, SUPERVISOR)  # type: ignore[arg-type]
    return (await service.send(draft.id, OFFICER)).alert  # type: ignore[arg-type]


async def _chats_of(engine: AsyncEngine, message_id: int) -> set[int]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(deliveries.c.address).where(deliveries.c.message_id == message_id))
        return {int(address.split(":", 1)[1]) for (address,) in rows}


async def _wait_for_chats(telegram: _Receiver, chats: set[int], *, timeout: float) -> dict[int, float]:
    """When each of ``chats`` first got a message (the stand-in's clock is this machine's monotonic clock)."""
    deadline = time.monotonic() + timeout
    arrived: dict[int, float] = {}
    while time.monotonic() < deadline:
        arrived = {}
        for chat, at in telegram.arrivals():
            if chat in chats and chat not in arrived:
                arrived[chat] = at
        if len(arrived) == len(chats):
            break
        await asyncio.sleep(0.25)
    return arrived


async def _distances(engine: AsyncEngine, message_id: int, centre: tuple[float, float]) -> dict[int, float]:
    """Metres from ``centre`` to each recipient's nearest place (its cell's centre), by chat id."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(deliveries.c.address, places.c.cell)
            .select_from(deliveries.join(places, places.c.resident_id == deliveries.c.resident_id))
            .where(deliveries.c.message_id == message_id)
        )
        nearest: dict[int, float] = {}
        for address, cell in rows:
            lat, lon = h3.cell_to_latlng(int_to_cell(cell))
            _, _, metres = _GEOD.inv(centre[1], centre[0], lon, lat)
            chat = int(address.split(":", 1)[1])
            nearest[chat] = min(metres, nearest.get(chat, math.inf))
        return nearest


def _spearman(a: list[float], b: list[float]) -> float:
    """Spearman's rank correlation (ties take their average rank)."""

    def ranks(values: list[float]) -> np.ndarray:
        array = np.asarray(values, dtype=float)
        order = array.argsort(kind="stable")
        ranked = np.empty(len(array))
        ranked[order] = np.arange(len(array), dtype=float)
        for value in np.unique(array):  # average the ranks of ties
            same = array == value
            if same.sum() > 1:
                ranked[same] = ranked[same].mean()
        return ranked

    if len(a) < 2:
        return float("nan")
    return float(np.corrcoef(ranks(a), ranks(b))[0, 1])


# --- 95% reached at the ceiling --------------------------------------------------------------------------------


async def _reach(engine: AsyncEngine, url: str, force: ForceConfig, reach: int, folder: Path) -> dict[str, Any]:
    await _reset(engine)
    await build_population(
        engine,
        residents=reach,
        centre=CENTRE,
        radius_m=ROUTINE_RADIUS_M,
        resolution=force.resolution,
        seed=13,
        topics=(),
        sectors=(),
        telegram_share=TELEGRAM_SHARE,
    )
    telegram_args = ["--token", TOKEN, "--rate", str(FREE_RATE), "--per-chat", "1", "--paid-rate", str(PAID_RATE)]
    # A force reaching 20,000 WhatsApp residents at once has Meta's 100,000 tier: both sides count against it,
    # so the daily limit's bookkeeping is on the measured path.
    whatsapp_args = [
        "--token",
        WHATSAPP_TOKEN,
        "--phone-number-id",
        WHATSAPP_PHONE_ID,
        "--rate",
        str(WHATSAPP_RATE),
        "--messaging-limit",
        str(WHATSAPP_DAILY_LIMIT),
    ]
    with (
        _Receiver(rate=None, args=telegram_args) as telegram,
        _Receiver(rate=None, module="sandbox.whatsapp", args=whatsapp_args) as whatsapp,
    ):
        settings = {
            "LOOKOUT_DATABASE_URL": url,
            "LOOKOUT_FORCE_CONFIG": str(FORCE_CONFIG),
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE": telegram.base_url,
            "TELEGRAM_PAID_BROADCAST": "true",
            "TELEGRAM_PAID_BROADCAST_RATE": str(PAID_RATE),
            "WHATSAPP_TOKEN": WHATSAPP_TOKEN,
            "WHATSAPP_PHONE_NUMBER_ID": WHATSAPP_PHONE_ID,
            "WHATSAPP_API_BASE": f"{whatsapp.base_url}/v21.0",
            "WHATSAPP_MESSAGES_PER_SECOND": str(WHATSAPP_RATE),
            "WHATSAPP_DAILY_LIMIT": str(WHATSAPP_DAILY_LIMIT),
        }
        with ServeProcess(settings, folder / "reach-serve.log", workers=2) as serve:
            await asyncio.sleep(2)  # the workers are claiming
            alert = await _send(_service(engine, force), CircleArea(*CENTRE, ROUTINE_RADIUS_M), "Immediate")
            started = time.monotonic()
            cpu_before = await _cpu_by_process(engine, serve, telegram, whatsapp)
            totals = await _per_channel(engine, alert.message_id, sent_only=False)
            reached: dict[str, float] = {}
            while len(reached) < len(totals) + 1 and time.monotonic() - started < 900:
                sent = await _per_channel(engine, alert.message_id, sent_only=True)
                now = time.monotonic() - started
                for channel, total in totals.items():
                    if channel not in reached and sent.get(channel, 0) >= 0.95 * total:
                        reached[channel] = now
                if "all" not in reached and sum(sent.values()) >= 0.95 * sum(totals.values()):
                    reached["all"] = now
                await asyncio.sleep(0.25)
            cpu_used = {
                name: seconds - cpu_before.get(name, 0.0)
                for name, seconds in (await _cpu_by_process(engine, serve, telegram, whatsapp)).items()
            }
            sent = await _per_channel(engine, alert.message_id, sent_only=True)
            alive = serve.alive
        telegram_stats, whatsapp_stats = telegram.stats(), whatsapp.stats()
    figures: dict[str, Any] = {
        "reach_recipients": sum(totals.values()),
        "reach_95_s": round(reached["all"], 1) if "all" in reached else None,
        "reach_workers": 2,
        "reach_processes_alive": alive,
        "reach_telegram_429": telegram_stats["rate_limited"],
        "reach_first_delivery_s": round(
            min(x for x in (telegram_stats["first_at"], whatsapp_stats["first_at"]) if x) - started, 2
        )
        if telegram_stats["first_at"] or whatsapp_stats["first_at"]
        else None,
        "telegram_sending_window_s": round(telegram_stats["last_at"] - telegram_stats["first_at"], 1)
        if telegram_stats["first_at"]
        else None,
        "whatsapp_sending_window_s": round(whatsapp_stats["last_at"] - whatsapp_stats["first_at"], 1)
        if whatsapp_stats["first_at"]
        else None,
        "telegram_stars_spent": telegram_stats.get("stars_spent"),
        "reach_whatsapp_429": sum(whatsapp_stats["rejected"].get(code, 0) for code in ("130429", "131056")),
    }
    figures.update(_cpu_per_message(cpu_used, sent))
    figures["reach_stand_ins_run_first"] = telegram.runs_first and whatsapp.runs_first
    for channel, rate in (("telegram", PAID_RATE), ("whatsapp", WHATSAPP_RATE)):
        total = totals.get(channel, 0)
        seconds = reached.get(channel)
        figures[f"{channel}_recipients"] = total
        figures[f"{channel}_95_s"] = round(seconds, 1) if seconds else None
        achieved = 0.95 * total / seconds if seconds else None
        figures[f"{channel}_per_s"] = round(achieved, 1) if achieved else None
        figures[f"{channel}_share_of_rate"] = round(achieved / rate, 3) if achieved else None
    return figures


async def _per_channel(engine: AsyncEngine, message_id: int, *, sent_only: bool) -> dict[str, int]:
    query = select(deliveries.c.channel, func.count()).where(deliveries.c.message_id == message_id)
    if sent_only:
        query = query.where(deliveries.c.state == "sent")
    async with engine.connect() as conn:
        return {channel: count for channel, count in await conn.execute(query.group_by(deliveries.c.channel))}


async def _cpu_by_process(
    engine: AsyncEngine, serve: ServeProcess, telegram: _Receiver, whatsapp: _Receiver
) -> dict[str, float]:
    used = {
        "workers": serve.cpu_seconds(),
        "telegram_stand_in": cpu_seconds([telegram.pid]),
        "whatsapp_stand_in": cpu_seconds([whatsapp.pid]),
    }
    if engine.url.host in (None, "127.0.0.1", "localhost", "::1"):  # its server processes are on this machine
        used["database"] = cpu_seconds(await database_backend_pids(engine))
    return used


def _cpu_per_message(used: dict[str, float], sent: dict[str, int]) -> dict[str, Any]:
    """Milliseconds of CPU per message each part used while the alert went out (a stand-in: per message of its
    channel), and how many messages a second this machine's cores could carry at that cost with nothing else
    running: its ceiling, whatever the platforms allow."""
    total_sent = sum(sent.values())
    if not total_sent:
        return {}
    per_message = {
        "workers": used["workers"] / total_sent,
        "telegram_stand_in": used["telegram_stand_in"] / max(1, sent.get("telegram", 0)),
        "whatsapp_stand_in": used["whatsapp_stand_in"] / max(1, sent.get("whatsapp", 0)),
    }
    if "database" in used:
        per_message["database"] = used["database"] / total_sent
    overall = sum(used.values()) / total_sent
    figures: dict[str, Any] = {f"cpu_ms_per_message_{name}": round(ms * 1000, 3) for name, ms in per_message.items()}
    figures["cpu_ms_per_message"] = round(overall * 1000, 3)
    figures["cpu_seconds_used"] = round(sum(used.values()), 1)
    figures["cores"] = os.cpu_count()
    figures["messages_per_s_cores_can_carry"] = round((os.cpu_count() or 1) / overall) if overall else None
    return figures
