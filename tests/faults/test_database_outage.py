"""The database going away and coming back: storage says so plainly, the worker and the scheduler ride it out.

The outage is made by refusing every statement at the driver (the DB-API's own
``OperationalError``, as a dropped connection or a restarting server raises),
so this runs on SQLite and on a PostgreSQL shared with other test processes
without restarting anything.
"""

from __future__ import annotations

import asyncio
import logging

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from core.delivery.worker import DeliveryWorker, WorkerConfig
from core.geo.areas import CircleArea
from core.model import Address, Channel
from core.outages import Outage, StorageUnavailable
from core.outbound import DeliveryResult, OutboundMessage
from core.services.alerts import AlertRequest, AlertService
from core.services.roles import Roles
from runtime.scheduler import LeaderScheduler
from storage.tables import deliveries, residents
from tests.support.fakes import FakeAdapter
from tests.support.outages import RefusedStatements, eventually
from tests.support.residents import STAFFORD, add_residents, resident_at


async def test_storage_reports_an_outage_as_unavailable_but_not_a_broken_constraint(engine, uow_factory) -> None:
    with RefusedStatements().installed(engine) as outage:
        outage.on = True
        for read_only in (False, True):
            with pytest.raises(StorageUnavailable, match="OperationalError"):
                async with uow_factory(read_only=read_only) as uow:
                    await uow.connection.execute(sa.select(1))
        outage.on = False

    (someone,) = await add_residents(uow_factory, resident_at(*STAFFORD))
    with pytest.raises(IntegrityError):  # a bug or a race, not an outage: it stays what it is
        async with uow_factory() as uow:
            await uow.connection.execute(
                sa.insert(residents).values(
                    channel="telegram",
                    address=str(someone.address),
                    language="en",
                    age_confirmed=True,
                    is_tester=False,
                    active=True,
                    created_at=sa.func.now(),
                )
            )


class _SwitchingAdapter(FakeAdapter):
    """A platform that takes the database down as its third message goes out."""

    def __init__(self, outage: RefusedStatements) -> None:
        super().__init__(Channel.TELEGRAM)
        self._outage = outage

    async def send(self, to: Address, message: OutboundMessage) -> DeliveryResult:
        if len(self.sent) == 2:
            self._outage.on = True
        return await super().send(to, message)


async def test_the_worker_rides_out_an_outage_losing_and_repeating_nothing(
    engine, uow_factory, force, caplog, clock
) -> None:
    people = await add_residents(uow_factory, *(resident_at(*STAFFORD) for _ in range(12)))
    service = AlertService(uow_factory, force, roles=Roles(), clock=clock)
    draft = await service.draft(
        AlertRequest(
            everyone=True,
            incident_number="MV-20261125-0456",
            headline="Burglary",
            message="Two men seen.",
            area=CircleArea(*STAFFORD, 500),
        ),
        "cli:test",
    )
    await service.send(draft.id, "cli:test")  # type: ignore[arg-type]

    caplog.set_level(logging.INFO, logger="lookout.worker")
    with RefusedStatements().installed(engine) as outage:
        adapter = _SwitchingAdapter(outage)
        worker = DeliveryWorker(
            uow_factory,
            {Channel.TELEGRAM: adapter},
            force_name=force.name,
            config=WorkerConfig(idle_poll=0.05),
            clock=clock,
        )
        running = asyncio.create_task(worker.run())
        try:
            await eventually(lambda: outage.refused >= 5, "the worker to keep trying while the database is away")
            assert not running.done()
            outage.on = False
            await eventually(lambda: _all_sent(engine, len(people)), "every delivery to be recorded as sent")
        finally:
            worker.stop()
            await running

    assert sorted(str(m.to) for m in adapter.sent) == sorted(
        str(p.address) for p in people
    )  # each once: none lost, none twice
    worker_lines = [r for r in caplog.records if r.name == "lookout.worker"]
    assert [r.levelname for r in worker_lines if "database" in r.getMessage()] == ["WARNING", "INFO"]  # gone, back
    assert not [r for r in worker_lines if r.levelno >= logging.ERROR]  # no traceback per retry


async def _all_sent(engine: AsyncEngine, expected: int) -> bool:
    async with engine.connect() as conn:
        query = sa.select(sa.func.count()).select_from(deliveries).where(deliveries.c.state == "sent")
        return (await conn.execute(query)).scalar_one() == expected


class _HeldRecording:
    """A unit-of-work factory whose recording of delivery outcomes waits until ``released``: a stop can land
    while the worker's flusher is inside its transaction."""

    def __init__(self, factory) -> None:
        self._factory = factory
        self.recording = asyncio.Event()
        self.released = asyncio.Event()

    def __call__(self, **kwargs: object):
        held = self
        inner = self._factory(**kwargs)

        class _Held:
            async def __aenter__(self):
                uow = await inner.__aenter__()
                record = uow.deliveries.record

                async def held_record(*args: object) -> None:
                    held.recording.set()
                    await held.released.wait()
                    await record(*args)

                uow.deliveries.record = held_record
                return uow

            async def __aexit__(self, *exc: object) -> None:
                await inner.__aexit__(*exc)

        return _Held()


async def test_a_worker_stopped_mid_flush_still_records_what_it_sent(engine, uow_factory, force, clock) -> None:
    # Cancelled mid-flush, the batch was lost: its rows stayed leased and went out again after the lease (twice).
    people = await add_residents(uow_factory, *(resident_at(*STAFFORD) for _ in range(3)))
    service = AlertService(uow_factory, force, roles=Roles(), clock=clock)
    draft = await service.draft(
        AlertRequest(
            everyone=True,
            incident_number="MV-20261125-0457",
            headline="Burglary",
            message="Two men seen.",
            area=CircleArea(*STAFFORD, 500),
        ),
        "cli:test",
    )
    await service.send(draft.id, "cli:test")  # type: ignore[arg-type]
    held = _HeldRecording(uow_factory)
    worker = DeliveryWorker(
        held,
        {Channel.TELEGRAM: FakeAdapter(Channel.TELEGRAM)},
        force_name=force.name,
        config=WorkerConfig(idle_poll=0.05),
        clock=clock,
    )
    running = asyncio.create_task(worker.run())
    await asyncio.wait_for(held.recording.wait(), 10)
    worker.stop()
    await asyncio.sleep(0.2)  # room for the stop to reach the flusher before the database answers
    held.released.set()
    await asyncio.wait_for(running, 10)
    assert await _all_sent(engine, len(people))


class _LockBehindAnOutage:
    """The scheduler's lock while the database restarts: refused twice, then granted."""

    name = "scheduler"

    def __init__(self) -> None:
        self.refusals = 2

    async def try_acquire(self) -> bool:
        if self.refusals:
            self.refusals -= 1
            raise StorageUnavailable("OperationalError: the database system is starting up")
        return True

    async def still_held(self) -> bool:
        return True

    async def release(self) -> None:
        return None


class _Jobs:
    """Alert and maintenance services whose jobs count their runs; the first run of each finds the database away."""

    def __init__(self) -> None:
        self.runs = 0

    async def _job(self, *_args: object) -> None:
        self.runs += 1
        if self.runs == 1:
            raise StorageUnavailable("OperationalError: server closed the connection unexpectedly")

    send_due_scheduled = expire_due = sweep_stale_leases = release_quiet_holds = purge_expired_data = _job


async def test_the_scheduler_stands_by_through_an_outage_then_leads(caplog) -> None:
    caplog.set_level(logging.INFO, logger="lookout.scheduler")
    jobs = _Jobs()
    scheduler = LeaderScheduler(_LockBehindAnOutage(), jobs, jobs)  # type: ignore[arg-type]
    running = asyncio.create_task(scheduler.run())
    try:
        await eventually(lambda: jobs.runs >= 2, "the scheduler to lead and run its jobs")
        assert scheduler.leading and not running.done()
    finally:
        scheduler.stop()
        await running  # ends cleanly: the outage never escaped

    messages = [r.getMessage() for r in caplog.records if r.name == "lookout.scheduler"]
    assert sum("database is unavailable" in m for m in messages) == 2  # once while standing by, once for the failed job
    assert any("database is back" in m for m in messages)
    assert not [r for r in caplog.records if r.name == "lookout.scheduler" and r.levelno >= logging.ERROR]


def test_an_outage_is_said_once_and_the_pause_grows_with_it_not_with_the_failures(caplog) -> None:
    now = [100.0]
    outage = Outage(logging.getLogger("lookout.test"), "worker", clock=lambda: now[0])
    caplog.set_level(logging.INFO, logger="lookout.test")
    for _ in range(50):  # every send in flight fails at once
        outage.failed(StorageUnavailable("OperationalError: connection refused"))
    assert outage.backoff() == 0.5
    now[0] += 3.0
    assert outage.backoff() == 1.5
    now[0] += 60.0
    assert outage.backoff() == 2.0
    outage.recovered(outage.try_began())
    outage.recovered(outage.try_began())
    assert [r.getMessage() for r in caplog.records] == [
        "worker: the database is unavailable (OperationalError: connection refused); retrying until it answers",
        "worker: the database is back after 63.0 s (50 failed tries); carrying on",
    ]


def test_a_try_begun_before_the_database_went_is_not_taken_for_its_return(caplog) -> None:
    now = [100.0]
    outage = Outage(logging.getLogger("lookout.test"), "worker", clock=lambda: now[0])
    caplog.set_level(logging.INFO, logger="lookout.test")
    flush_began = outage.try_began()  # a flush whose statements ran just before the outage
    now[0] += 0.1
    outage.failed(StorageUnavailable("OperationalError: server closed the connection unexpectedly"))  # a send's
    outage.recovered(flush_began)  # the flush's answer, read after the send's failure
    assert outage.ongoing
    now[0] += 1.0
    outage.recovered(outage.try_began())
    assert not outage.ongoing
    assert [r.levelname for r in caplog.records] == ["WARNING", "INFO"]


class _HeldLock:
    name = "scheduler"

    async def try_acquire(self) -> bool:
        return True

    async def still_held(self) -> bool:
        return True

    async def release(self) -> None:
        return None


class _SlowJobs:
    """Services whose one job is inside its transaction (awaiting the database, as a real one does) when the
    scheduler is told to stop; ``hang`` keeps it there for good."""

    def __init__(self, *, hang: bool = False) -> None:
        self.started = asyncio.Event()
        self.hang = hang
        self.finished = self.cancelled = False

    async def send_due_scheduled(self, *_args: object) -> None:
        self.started.set()
        try:
            await asyncio.sleep(3600 if self.hang else 0.5)
            self.finished = True
        except asyncio.CancelledError:
            await asyncio.sleep(0.3)  # the rollback
            self.cancelled = True
            raise

    async def _idle(self, *_args: object) -> None:
        return None

    expire_due = sweep_stale_leases = release_quiet_holds = purge_expired_data = _idle


async def test_a_stopped_scheduler_lets_its_running_job_finish_before_it_returns() -> None:
    # The process closes its engine as soon as the scheduler returns: no job may still hold a connection then
    # (on SQLite a connection's thread left open keeps the process from exiting), and a job cancelled at once
    # could be cut off while the pool rolls its connection back (a broken connection, a traceback in the log).
    jobs = _SlowJobs()
    scheduler = LeaderScheduler(_HeldLock(), jobs, jobs)  # type: ignore[arg-type]
    running = asyncio.create_task(scheduler.run())
    await asyncio.wait_for(jobs.started.wait(), 10)
    scheduler.stop()
    await asyncio.wait_for(running, 10)
    assert jobs.finished and not jobs.cancelled and not scheduler.leading


async def test_a_job_that_will_not_finish_is_cancelled_and_rolled_back_before_the_scheduler_returns(
    monkeypatch,
) -> None:
    monkeypatch.setattr("runtime.scheduler.JOB_FINISH_S", 0.5)  # longer than the rollback below
    jobs = _SlowJobs(hang=True)
    scheduler = LeaderScheduler(_HeldLock(), jobs, jobs)  # type: ignore[arg-type]
    running = asyncio.create_task(scheduler.run())
    await asyncio.wait_for(jobs.started.wait(), 10)
    scheduler.stop()
    await asyncio.wait_for(running, 10)
    assert jobs.cancelled and not jobs.finished and not scheduler.leading
