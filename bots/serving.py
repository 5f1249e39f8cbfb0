"""Running Lookout's parts: the web app, the delivery worker and the scheduler.

``lookout serve`` runs all three in one process (the embedded default);
``--no-worker`` / ``--no-scheduler``, ``lookout worker`` and ``lookout
scheduler`` split them across processes sharing PostgreSQL.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator

import uvicorn

from bots.app import Lookout, build, create_app, describe_platforms
from bots.scheduler import LeaderScheduler
from core.errors import LookoutError
from core.settings import Settings
from storage.database import is_sqlite

logger = logging.getLogger("lookout")


class SchemaOutOfDate(LookoutError):
    pass


class WorkerAlreadyRunning(LookoutError):
    pass


class _Uvicorn(uvicorn.Server):
    """uvicorn without its own signal handling: the runner stops every part together."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def require_current_schema(lookout: Lookout) -> None:
    current, head = await lookout.schema_status()
    if current != head:
        state = "has no Lookout tables yet" if current is None else f"is at revision {current}"
        raise SchemaOutOfDate(
            f"The database schema {state}; this version of Lookout needs revision {head}. "
            "Run `lookout db upgrade` (with the same LOOKOUT_DATABASE_URL), then start again."
        )


async def run_parts(lookout: Lookout, *, web: bool, worker: bool, scheduler: bool, host: str = "127.0.0.1", port: int = 8000) -> None:
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
            leader = LeaderScheduler(lookout.lock("scheduler"), lookout.alerts, lookout.maintenance)
            tasks.append(asyncio.create_task(leader.run(), name="scheduler"))
            stoppers.append(leader.stop)
        if web:
            server = _Uvicorn(uvicorn.Config(create_app(lookout), host=host, port=port, log_level="info", lifespan="on"))
            tasks.append(asyncio.create_task(server.serve(), name="web"))
            stoppers.append(lambda: setattr(server, "should_exit", True))
            logger.info("serving %s on http://%s:%d", lookout.force.name, host, port)
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


def _on_signals(stop) -> None:  # noqa: ANN001 - a zero-argument callable
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)


def run_forever(settings: Settings, *, web: bool, worker: bool, scheduler: bool, host: str = "127.0.0.1", port: int = 8000) -> None:
    asyncio.run(run_parts(build(settings), web=web, worker=worker, scheduler=scheduler, host=host, port=port))
