"""The scheduler: APScheduler 3 in exactly one process, elected by a lock.

Every process that runs a scheduler (``lookout serve`` or ``lookout
scheduler``) tries the lock; the holder runs the jobs, the others stand by
and try again every few seconds, so when the holder dies another takes over.
Jobs only write rows; the delivery worker sends. While the database is away
(a restart) the scheduler stands by and says so once; it never stops the
process it runs in.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from core.outages import Outage, StorageUnavailable
from core.services.alerts import AlertService
from core.services.maintenance import MaintenanceService
from storage.locks import ProcessLock

logger = logging.getLogger("lookout.scheduler")

SCHEDULER_LOCK = "scheduler"  # the lock whose holder leads (and whose holders /metrics counts)
STANDBY_RETRY_S = 5.0
# How often the leader checks its lock's connection (one SELECT 1): a leader whose connection dropped (the database
# restarted) may have lost the lock to a standby, and must not run jobs beside it for long.
LOCK_CHECK_S = 2.0
# Leading ends (a stop, a lost lock) with jobs maybe still running: they are given this long to finish, then
# APScheduler's shutdown cancels what is left (each job is one transaction, rolled back; the next leader runs it
# again) and the rollbacks as long again. Not cancelling at once matters: a cancel that lands while the pool rolls
# a returned connection back breaks that connection as the process closes its engine.
JOB_FINISH_S = 10.0
# A scheduled alert later than this (Lookout was down) is flagged, not sent blind.
SCHEDULE_GRACE = timedelta(minutes=30)


def _job_intervals(
    alerts: AlertService, maintenance: MaintenanceService
) -> list[tuple[str, Callable[[], Awaitable[object]], float]]:
    return [
        ("send scheduled alerts", lambda: alerts.send_due_scheduled(SCHEDULE_GRACE), 5),
        ("expire alerts", alerts.expire_due, 30),
        ("sweep stale leases", maintenance.sweep_stale_leases, 30),
        ("release quiet-hour holds", maintenance.release_quiet_holds, 60),
        ("purge expired data", maintenance.purge_expired_data, 3600),
    ]


class LeaderScheduler:
    def __init__(self, lock: ProcessLock, alerts: AlertService, maintenance: MaintenanceService) -> None:
        self._lock = lock
        self._jobs = _job_intervals(alerts, maintenance)
        self._stopping = asyncio.Event()
        self._running_jobs: set[asyncio.Task[None]] = set()
        self.leading = False

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        """Stand by until the lock is ours, lead until it is lost or we stop, repeat."""
        announced_standby = False
        outage = Outage(logger, "scheduler")
        try:
            while not self._stopping.is_set():
                began = outage.try_began()
                try:
                    acquired = await self._lock.try_acquire()
                except StorageUnavailable as exc:
                    outage.failed(exc)
                    await self._wait(outage.backoff())
                    continue
                except Exception:  # a bug: say so, but a scheduler must never take the web and worker down with it
                    logger.exception("could not try the scheduler lock; trying again in %.0f s", STANDBY_RETRY_S)
                    await self._wait(STANDBY_RETRY_S)
                    continue
                outage.recovered(began)
                if acquired:
                    announced_standby = False
                    await self._lead()
                    # Leading ended with the lock's connection (the database restarted): the lock is most likely
                    # free again, so try at once rather than leave the jobs unrun for a standby's wait.
                    continue
                if not announced_standby:
                    logger.info("another scheduler holds the lock; standing by")
                    announced_standby = True
                await self._wait(STANDBY_RETRY_S)
        finally:
            await self._lock.release()

    async def _lead(self) -> None:
        scheduler = AsyncIOScheduler(
            # Set explicitly: a job late by under its grace still runs, and a
            # backlog of missed runs collapses into one (the jobs catch up by themselves).
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
        )
        first_run = datetime.now(UTC)  # each job runs once on taking over, then on its interval
        for name, job, seconds in self._jobs:
            scheduler.add_job(
                self._tracked(_logged(name, job)),
                "interval",
                seconds=seconds,
                id=name,
                name=name,
                next_run_time=first_run,
            )
        scheduler.start()
        self.leading = True
        logger.info("this process is the scheduler (%d jobs)", len(self._jobs))
        try:
            while not self._stopping.is_set():
                await self._wait(LOCK_CHECK_S)
                if not await self._lock.still_held():
                    logger.warning("lost the scheduler lock (database connection dropped); standing by")
                    break
        finally:
            scheduler.pause()  # no new runs; those under way finish
            await self._finish_running_jobs()
            scheduler.shutdown(wait=False)  # cancels any job still running after JOB_FINISH_S
            await self._finish_running_jobs()
            self.leading = False

    def _tracked(self, job: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            task = asyncio.current_task()
            assert task is not None  # APScheduler's asyncio executor runs each job as a task
            self._running_jobs.add(task)
            try:
                await job()
            finally:
                self._running_jobs.discard(task)

        return run

    async def _finish_running_jobs(self) -> None:
        """No job may outlive leading: one still running would hold a database connection while the process
        closes its engine on the way out (or run beside the next leader's)."""
        if self._running_jobs:
            await asyncio.wait(set(self._running_jobs), timeout=JOB_FINISH_S)

    async def _wait(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except TimeoutError:
            pass


def _logged(name: str, job: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        try:
            await job()
        except asyncio.CancelledError:
            # Shutting down mid-run: each job is one transaction, rolled back here and run again by the next leader.
            logger.info("scheduler job %r stopped by shutdown", name)
        except StorageUnavailable as exc:  # the database restarting: nothing was done; the next tick does it
            logger.warning("scheduler job %r skipped: the database is unavailable (%s)", name, exc)
        except Exception:  # a failed run is logged and retried on the next tick, never kills the scheduler
            logger.exception("scheduler job %r failed", name)

    return run
