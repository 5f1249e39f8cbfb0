"""Running Lookout's parts: the web app, the delivery worker and the scheduler.

``lookout serve`` runs all three in one process (the embedded default);
``--no-worker`` / ``--no-scheduler``, ``lookout worker`` and ``lookout
scheduler`` split them across processes sharing PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import gc
import logging
import signal
import socket
from collections.abc import Iterator

import uvicorn
import uvloop

from core.errors import LookoutError
from core.settings import Settings
from runtime.app import Lookout, build, create_app, describe_platforms
from runtime.scheduler import SCHEDULER_LOCK, LeaderScheduler
from storage.database import is_sqlite, sqlite_file

logger = logging.getLogger("lookout")

# Python's default (700, 10, 10) runs a young collection every 700 allocations: under webhook load
# that is thousands a second, and each older one stalls every request in flight. Fewer, larger
# collections, for a few MB more: the usual tuning for a long-running server.
GC_THRESHOLDS = (50_000, 20, 20)


class SchemaOutOfDate(LookoutError):
    pass


class WorkerAlreadyRunning(LookoutError):
    pass


class _Uvicorn(uvicorn.Server):
    """uvicorn without its own signal handling: the runner stops every part together."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def require_current_schema(lookout: Lookout, *, then: str = "start again") -> None:
    """Refuse a database whose schema is not the one this code needs, saying how to fix it.

    A SQLite file that does not exist is not opened (that would leave an empty file behind for the next command)."""
    path = sqlite_file(lookout.settings.database_url)
    if path is not None and not path.exists():
        raise SchemaOutOfDate(
            f"There is no database at {path} yet, so no Lookout tables. "
            f"Create it with `lookout db upgrade` (with the same LOOKOUT_DATABASE_URL), then {then}."
        )
    current, head = await lookout.schema_status()
    if current != head:
        state = "has no Lookout tables yet" if current is None else f"is at revision {current}"
        raise SchemaOutOfDate(
            f"The database schema {state}; this version of Lookout needs revision {head}. "
            f"Run `lookout db upgrade` (with the same LOOKOUT_DATABASE_URL), then {then}."
        )


async def run_parts(
    lookout: Lookout,
    *,
    web: bool,
    worker: bool,
    scheduler: bool,
    host: str = "127.0.0.1",
    port: int = 8000,
    reuse_port: bool = False,
) -> None:
    """Run the chosen parts until SIGINT/SIGTERM, then stop them cleanly."""
    worker_lock = lookout.lock("worker") if worker and is_sqlite(lookout.settings.database_url) else None
    try:
        await require_current_schema(lookout)
        if worker_lock is not None and not await worker_lock.try_acquire():
            raise WorkerAlreadyRunning(
                "Another delivery worker is already running on this SQLite database (SQLite supports one). "
                "Start this one with --no-worker, or use PostgreSQL to run several workers."
            )
        tasks: list[asyncio.Task[None]] = []
        stoppers = []
        if worker:
            delivery = lookout.worker()
            tasks.append(asyncio.create_task(delivery.run(), name="worker"))
            stoppers.append(delivery.stop)
        if scheduler:
            leader = LeaderScheduler(lookout.lock(SCHEDULER_LOCK), lookout.alerts, lookout.maintenance)
            tasks.append(asyncio.create_task(leader.run(), name="scheduler"))
            stoppers.append(leader.stop)
        if web:
            server = _Uvicorn(
                uvicorn.Config(
                    create_app(lookout),
                    host=host,
                    port=port,
                    lifespan="on",
                    # uvicorn's lines go through the app's handler at the app's level (runtime.logs): scrubbed, one format.
                    log_config=None,
                    log_level=None,
                )
            )
            sockets = [_shared_socket(host, port)] if reuse_port else None
            tasks.append(asyncio.create_task(server.serve(sockets=sockets), name="web"))
            stoppers.append(lambda: setattr(server, "should_exit", True))
            logger.info("serving %s on http://%s:%d", lookout.force.name, host, port)
        # Everything built so far (the app, routers, SQLAlchemy's tables, the locales) lives as long as the
        # process: out of the collector's sight, full collections under load stop walking it again and again.
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        parts = ", ".join(t.get_name() for t in tasks)
        logger.info("running %s; %s", parts, describe_platforms(lookout))
        _on_signals(lambda: [stop() for stop in stoppers])
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for stop in stoppers:  # one part failed or all were told to stop: stop the rest
            stop()
        await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            if task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        if worker_lock is not None:
            await worker_lock.release()
        await lookout.aclose()


# A clean stop takes a few seconds (the reply queue drains for up to 20 s); a process still alive well after
# that is stuck, and whoever has to kill it needs to know where: every thread's stack goes to stderr, the log.
STUCK_AFTER_STOP_S = 25


def _on_signals(stop) -> None:  # noqa: ANN001 - a zero-argument callable
    loop = asyncio.get_running_loop()

    def stopping() -> None:
        logger.info("stopping")
        faulthandler.dump_traceback_later(STUCK_AFTER_STOP_S, exit=False)
        stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping)


def _shared_socket(host: str, port: int) -> socket.socket:
    """A listening socket several web processes can open at once (SO_REUSEPORT): the kernel
    spreads new connections across them, so web processes scale out with no proxy in front."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def run_forever(
    settings: Settings,
    *,
    web: bool,
    worker: bool,
    scheduler: bool,
    host: str = "127.0.0.1",
    port: int = 8000,
    reuse_port: bool = False,
) -> None:
    # uvloop: the event loop in C. A web process spends much of each webhook in the loop itself
    # (sockets to the database and the platforms), and uvloop roughly halves that.
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(
            run_parts(
                build(settings),
                web=web,
                worker=worker,
                scheduler=scheduler,
                host=host,
                port=port,
                reuse_port=reuse_port,
            )
        )
