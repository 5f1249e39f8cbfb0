"""``lookout bench cluster``: the production shape as separate processes, and parts of it killed mid fan-out.

Six OS processes share one PostgreSQL, as a deployment runs them: two web
processes on one port (``lookout serve --no-worker --no-scheduler
--reuse-port``), two ``lookout worker`` and two ``lookout scheduler``. The
platforms are the sandbox's stand-ins in this process (Telegram and Nominatim).
The drill seeds ``residents`` Telegram residents (the synthetic population
the demo and the benchmarks use), sends them an alert and schedules a second,
smaller one; while the first fans out at Telegram's pace, residents write
``/help`` to the webhook (this process plays Telegram, retries and all), and,
at fixed shares of the expected fan-out time:

    20%  ``kill -9`` one worker (its leased rows return when their lease ends)
    35%  ``kill -9`` the leading scheduler (the scheduled alert falls due just after)
    50%  ``kill -9`` one web process (the other keeps the port)
    65%  PostgreSQL stopped, left down a few seconds, started again

Then it checks that nothing was lost: every delivery row ``sent``; each resident
given each alert, at most one duplicate per row leased at the worker's kill;
the scheduled alert sent by the standby that took over; every update answered
2xx in the end (5xx only while PostgreSQL was down, and no retry of a failed
update answered "already handled"); ``/readyz`` 200 again. ``lost`` lists what
did not survive; the command exits 1 if it is not empty.

Without ``database_url`` the drill runs on a PostgreSQL server of its own
(``private_postgres``), so restarting it disturbs no one. With one, it works in
a schema of its own (``lookout_bench_cluster``) and restarts the local cluster
serving that URL (``pg_ctlcluster``): every session on it is cut off.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from benchmarks.fanout import CENTRE, FORCE_CONFIG, OFFICER, SUPERVISOR
from benchmarks.fault_residents import chatter
from benchmarks.fault_timeline import Clock
from benchmarks.faults import _empty, _own_schema, _telegram_chats
from benchmarks.postgres_cluster import local_cluster, restart
from benchmarks.private_postgres import PrivatePostgres
from benchmarks.telegram_side import TelegramSide
from core.clock import utc_now
from core.delivery.ratelimit import HEADROOM
from core.errors import LookoutError
from core.force import load_force_config
from core.geo.areas import CircleArea
from core.services.alerts import AlertRequest, AlertService
from core.services.roles import Roles
from runtime.population import build_population
from runtime.scheduler import SCHEDULER_LOCK
from sandbox.nominatim import NominatimStandIn
from sandbox.telegram import TelegramLimits, TelegramStandIn
from storage.database import make_async_engine
from storage.locks import advisory_key
from storage.migrate import upgrade
from storage.tables import alerts, deliveries, messages
from storage.uow import unit_of_work_factory

TOKEN = "123456:CLUSTER"
SECRET = "bench-cluster-secret-0123456789"
SCHEMA = "lookout_bench_cluster"
APPLICATION = "lookout-drill"  # each process's sessions are named after it: lookout-drill-worker-1, …
MAIN_HEADLINE = "Missing person: please look out"
SCHEDULED_HEADLINE = "Update: search extended to the canal path"
TELEGRAM_PACE = 30 * HEADROOM  # what the workers keep to together (Telegram's free broadcast limit, less headroom)
LEASE_S = 15.0  # LOOKOUT_WORKER_LEASE_SECONDS for the drill (default 60): a killed worker's rows come back sooner
POSTGRES_DOWN_S = 3.0  # how long the private server stays down (a local cluster is just restarted)
GRACE_AFTER_RESTART_S = 3.0  # a 5xx up to this long after the database is back still counts as "while it was down"
KILLS = {"worker": 0.20, "scheduler": 0.35, "web": 0.50, "postgres": 0.65}  # shares of the expected fan-out time
SCHEDULED_AFTER_KILL_S = 2.0
OPEN_STATES = ("pending", "sending", "failed")
_PLATFORM_PREFIXES = ("LOOKOUT_", "TELEGRAM_", "SLACK_", "WHATSAPP_", "SMS_")


@dataclass
class Part:
    """One OS process of the deployment."""

    name: str  # web-1, worker-2, scheduler-1, …
    argv: list[str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    killed_at: float | None = None  # monotonic

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class Deployment:
    """The six processes, each with its own log and its own ``application_name`` towards PostgreSQL."""

    def __init__(self, settings: dict[str, str], folder: Path, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._base = {k: v for k, v in os.environ.items() if not k.startswith(_PLATFORM_PREFIXES)}
        self._settings = {**settings, "LOOKOUT_PUBLIC_URL": self.url}
        lookout = [sys.executable, "-m", "runtime.cli"]
        web = [*lookout, "serve", "--no-worker", "--no-scheduler", "--reuse-port", "--port", str(port)]
        self.parts = [Part(f"web-{n}", web, folder / f"web-{n}.log") for n in (1, 2)]
        self.parts += [Part(f"worker-{n}", [*lookout, "worker"], folder / f"worker-{n}.log") for n in (1, 2)]
        self.parts += [Part(f"scheduler-{n}", [*lookout, "scheduler"], folder / f"scheduler-{n}.log") for n in (1, 2)]

    def part(self, name: str) -> Part:
        return next(p for p in self.parts if p.name == name)

    def start(self) -> None:
        for part in self.parts:
            env = {**self._base, **self._settings}
            url = env["LOOKOUT_DATABASE_URL"]
            env["LOOKOUT_DATABASE_URL"] = (
                make_url(url)
                .update_query_dict({"application_name": f"{APPLICATION}-{part.name}"})
                .render_as_string(hide_password=False)
            )
            with part.log_path.open("wb") as log:  # the child holds its own copy
                part.process = subprocess.Popen(part.argv, env=env, stdout=log, stderr=subprocess.STDOUT)

    def kill(self, name: str) -> None:
        part = self.part(name)
        assert part.process is not None
        part.process.send_signal(signal.SIGKILL)
        part.process.wait(timeout=30)
        part.killed_at = time.monotonic()

    def dead_unexpectedly(self) -> list[str]:
        return [p.name for p in self.parts if not p.alive and p.killed_at is None]

    def stop(self) -> dict[str, int | None]:
        """SIGTERM to every survivor (a clean stop), then each exit code (None: killed by the drill)."""
        for part in self.parts:
            if part.alive:
                part.process.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
        codes: dict[str, int | None] = {}
        for part in self.parts:
            if part.process is None or part.killed_at is not None:
                codes[part.name] = None
                continue
            try:
                codes[part.name] = part.process.wait(timeout=45)
            except subprocess.TimeoutExpired:
                part.process.kill()
                codes[part.name] = part.process.wait(timeout=10)
        return codes


@dataclass
class Database:
    """The database the drill runs on, and how it is restarted (blocking): (stopped, back) monotonic times."""

    url: str
    description: str
    schema: str
    restart: Callable[[], tuple[float, float]]


@contextmanager
def _database(database_url: str | None) -> Iterator[Database]:
    if database_url is None:
        with PrivatePostgres() as server:
            yield Database(
                server.url,
                f"a private PostgreSQL on port {server.port}",
                "public",
                lambda: server.restart(POSTGRES_DOWN_S),
            )
        return
    if not database_url.startswith("postgresql"):
        raise LookoutError(
            "The cluster drill runs on PostgreSQL: several processes share it. Give a postgresql+psycopg:// URL, "
            "or none for a private server."
        )
    cluster = local_cluster(database_url)
    if cluster is None:
        raise LookoutError(
            "No PostgreSQL cluster on this machine serves that URL (pg_lsclusters), so it cannot be restarted. "
            "Leave out --database-url: the drill then starts a private server of its own."
        )

    def restart_cluster() -> tuple[float, float]:
        started = time.monotonic()
        restart(cluster)
        return started, time.monotonic()

    yield Database(_own_schema(database_url), f"PostgreSQL {cluster.version}/{cluster.name}", SCHEMA, restart_cluster)


@dataclass
class Leaders:
    """Which scheduler holds the lock, sampled five times a second from ``pg_locks``."""

    samples: list[tuple[float, str | None]] = field(default_factory=list)  # (monotonic, part name or None)


async def run_cluster_drill(
    *, database_url: str | None, residents: int = 5_000, say: Callable[[str], None] = lambda _: None
) -> dict[str, Any]:
    force = load_force_config(FORCE_CONFIG)
    with tempfile.TemporaryDirectory(prefix="lookout-cluster-") as folder, _database(database_url) as database:
        upgrade(database.url)
        engine = make_async_engine(database.url)
        try:
            await _empty(engine)
            say(f"seeding {residents:,} residents on {database.description}")
            await build_population(
                engine,
                residents=residents,
                centre=CENTRE,
                radius_m=900,
                resolution=force.resolution,
                seed=29,
                topics=["all"],
                sectors=[],
                telegram_share=1.0,
            )
            chats = await _telegram_chats(engine)
            with (
                TelegramStandIn(TOKEN, limits=TelegramLimits(per_bot_per_second=None)) as telegram,
                NominatimStandIn() as nominatim,
            ):
                settings = {
                    "LOOKOUT_DATABASE_URL": database.url,
                    "LOOKOUT_FORCE_CONFIG": str(FORCE_CONFIG),
                    "TELEGRAM_BOT_TOKEN": TOKEN,
                    "TELEGRAM_API_BASE": telegram.base_url,
                    "TELEGRAM_WEBHOOK_SECRET": SECRET,
                    "LOOKOUT_GEOCODER_DOMAIN": nominatim.domain,
                    "LOOKOUT_GEOCODER_SCHEME": "http",
                    "LOOKOUT_WORKER_LEASE_SECONDS": str(LEASE_S),
                }
                deployment = Deployment(settings, Path(folder), _free_port())
                deployment.start()
                try:
                    say("starting 2 web processes, 2 workers and 2 schedulers")
                    starting = time.monotonic()
                    await _until_up(engine, deployment, database.schema)
                    say(f"all six up in {time.monotonic() - starting:.0f} s")
                    httpx.post(
                        f"{telegram.base_url}/bot{TOKEN}/setWebhook",
                        data={"url": f"{deployment.url}/telegram/webhook", "secret_token": SECRET},
                        timeout=10,
                    ).raise_for_status()
                    figures = await _drill(engine, force, telegram, deployment, database, chats, say)
                finally:
                    exit_codes = deployment.stop()
                figures["exit_codes"] = exit_codes
                figures["tracebacks_in_logs"] = {
                    p.name: p.log().count("Traceback (most recent call last)") for p in deployment.parts
                }
                if figures["lost"]:
                    figures["logs_tail"] = {p.name: p.log()[-1500:] for p in deployment.parts}
        finally:
            await engine.dispose()
    return {"database": database.description, "residents": residents, **figures}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _until_up(engine: AsyncEngine, deployment: Deployment, schema: str, timeout: float = 180.0) -> None:
    """Every process up: the web port answers /readyz 200, each worker and scheduler has a session, one scheduler leads."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while True:
            dead = deployment.dead_unexpectedly()
            if dead:
                raise LookoutError(
                    f"{', '.join(dead)} did not start; its log:\n{deployment.part(dead[0]).log()[-3000:]}"
                )
            try:
                ready = (await client.get(f"{deployment.url}/readyz", timeout=2)).status_code == 200
            except httpx.HTTPError:
                ready = False
            try:
                sessions, leader = await _sessions(engine), await _leader(engine, schema)
            except sa.exc.SQLAlchemyError:
                sessions, leader = set(), None
            background = {p.name for p in deployment.parts if not p.name.startswith("web")}
            if ready and background <= sessions and leader is not None:
                # Both web processes: each answers on its own connections, so a handful of fresh ones reach both.
                return
            if time.monotonic() > deadline:
                raise LookoutError(
                    f"the deployment did not come up in {timeout:.0f} s (ready {ready}, sessions {sorted(sessions)}, "
                    f"leader {leader})"
                )
            await asyncio.sleep(0.3)


async def _sessions(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        names = (
            await conn.execute(
                sa.text("SELECT application_name FROM pg_stat_activity WHERE application_name LIKE :p"),
                {"p": f"{APPLICATION}-%"},
            )
        ).scalars()
        return {name.removeprefix(f"{APPLICATION}-") for name in names}


async def _leader(engine: AsyncEngine, schema: str) -> str | None:
    """The part holding the scheduler's advisory lock, named by its session's application_name."""
    key = advisory_key(SCHEDULER_LOCK, schema)
    async with engine.connect() as conn:
        name = (
            await conn.execute(
                sa.text(
                    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                    " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
                    " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                    " AND l.classid::bigint = :high AND l.objid::bigint = :low"
                ),
                {"high": key >> 32, "low": key & 0xFFFFFFFF},
            )
        ).scalar_one_or_none()
    return name.removeprefix(f"{APPLICATION}-") if name else None


async def _watch_leaders(engine: AsyncEngine, schema: str, leaders: Leaders, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            leader = await _leader(engine, schema)
        except Exception:  # the database restarting: nobody can be seen to lead
            leader = None
        leaders.samples.append((time.monotonic(), leader))
        try:
            await asyncio.wait_for(stop.wait(), timeout=0.2)
        except TimeoutError:
            pass


async def _drill(
    engine: AsyncEngine,
    force: Any,
    telegram: TelegramStandIn,
    deployment: Deployment,
    database: Database,
    chats: list[int],
    say: Callable[[str], None],
) -> dict[str, Any]:
    fanout_s = len(chats) / TELEGRAM_PACE
    at = {what: max(1.0, share * fanout_s) for what, share in KILLS.items()}
    service = AlertService(
        unit_of_work_factory(engine, clock=utc_now),
        force,
        roles=Roles(supervisors=frozenset({SUPERVISOR})),
        clock=utc_now,
    )
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=100, keepalive_expiry=2.0)) as client:
        side = TelegramSide(telegram, client)
        leaders, stop_watching, stop_chatter = Leaders(), asyncio.Event(), asyncio.Event()
        queued = await _send_now(service)
        clock = Clock()
        await _schedule(service, datetime.now(UTC) + timedelta(seconds=at["scheduler"] + SCHEDULED_AFTER_KILL_S))
        say(
            f"  0.0 s  alert sent to {queued:,} residents (≈{fanout_s:.0f} s at Telegram's pace); "
            f"a second one scheduled for {at['scheduler'] + SCHEDULED_AFTER_KILL_S:.0f} s"
        )
        watching = asyncio.create_task(_watch_leaders(engine, database.schema, leaders, stop_watching))
        chatting = asyncio.create_task(chatter(side, chats, stop_chatter))
        events: dict[str, Any] = {}
        try:
            await clock.until(at["worker"])
            events["rows_leased_at_worker_kill"] = await _count(engine, ("sending",))
            deployment.kill("worker-1")
            events["worker_killed_at_s"] = round(clock.now(), 1)
            say(f"{clock.now():5.1f} s  kill -9 worker-1 ({events['rows_leased_at_worker_kill']} rows leased)")
            await clock.until(at["scheduler"])
            leader = leaders.samples[-1][1] if leaders.samples else None
            if leader is None:
                leader = await _leader(engine, database.schema)
            events["leader_killed"] = leader
            if leader is not None:
                deployment.kill(leader)
            events["scheduler_killed_at_s"] = round(clock.now(), 1)
            say(f"{clock.now():5.1f} s  kill -9 {leader} (the leading scheduler)")
            await clock.until(at["web"])
            deployment.kill("web-1")
            events["web_killed_at_s"] = round(clock.now(), 1)
            say(f"{clock.now():5.1f} s  kill -9 web-1")
            await clock.until(at["postgres"])
            say(f"{clock.now():5.1f} s  PostgreSQL: restart ({database.description})")
            stopped, back = await asyncio.to_thread(database.restart)
            events["postgres_stopped_at_s"], events["postgres_back_at_s"] = (
                round(stopped - clock.zero, 1),
                round(back - clock.zero, 1),
            )
            say(f"{clock.now():5.1f} s  PostgreSQL back after {back - stopped:.1f} s")
            say(f"{clock.now():5.1f} s  waiting for every delivery to settle")
            settled = await _settle(engine, clock, deadline_s=fanout_s * 1.5 + LEASE_S + 60)
        finally:
            stop_chatter.set()
            chatted = await chatting
            stop_watching.set()
            await watching
        ready = await _ready(client, deployment)
        figures = await _figures(
            engine, telegram, side, deployment, leaders, events, clock, stopped, back, settled, chatted, ready
        )
    return figures


async def _send_now(service: AlertService) -> int:
    draft = await service.draft(
        AlertRequest(
            everyone=True,
            incident_number="MV-20261202-0101",
            headline=MAIN_HEADLINE,
            message="Please look out for a man of 78 in a green coat, last seen near the market.",
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
            incident_number="MV-20261202-0102",
            headline=SCHEDULED_HEADLINE,
            message="Volunteers are searching the canal path; please check sheds and garages.",
            area=CircleArea(*CENTRE, 300),
        ),
        OFFICER,
    )
    await service.approve(draft.id, SUPERVISOR)  # type: ignore[arg-type]
    await service.schedule(draft.id, OFFICER, at)  # type: ignore[arg-type]


async def _count(engine: AsyncEngine, states: tuple[str, ...]) -> int:
    async with engine.connect() as conn:
        query = sa.select(sa.func.count()).select_from(deliveries).where(deliveries.c.state.in_(states))
        return (await conn.execute(query)).scalar_one()


async def _settle(engine: AsyncEngine, clock: Clock, *, deadline_s: float) -> bool:
    """Until both alerts are out and no delivery is still to be tried; False at the deadline."""
    while clock.now() < deadline_s:
        try:
            async with engine.connect() as conn:
                scheduled_waiting = (
                    await conn.execute(
                        sa.select(sa.func.count()).select_from(alerts).where(alerts.c.state == "scheduled")
                    )
                ).scalar_one()
            if not scheduled_waiting and not await _count(engine, OPEN_STATES):
                return True
        except Exception:  # this process's own connections dropped with the restart: look again
            pass
        await asyncio.sleep(0.5)
    return False


async def _ready(client: httpx.AsyncClient, deployment: Deployment) -> bool:
    try:
        return (await client.get(f"{deployment.url}/readyz", timeout=5)).status_code == 200
    except httpx.HTTPError:
        return False


async def _alert_deliveries(engine: AsyncEngine) -> list[tuple[int, str, str]]:
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


def _first(samples: list[tuple[float, str | None]], since: float, wanted: Callable[[str | None], bool]) -> float | None:
    return next((t for t, leader in samples if t >= since and wanted(leader)), None)


async def _figures(
    engine: AsyncEngine,
    telegram: TelegramStandIn,
    side: TelegramSide,
    deployment: Deployment,
    leaders: Leaders,
    events: dict[str, Any],
    clock: Clock,
    stopped: float,
    back: float,
    settled: bool,
    chatted: int,
    ready: bool,
) -> dict[str, Any]:
    expected = await _alert_deliveries(engine)
    received: Counter[tuple[int, str]] = Counter()
    for record in list(telegram.sent):
        for headline in (MAIN_HEADLINE, SCHEDULED_HEADLINE):
            if headline in record.visible:
                received[(record.chat_id, headline)] += 1
    duplicates = sum(n - 1 for n in received.values() if n > 1)
    missing = sum(1 for chat, headline, _ in expected if (chat, headline) not in received)
    not_sent = sum(1 for *_, state in expected if state != "sent")
    killed = deployment.part(events["leader_killed"]).killed_at if events.get("leader_killed") else None
    took_over = (
        _first(leaders.samples, killed, lambda name: name is not None and name != events["leader_killed"])
        if killed
        else None
    )
    leading_again = _first(leaders.samples, back, lambda name: name is not None)
    answers = side.answers
    outage = (stopped, back + GRACE_AFTER_RESTART_S)
    server_errors = [(t, status) for t, status in answers.log if status.startswith("5")]
    outside = sum(1 for t, _ in server_errors if not outage[0] <= t <= outage[1])
    figures: dict[str, Any] = {
        "alerts": len({headline for _, headline, _ in expected}),
        "deliveries_expected": len(expected),
        "deliveries_sent": len(expected) - not_sent,
        "deliveries_not_sent": not_sent,
        "receiver_missing": missing,
        "receiver_duplicates": duplicates,
        **events,
        "duplicates_allowed": events.get("rows_leased_at_worker_kill", 0),
        "scheduler_failover_s": round(took_over - killed, 1) if took_over and killed else None,
        "new_leader": next((name for t, name in leaders.samples if took_over and t == took_over), None),
        "postgres_down_s": round(back - stopped, 1),
        "scheduler_leading_again_after_restart_s": round(leading_again - stopped, 1) if leading_again else None,
        "settled_after_s": round(clock.now(), 1) if settled else None,
        "webhook_updates": answers.updates,
        "webhook_answers": dict(sorted(answers.statuses.items())),
        "webhook_5xx_while_postgres_down": len(server_errors) - outside,
        "webhook_5xx_otherwise": outside,
        "webhook_5xx_at_s": [round(t - clock.zero, 1) for t, _ in server_errors],
        "webhook_updates_redelivered": answers.retried,
        "webhook_updates_given_up": answers.gave_up,
        "webhook_failed_then_ignored": answers.failed_then_ignored,
        "chatter_messages": chatted,
        "processes_died_unasked": deployment.dead_unexpectedly(),
        "readyz_at_end": ready,
    }
    figures["lost"] = _lost(figures)
    return figures


def _lost(figures: dict[str, Any]) -> list[str]:
    """What did not survive, in words; empty when nothing was lost."""
    checks = [
        (2 - figures["alerts"], "scheduled alert never sent"),
        (figures["deliveries_not_sent"], "alert deliveries not sent"),
        (figures["receiver_missing"], "alerts never received"),
        (
            max(0, figures["receiver_duplicates"] - figures["duplicates_allowed"]),
            "duplicates beyond one per row in flight at the kill",
        ),
        (int(figures["scheduler_failover_s"] is None), "no standby scheduler took over"),
        (int(figures["scheduler_leading_again_after_restart_s"] is None), "no scheduler leading after the restart"),
        (figures["webhook_5xx_otherwise"], "webhook 5xx answers while PostgreSQL was up"),
        (figures["webhook_updates_given_up"], "updates Telegram would have given up on"),
        (figures["webhook_failed_then_ignored"], "failed updates ignored on redelivery"),
        (len(figures["processes_died_unasked"]), "processes died without being killed"),
        (int(not figures["readyz_at_end"]), "/readyz not 200 at the end"),
        (int(figures["settled_after_s"] is None), "deliveries still unsettled at the deadline"),
    ]
    return [f"{count} {what}" for count, what in checks if count]
