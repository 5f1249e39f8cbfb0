"""``lookout bench faults``: an alert fans out while the platforms, the geocoder and the database misbehave.

``lookout serve`` (web + worker + scheduler, one process, as in production)
runs against the Telegram, Slack and Nominatim stand-ins served from this
process. An officer sends an alert to ``recipients`` residents and schedules a
second, smaller one; while the first fans out at Telegram's pace, the stand-ins
add latency, reset connections and answer bursts of 5xx, the geocoder times
out, and — on PostgreSQL — the database is restarted (``fault_timeline``).
Meanwhile residents send tips through the real webhook, type postcodes and
chat (``fault_residents``), with this process playing Telegram, retries and all
(``telegram_side``).

Then it checks that nothing was lost: every delivery row ``sent``, each
resident given each alert exactly once (counted at the Telegram stand-in),
every tip the bot accepted stored once and posted to the officers' Slack
queue, every resident answered, the serve process alive and ``/readyz`` 200
again. On SQLite it also counts "database is locked" in the serve log and in
the webhook's answers (web, worker and scheduler all write). ``lost`` lists
whatever did not survive; the command exits non-zero if it is not empty.

On PostgreSQL the run works in a schema of its own (``lookout_bench_faults``,
emptied at the start) in the database given, so it never touches Lookout's
tables there, nor another benchmark's.
"""

from __future__ import annotations

import asyncio
import itertools
import tempfile
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from benchmarks.fanout import CENTRE, FORCE_CONFIG, OFFICER, SUPERVISOR
from benchmarks.fault_residents import (
    TIP_MARKER,
    PostcodeTry,
    TipConversation,
    chatter,
    postcodes_while_the_geocoder_times_out,
    tips_through_the_run,
)
from benchmarks.fault_timeline import GEOCODER_TIMEOUT, Clock, DatabaseFault, StandInFaults, Timeline, cleared
from benchmarks.postgres_cluster import local_cluster, restart, terminate_sessions
from benchmarks.serve_process import ServeProcess
from benchmarks.telegram_side import LOCKED, TelegramSide
from core.clock import utc_now
from core.errors import LookoutError
from core.force import ForceConfig, load_force_config
from core.geo.areas import CircleArea
from core.services.alerts import AlertRequest, AlertService
from core.services.roles import Roles
from runtime.population import build_population
from sandbox.nominatim import NominatimStandIn
from sandbox.slack import SlackStandIn
from sandbox.slack_workspace import OFFICER_ID, TIPS_CHANNEL_ID
from sandbox.telegram import TelegramLimits, TelegramStandIn
from storage.database import is_sqlite, make_async_engine, make_sync_engine
from storage.migrate import upgrade
from storage.tables import alerts, audit_log, deliveries, messages, metadata, residents, tips
from storage.uow import unit_of_work_factory

TOKEN = "123456:FAULTS"
SECRET = "bench-faults-secret-0123456789"
SLACK_TOKEN = "xoxb-bench-faults"
SLACK_SECRET = "bench-faults-signing-secret"
APPLICATION_NAME = "lookout-bench-faults"  # the serve process's PostgreSQL sessions, for --postgres-fault terminate
SCHEMA = "lookout_bench_faults"  # on PostgreSQL the run works in a schema of its own, emptied each time
MAIN_HEADLINE = "Suspicious van in the town centre"
SCHEDULED_HEADLINE = "Reminder: lock sheds and garages"
SCHEDULED_AFTER_S = 20.0
TIP_RESIDENTS = 30
CHATTER_RESIDENTS = 300
ONBOARDING_CHATS = range(7_700_001, 7_700_005)
SETTLE_DEADLINE_S = 170.0  # seconds after the alert: a run that has not settled by then has lost something
TERMINAL_STATES = ("sent", "dead", "skipped")
SERVE_LOG = Path(tempfile.gettempdir()) / "lookout-bench-faults-serve.log"


async def run_faults_benchmark(
    *,
    database_url: str | None,
    recipients: int = 2_500,
    postgres_fault: str = "restart",
    say: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    force = load_force_config(FORCE_CONFIG)
    with tempfile.TemporaryDirectory(prefix="lookout-faults-") as folder:
        url = (
            _own_schema(database_url)
            if database_url and not is_sqlite(database_url)
            else database_url or f"sqlite:///{folder}/faults.db"
        )
        database_fault = _database_fault(url, postgres_fault)
        upgrade(url)
        engine = make_async_engine(url)
        try:
            await _empty(engine)
            say(f"seeding {recipients:,} residents")
            await build_population(
                engine,
                residents=recipients,
                centre=CENTRE,
                radius_m=900,
                resolution=force.resolution,
                seed=23,
                topics=["all"],
                sectors=[],
                telegram_share=1.0,
            )
            chats = await _telegram_chats(engine)
            # No per-bot limit at the stand-in: the worker keeps to Telegram's 30/s itself, and the bot's
            # answers to residents come on top. Slack keeps its real limit (about one post a second per channel).
            with (
                TelegramStandIn(TOKEN, limits=TelegramLimits(per_bot_per_second=None)) as telegram,
                SlackStandIn(SLACK_TOKEN, SLACK_SECRET) as slack,
                NominatimStandIn() as nominatim,
                ServeProcess(_serve_settings(url, telegram, slack, nominatim), SERVE_LOG) as serve,
            ):
                httpx.post(
                    f"{telegram.base_url}/bot{TOKEN}/setWebhook",
                    data={"url": f"{serve.url}/telegram/webhook", "secret_token": SECRET},
                    timeout=10,
                ).raise_for_status()
                figures = await _run(engine, force, telegram, slack, nominatim, serve, chats, database_fault, say)
        finally:
            await engine.dispose()
    return {"database": "sqlite" if is_sqlite(url) else "postgresql", "recipients": recipients, **figures}


def _own_schema(url: str) -> str:
    """``url`` working in the run's own schema, so neither Lookout's tables nor another benchmark's are touched."""
    engine = make_sync_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    finally:
        engine.dispose()
    options = f"{make_url(url).query.get('options', '')} -csearch_path={SCHEMA}".strip()
    return make_url(url).update_query_dict({"options": options}).render_as_string(hide_password=False)


def _database_fault(url: str, kind: str) -> DatabaseFault | None:
    if is_sqlite(url):
        return None  # one file on this machine: nothing to restart
    if kind == "terminate":
        return DatabaseFault("sessions cut off", "PostgreSQL", lambda: terminate_sessions(url, APPLICATION_NAME))
    cluster = local_cluster(url)
    if cluster is None:
        raise LookoutError(
            "No PostgreSQL cluster on this machine serves that URL (pg_lsclusters), so it cannot be restarted. "
            "Use --postgres-fault terminate to cut off Lookout's sessions instead."
        )

    def pull() -> int:
        restart(cluster)
        return 1

    return DatabaseFault("restart", f"PostgreSQL {cluster.version}/{cluster.name}", pull)


def _serve_settings(
    url: str, telegram: TelegramStandIn, slack: SlackStandIn, nominatim: NominatimStandIn
) -> dict[str, str]:
    if not is_sqlite(url):
        url = (
            make_url(url)
            .update_query_dict({"application_name": APPLICATION_NAME})
            .render_as_string(hide_password=False)
        )
    return {
        "LOOKOUT_DATABASE_URL": url,
        "LOOKOUT_FORCE_CONFIG": str(FORCE_CONFIG),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": telegram.base_url,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "SLACK_BOT_TOKEN": SLACK_TOKEN,
        "SLACK_SIGNING_SECRET": SLACK_SECRET,
        "SLACK_API_BASE": slack.api_url,
        "SLACK_TIPS_CHANNEL": TIPS_CHANNEL_ID,
        "SLACK_OFFICER_IDS": OFFICER_ID,
        "LOOKOUT_GEOCODER_DOMAIN": nominatim.domain,
        "LOOKOUT_GEOCODER_SCHEME": "http",
    }


async def _run(
    engine: AsyncEngine,
    force: ForceConfig,
    telegram: TelegramStandIn,
    slack: SlackStandIn,
    nominatim: NominatimStandIn,
    serve: ServeProcess,
    chats: list[int],
    database_fault: DatabaseFault | None,
    say: Callable[[str], None],
) -> dict[str, Any]:
    tip_chats, chatter_chats = chats[:TIP_RESIDENTS], chats[TIP_RESIDENTS : TIP_RESIDENTS + CHATTER_RESIDENTS]
    # Idle connections are dropped before uvicorn's 5 s keep-alive ends, so no request meets one the server has just
    # closed (a transport error that is nobody's fault); the fault switches use a fresh connection each time.
    async with (
        httpx.AsyncClient(limits=httpx.Limits(max_connections=200, keepalive_expiry=2.0)) as client,
        httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=0)) as control,
    ):
        platforms = [
            StandInFaults(control, "Telegram API", telegram.base_url),
            StandInFaults(control, "Slack API", slack.base_url),
        ]
        geocoder = StandInFaults(control, "Nominatim", nominatim.base_url)
        timeline = Timeline(platforms, geocoder, database_fault, say)
        side = TelegramSide(telegram, client)
        service = AlertService(
            unit_of_work_factory(engine, clock=utc_now),
            force,
            roles=Roles(supervisors=frozenset({SUPERVISOR})),
            clock=utc_now,
        )
        queued = await _send_now(service)
        clock = Clock()
        say(f"  0.0 s  alert sent to {queued:,} residents; a second one scheduled for {SCHEDULED_AFTER_S:.0f} s")
        await _schedule(service, datetime.now(UTC) + timedelta(seconds=SCHEDULED_AFTER_S))
        readiness = _Readiness(client, serve)
        watching = asyncio.create_task(readiness.watch(clock))
        stop_chatter = asyncio.Event()
        chatting = asyncio.create_task(chatter(side, chatter_chats, stop_chatter))
        try:
            tip_results, postcode_results, _ = await asyncio.gather(
                tips_through_the_run(side, tip_chats, clock),
                postcodes_while_the_geocoder_times_out(side, list(ONBOARDING_CHATS), clock, GEOCODER_TIMEOUT[:2]),
                timeline.run(clock),
            )
        except BaseException:  # the run itself broke: stop its helpers before saying so
            stop_chatter.set()
            readiness.stop()
            await asyncio.gather(chatting, watching, return_exceptions=True)
            raise
        finally:
            await cleared([*platforms, geocoder])
        say(f"{clock.now():5.1f} s  faults over; waiting for every delivery and tip to settle")
        settled = await _settle(engine, slack, clock)
        stop_chatter.set()
        chatted = await chatting
        readiness.stop()
        await watching
        figures = await _figures(
            engine,
            telegram,
            slack,
            side,
            serve,
            readiness,
            timeline,
            database_fault,
            tip_results,
            postcode_results,
            clock,
            settled,
            chatted,
        )
    return figures


async def _send_now(service: AlertService) -> int:
    draft = await service.draft(
        AlertRequest(
            everyone=True,
            incident_number="MV-20261125-0456",
            headline=MAIN_HEADLINE,
            message="A white van without plates seen near the market. Please report sightings.",
            area=CircleArea(*CENTRE, 1000),
        ),
        OFFICER,
    )
    await service.approve(draft.id, SUPERVISOR)  # type: ignore[arg-type]
    return (await service.send(draft.id, OFFICER)).total  # type: ignore[arg-type]


async def _schedule(service: AlertService, at: datetime) -> None:
    draft = await service.draft(
        AlertRequest(
            everyone=True,
            incident_number="MV-20261125-0457",
            headline=SCHEDULED_HEADLINE,
            message="Several sheds were broken into overnight.",
            area=CircleArea(*CENTRE, 300),
        ),
        OFFICER,
    )
    await service.approve(draft.id, SUPERVISOR)  # type: ignore[arg-type]
    await service.schedule(draft.id, OFFICER, at)  # type: ignore[arg-type]


class _Readiness:
    """``/readyz`` four times a second: when it stopped answering 200 and when it did again."""

    def __init__(self, client: httpx.AsyncClient, serve: ServeProcess) -> None:
        self.client = client
        self.serve = serve
        self.samples: list[tuple[float, bool]] = []
        self.died_at: float | None = None
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def watch(self, clock: Clock) -> None:
        while not self._stopping.is_set():
            try:
                ready = (await self.client.get(f"{self.serve.url}/readyz", timeout=2)).status_code == 200
            except httpx.HTTPError:
                ready = False
            self.samples.append((clock.now(), ready))
            if self.died_at is None and not self.serve.alive:
                self.died_at = clock.now()
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=0.25)
            except TimeoutError:
                pass

    def unready_seconds(self, since: float) -> float:
        """How long /readyz was not 200 from ``since`` on (sample to sample)."""
        later = [(t, ok) for t, ok in self.samples if t >= since]
        return round(sum(b[0] - a[0] for a, b in itertools.pairwise(later) if not a[1]), 2)

    def ready_again(self, since: float) -> float | None:
        """The first sample from ``since`` on that answered 200 after one that did not (or the first 200 if none failed)."""
        later = [(t, ok) for t, ok in self.samples if t >= since]
        failed = False
        for t, ok in later:
            failed = failed or not ok
            if ok and failed:
                return t
        return next((t for t, ok in later if ok), None)


async def _settle(engine: AsyncEngine, slack: SlackStandIn, clock: Clock) -> bool:
    """Wait until no delivery is still to be tried and every stored tip is in Slack; False at the deadline."""
    while clock.now() < SETTLE_DEADLINE_S:
        try:
            if not await _unsettled(engine) and not _tips_missing_in_slack(await _stored_tips(engine), slack):
                return True
        except Exception:  # this process's own connection dropping with the restart: look again
            pass
        await asyncio.sleep(0.5)
    return False


async def _unsettled(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        query = sa.select(sa.func.count()).select_from(deliveries).where(deliveries.c.state.not_in(TERMINAL_STATES))
        return (await conn.execute(query)).scalar_one()


async def _stored_tips(engine: AsyncEngine) -> list[tuple[int, str]]:
    """(marker number, reference) of every tip the run's residents sent, as stored."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(sa.select(tips.c.text, tips.c.reference).where(tips.c.text.like(f"%{TIP_MARKER}%")))
        ).all()
    return [(int(text.split(TIP_MARKER, 1)[1].split(":", 1)[0]), reference) for text, reference in rows]


def _tips_missing_in_slack(stored: list[tuple[int, str]], slack: SlackStandIn) -> list[str]:
    posted = "\n".join(slack.texts_in(TIPS_CHANNEL_ID))
    return [reference for _, reference in stored if reference not in posted]


async def _alert_deliveries(engine: AsyncEngine) -> list[tuple[int, str, str]]:
    """(chat, headline, state) of every alert delivery to Telegram."""
    query = (
        sa.select(deliveries.c.address, alerts.c.headline, deliveries.c.state)
        .select_from(
            deliveries.join(messages, deliveries.c.message_id == messages.c.id).join(
                alerts, messages.c.alert_id == alerts.c.id
            )
        )
        .where(deliveries.c.address.like("telegram:%"))
    )
    async with engine.connect() as conn:
        return [
            (int(address.split(":", 1)[1]), headline, state)
            for address, headline, state in (await conn.execute(query)).all()
        ]


async def _figures(
    engine: AsyncEngine,
    telegram: TelegramStandIn,
    slack: SlackStandIn,
    side: TelegramSide,
    serve: ServeProcess,
    readiness: _Readiness,
    timeline: Timeline,
    database_fault: DatabaseFault | None,
    conversations: list[TipConversation],
    postcodes: list[PostcodeTry],
    clock: Clock,
    settled: bool,
    chatted: int,
) -> dict[str, Any]:
    expected = await _alert_deliveries(engine)
    received = _alerts_received(telegram)
    duplicates = sum(n - 1 for n in received.values() if n > 1)
    missing = sum(1 for chat, headline, _ in expected if (chat, headline) not in received)
    not_sent = sum(1 for *_, state in expected if state != "sent")
    stored = await _stored_tips(engine)
    stored_numbers = Counter(number for number, _ in stored)
    submitted = [c for c in conversations if c.submitted]
    tips_lost = sum(1 for c in submitted if c.number not in stored_numbers)
    not_in_slack = len(_tips_missing_in_slack(stored, slack))
    stalled = [c for c in conversations if c.stalled_at]
    during = [p for p in postcodes if p.while_timing_out]
    after = [p for p in postcodes if not p.while_timing_out]
    answers = side.answers
    alive_at_end = serve.alive
    ready_at_end = await _ready(side.client, serve)
    exit_code = serve.stop()
    log = serve.log()
    locked = log.count(LOCKED) + answers.locked
    figures: dict[str, Any] = {
        "faults": [vars(i) for i in timeline.injected],
        "alerts": len({headline for _, headline, _ in expected}),
        "deliveries_expected": len(expected),
        "deliveries_sent": len(expected) - not_sent,
        "deliveries_not_sent": not_sent,
        "receiver_duplicates": duplicates,
        "receiver_missing": missing,
        "settled_after_s": round(clock.now(), 1) if settled else None,
        "tip_conversations": len(conversations),
        "tips_submitted": len(submitted),
        "tips_stored": len(stored_numbers),
        "tips_stored_twice": sum(1 for n in stored_numbers.values() if n > 1),
        "tips_in_slack": len(stored) - not_in_slack,
        "tips_acknowledged": sum(1 for c in conversations if c.acknowledged),
        "conversations_left_in_silence": len(stalled),
        "silent_after": dict(Counter(c.stalled_at for c in stalled)),
        "webhook_updates": answers.updates,
        "webhook_answers": dict(sorted(answers.statuses.items())),
        "webhook_updates_retried": answers.retried,
        "webhook_updates_given_up": answers.gave_up,
        "webhook_failed_then_ignored": answers.failed_then_ignored,
        "chatter_messages": chatted,
        "postcodes_typed_while_geocoder_timed_out": len(during),
        "polite_geocoder_answers": sum(1 for p in during if p.answer == "polite"),
        "slowest_geocoder_answer_s": max((p.seconds for p in during if p.seconds is not None), default=None),
        "postcodes_typed_again_after": len(after),
        "places_found_after": sum(1 for p in after if p.answer == "place"),
        "serve_alive": alive_at_end and readiness.died_at is None,
        "readyz_at_end": ready_at_end,
        "serve_exit_code": exit_code,
        "serve_log_tracebacks": log.count("Traceback (most recent call last)"),
        "database_is_locked": locked,
        "serve_log": str(serve.log_path),
    }
    if database_fault is not None and database_fault.started_s is not None:
        figures.update(_recovery(database_fault, readiness, telegram, clock))
    figures["lost"] = _lost(figures, tips_lost, stalled)
    return figures


def _alerts_received(telegram: TelegramStandIn) -> Counter[tuple[int, str]]:
    """How many times each resident was given each alert, as the Telegram stand-in recorded it."""
    received: Counter[tuple[int, str]] = Counter()
    for record in list(telegram.sent):
        for headline in (MAIN_HEADLINE, SCHEDULED_HEADLINE):
            if headline in record.visible:
                received[(record.chat_id, headline)] += 1
    return received


def _recovery(fault: DatabaseFault, readiness: _Readiness, telegram: TelegramStandIn, clock: Clock) -> dict[str, Any]:
    started, done = fault.started_s or 0.0, fault.done_s or 0.0
    ready = readiness.ready_again(started)
    # The fan-out's longest silence from just before the fault until well after it: how long sending stopped.
    arrivals = sorted(r.at - clock.zero for r in list(telegram.sent) if MAIN_HEADLINE in r.visible)
    window = [t for t in arrivals if started - 1.0 <= t <= done + 30.0]
    gap_start, gap_end = max(itertools.pairwise(window), key=lambda pair: pair[1] - pair[0], default=(started, started))
    return {
        "postgres_fault": fault.description,
        "postgres_fault_seconds": round(done - started, 2),
        "readyz_unavailable_s": readiness.unready_seconds(started),
        "readyz_200_again_after_s": round(ready - started, 2) if ready is not None else None,
        "deliveries_paused_s": round(gap_end - gap_start, 2),
        "deliveries_resumed_after_s": round(gap_end - started, 2),
    }


def _lost(figures: dict[str, Any], tips_lost: int, stalled: list[TipConversation]) -> list[str]:
    """What did not survive, in words; empty when nothing was lost."""
    checks = [
        (2 - figures["alerts"], "scheduled alert never sent by the scheduler"),
        (figures["deliveries_not_sent"], "alert deliveries not sent"),
        (figures["receiver_missing"], "alerts never received"),
        (figures["receiver_duplicates"], "alerts received twice"),
        (tips_lost, "tips accepted but not stored"),
        (figures["tips_stored_twice"], "tips stored twice"),
        (figures["tips_stored"] - figures["tips_in_slack"], "tips not posted to Slack"),
        (len(stalled), "conversations left in silence"),
        (figures["webhook_updates_given_up"], "updates Telegram would have given up on"),
        (figures["webhook_failed_then_ignored"], "failed updates ignored on retry"),
        (
            figures["postcodes_typed_while_geocoder_timed_out"] - figures["polite_geocoder_answers"],
            "postcodes answered with silence",
        ),
        (
            figures["postcodes_typed_again_after"] - figures["places_found_after"],
            "postcodes not found once the geocoder was back",
        ),
        (figures["database_is_locked"], '"database is locked" errors'),
        (int(not figures["serve_alive"]), "serve process died"),
        (int(not figures["readyz_at_end"]), "/readyz not 200 at the end"),
        (int(figures["settled_after_s"] is None), "deliveries or tips still unsettled at the deadline"),
    ]
    return [f"{count} {what}" for count, what in checks if count]


async def _ready(client: httpx.AsyncClient, serve: ServeProcess) -> bool:
    try:
        return (await client.get(f"{serve.url}/readyz", timeout=5)).status_code == 200
    except httpx.HTTPError:
        return False


async def _telegram_chats(engine: AsyncEngine) -> list[int]:
    async with engine.connect() as conn:
        addresses = (await conn.execute(sa.select(residents.c.address).order_by(residents.c.id))).scalars()
        return [int(a.split(":", 1)[1]) for a in addresses]


async def _empty(engine: AsyncEngine) -> None:
    """Every table emptied (the schema stays): a benchmark's database is its own."""
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # TRUNCATE is a table-level reset: the audit log's triggers refuse row-by-row deletes.
            await conn.exec_driver_sql(
                f"TRUNCATE {', '.join(t.name for t in metadata.sorted_tables)} RESTART IDENTITY CASCADE"
            )
            return
        await conn.execute(alerts.update().values(original_id=None))
        for table in reversed(metadata.sorted_tables):
            if table is not audit_log:  # append-only on SQLite too, and nothing refers to it
                await conn.execute(table.delete())
