"""Every delivery state transition, on fake adapters over real SQL (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from core.delivery.policy import RetryPolicy
from core.delivery.worker import DeliveryWorker
from core.geo.areas import CircleArea
from core.model import AlertState, Channel, DeliveryState, QuietHours
from core.outbound import DeliveryResult
from core.ports import Outcome
from core.services.alerts import AlertRequest, AlertService
from core.services.maintenance import MaintenanceService, RetentionPeriods
from core.services.roles import Roles
from storage.tables import deliveries, residents
from tests.support.clock import START, FakeClock
from tests.support.fakes import FakeAdapter
from tests.support.residents import STAFFORD, add_residents, resident_at

pytestmark = pytest.mark.calendar  # make test runs it again with the clock moved

OFFICER = "cli:test"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def telegram() -> FakeAdapter:
    return FakeAdapter(Channel.TELEGRAM)


@pytest.fixture
def service(uow_factory, force, clock) -> AlertService:
    return AlertService(uow_factory, force, roles=Roles(), clock=clock)


@pytest.fixture
def worker(uow_factory, force, telegram, clock) -> DeliveryWorker:
    return DeliveryWorker(
        uow_factory,
        {Channel.TELEGRAM: telegram},
        force_name=force.name,
        policy=RetryPolicy(max_attempts=3),
        clock=clock,
        monotonic=clock.monotonic,
    )


async def send_alert(service: AlertService, **changes: object):
    fields = dict(
        incident_number="MV-20261125-0456",
        headline="Burglary in progress",
        message="Two men seen at the back of houses.",
        area=CircleArea(*STAFFORD, 500),
        urgency="Immediate",
        everyone=True,
    )
    fields.update(changes)
    fields["everyone"] = not fields.get("topics")  # for everyone in the area unless the test names topics
    draft = await service.draft(AlertRequest(**fields), OFFICER)  # type: ignore[arg-type]
    return (await service.send(draft.id, OFFICER)).alert


async def states(engine) -> dict[str, tuple]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(
                deliveries.c.address,
                deliveries.c.state,
                deliveries.c.attempts,
                deliveries.c.next_attempt_at,
                deliveries.c.last_error,
                deliveries.c.provider_message_id,
            )
        )
        return {r.address: tuple(r[1:]) for r in rows}


async def test_sent_with_provider_id_and_alert_finishes(service, worker, telegram, uow_factory, engine):
    a, b = await add_residents(uow_factory, resident_at(*STAFFORD), resident_at(*STAFFORD))
    alert = await send_alert(service)
    await worker.run_until_idle()
    rows = await states(engine)
    assert {r[0] for r in rows.values()} == {"sent"} and all(r[4] for r in rows.values())
    assert sorted(str(m.to) for m in telegram.sent) == sorted([str(a.address), str(b.address)])
    message = telegram.sent[0].message
    assert "MV-20261125-0456" in message.text and "<b>" in message.text and message.buttons[0].data == f"tip:{alert.id}"
    assert (await service.get(alert.reference)).state is AlertState.SENT


async def test_429_waits_at_least_retry_after_without_using_an_attempt(
    service, worker, telegram, uow_factory, engine, clock
):
    (someone,) = await add_residents(uow_factory, resident_at(*STAFFORD))
    telegram.answer(someone.address, DeliveryResult.retry("Too Many Requests: retry after 30", after=30))
    await send_alert(service)
    await worker.run_until_idle()
    state, attempts, next_at, error, _ = (await states(engine))[str(someone.address)]
    assert (state, attempts) == ("failed", 0) and "retry after 30" in error
    assert next_at >= START + timedelta(seconds=30)

    clock.advance(seconds=29)
    await worker.run_until_idle()
    assert telegram.attempts[str(someone.address)] == 1  # not tried again before retry_after
    clock.advance(seconds=2)
    await worker.run_until_idle()
    assert (await states(engine))[str(someone.address)][0] == "sent"


async def test_blocked_recipient_is_dead_at_once_and_made_inactive(
    service, worker, telegram, uow_factory, engine, clock
):
    (blocker,) = await add_residents(uow_factory, resident_at(*STAFFORD))
    telegram.answer(
        blocker.address, DeliveryResult.permanent("Forbidden: bot was blocked by the user", recipient_gone=True)
    )
    await send_alert(service)
    await worker.run_until_idle()
    state, attempts, _, error, _ = (await states(engine))[str(blocker.address)]
    assert (state, attempts, error) == ("dead", 1, "Forbidden: bot was blocked by the user")
    async with engine.connect() as conn:
        assert (
            await conn.execute(sa.select(residents.c.active).where(residents.c.id == blocker.id))
        ).scalar_one() is False
    clock.advance(hours=1)
    await worker.run_until_idle()
    assert telegram.attempts[str(blocker.address)] == 1


async def test_repeated_server_errors_end_dead_with_the_reason(service, worker, telegram, uow_factory, engine, clock):
    (someone,) = await add_residents(uow_factory, resident_at(*STAFFORD))
    telegram.answer(someone.address, *[DeliveryResult.retry("Bad Gateway (502)")] * 5)
    await send_alert(service)
    for _ in range(4):
        await worker.run_until_idle()
        clock.advance(minutes=20)  # past any backoff
    state, attempts, _, error, _ = (await states(engine))[str(someone.address)]
    assert (state, attempts) == ("dead", 3) and error == "gave up after 3 attempts: Bad Gateway (502)"
    assert telegram.attempts[str(someone.address)] == 3


async def test_backoff_grows_and_a_retry_then_succeeds(service, worker, telegram, uow_factory, engine, clock):
    (someone,) = await add_residents(uow_factory, resident_at(*STAFFORD))
    telegram.answer(someone.address, DeliveryResult.retry("connection reset"))
    await send_alert(service)
    await worker.run_until_idle()
    state, attempts, next_at, _, _ = (await states(engine))[str(someone.address)]
    assert (
        state == "failed" and attempts == 1 and START + timedelta(seconds=1) <= next_at <= START + timedelta(seconds=2)
    )
    clock.advance(seconds=3)
    await worker.run_until_idle()
    assert (await states(engine))[str(someone.address)][:2] == ("sent", 2)


async def test_cancelled_and_expired_alerts_are_skipped_by_the_worker(
    service, worker, telegram, uow_factory, engine, clock
):
    await add_residents(uow_factory, resident_at(*STAFFORD))
    alert = await send_alert(service, expires_at=START + timedelta(minutes=30))
    clock.advance(minutes=31)  # expired, but the expiry job has not run yet
    await worker.run_until_idle()
    assert {r[0] for r in (await states(engine)).values()} == {"skipped"}
    assert {r[3] for r in (await states(engine)).values()} == {"expired"}
    assert telegram.sent == [] and alert.id


async def test_alert_cancelled_after_claim_decision_is_skipped(service, worker, telegram, uow_factory, engine):
    await add_residents(uow_factory, resident_at(*STAFFORD))
    alert = await send_alert(service)
    async with engine.begin() as conn:  # cancelled between send and delivery, rows still pending
        from storage.tables import alerts

        await conn.execute(sa.update(alerts).where(alerts.c.id == alert.id).values(state="cancelled"))
    await worker.run_until_idle()
    assert {(r[0], r[3]) for r in (await states(engine)).values()} == {("skipped", "cancelled")}


async def test_paused_and_erased_residents_are_skipped(service, worker, telegram, uow_factory, engine, clock):
    paused, erased = await add_residents(uow_factory, resident_at(*STAFFORD), resident_at(*STAFFORD))
    await send_alert(service)
    async with uow_factory() as uow:  # both changed their minds after the alert was queued
        p = await uow.residents.get(paused.id)
        p.paused_until = START + timedelta(hours=8)
        await uow.residents.save(p)
        e = await uow.residents.get(erased.id)
        e.erased_at = START
        await uow.residents.save(e)
        await uow.commit()
    await worker.run_until_idle()
    rows = await states(engine)
    assert rows[str(paused.address)][::3] == ("skipped", "paused")
    assert rows[str(erased.address)][::3] == ("skipped", "erased")


async def test_quiet_hours_hold_non_urgent_alerts_then_release_them(
    service, worker, telegram, uow_factory, engine, clock
):
    quiet = QuietHours(time(11, 0), time(13, 30))  # London time; 12:00 UTC in November is 12:00 local
    sleeper, urgent_sleeper = await add_residents(
        uow_factory,
        resident_at(*STAFFORD, quiet_hours=quiet, topics=frozenset({"burglary"})),
        resident_at(*STAFFORD, quiet_hours=quiet, topics=frozenset({"missing"})),
    )
    await send_alert(service, urgency="Expected", topics=["burglary"])
    await send_alert(service, urgency="Immediate", topics=["missing"])
    await worker.run_until_idle()
    rows = await states(engine)
    state, attempts, next_at, error, _ = rows[str(sleeper.address)]
    assert (state, attempts, error) == ("pending", 0, "held: quiet hours")
    assert next_at == datetime(2026, 11, 25, 13, 30, tzinfo=UTC)
    assert [str(m.to) for m in telegram.sent] == [str(urgent_sleeper.address)]  # Immediate goes through

    clock.advance(hours=1, minutes=31)
    await worker.run_until_idle()
    assert (await states(engine))[str(sleeper.address)][0] == "sent"


async def test_update_is_sent_as_a_reply_to_the_original(service, worker, telegram, uow_factory, engine):
    await add_residents(uow_factory, resident_at(*STAFFORD))
    alert = await send_alert(service)
    await worker.run_until_idle()
    original_provider_id = (await states(engine))[str(telegram.sent[0].to)][4]
    await service.update(alert.reference, OFFICER, message="Suspects arrested.")
    await worker.run_until_idle()
    follow_up = telegram.sent[1].message
    assert follow_up.reply_to == original_provider_id
    assert "Suspects arrested." in follow_up.text


async def test_a_dead_workers_lease_expires_and_the_row_is_sent(service, worker, telegram, uow_factory, engine, clock):
    (someone,) = await add_residents(uow_factory, resident_at(*STAFFORD))
    await send_alert(service)
    async with uow_factory() as uow:  # another worker claims it, then dies without recording
        claimed = await uow.deliveries.claim(Channel.TELEGRAM, 10, clock(), timedelta(seconds=60))
        await uow.commit()
    assert len(claimed) == 1
    await worker.run_until_idle()
    assert telegram.sent == []  # still leased to the dead worker
    await database_clock_passes_leases(engine, timedelta(seconds=61))
    await worker.run_until_idle()
    assert [str(m.to) for m in telegram.sent] == [str(someone.address)]


async def test_a_lease_is_timed_by_the_databases_clock_not_by_a_workers(
    service, uow_factory, force, telegram, engine, clock
):
    """Two machines whose clocks disagree by an hour: the one running ahead must not take the other's rows."""
    await add_residents(uow_factory, resident_at(*STAFFORD), resident_at(*STAFFORD))
    await send_alert(service)
    async with uow_factory() as uow:  # a worker claims both and is still sending them
        claimed = await uow.deliveries.claim(Channel.TELEGRAM, 10, clock(), timedelta(seconds=60))
        await uow.commit()
    assert len(claimed) == 2
    ahead = FakeClock(clock() + timedelta(hours=1))
    hasty = DeliveryWorker(
        uow_factory, {Channel.TELEGRAM: telegram}, force_name=force.name, clock=ahead, monotonic=ahead.monotonic
    )
    await hasty.run_until_idle()
    assert telegram.sent == []  # by its own clock the leases ended long ago; by the database's they have not
    maintenance = MaintenanceService(uow_factory, timezone="Europe/London", retention=RetentionPeriods(), clock=ahead)
    assert await maintenance.sweep_stale_leases() == 0  # nor does a scheduler running ahead give them back
    await database_clock_passes_leases(engine, timedelta(seconds=61))
    assert await maintenance.sweep_stale_leases() == 2
    await hasty.run_until_idle()
    assert len(telegram.sent) == 2


async def database_clock_passes_leases(engine, span: timedelta) -> None:
    """As if the database's clock had moved on by ``span``: every lease ends that much earlier."""
    async with engine.begin() as conn:
        leased = (
            await conn.execute(
                sa.select(deliveries.c.id, deliveries.c.lease_until).where(deliveries.c.lease_until.is_not(None))
            )
        ).all()
        for row_id, until in leased:
            await conn.execute(deliveries.update().where(deliveries.c.id == row_id).values(lease_until=until - span))


async def test_a_batch_of_outcomes_is_written_to_each_row_still_leased_and_no_other(
    service, uow_factory, engine, clock
):
    await add_residents(uow_factory, *(resident_at(*STAFFORD) for _ in range(4)))
    await send_alert(service)
    async with uow_factory() as uow:
        sent, failed, dead, given_back = await uow.deliveries.claim(
            Channel.TELEGRAM, 10, clock(), timedelta(seconds=60)
        )
        await uow.commit()
    async with uow_factory() as uow:  # the worker gave one back (stopping) before its outcome was flushed
        await uow.deliveries.release([given_back.id], clock())
        await uow.commit()
    retry_at = clock() + timedelta(seconds=30)
    async with uow_factory() as uow:
        await uow.deliveries.record(
            [
                Outcome(sent.id, DeliveryState.SENT, 1, provider_message_id="4711"),
                Outcome(failed.id, DeliveryState.FAILED, 1, next_attempt_at=retry_at, error="Bad Gateway"),
                Outcome(dead.id, DeliveryState.DEAD, 1, error="x" * 600),
                Outcome(given_back.id, DeliveryState.SENT, 1, provider_message_id="4712"),
            ],
            clock(),
        )
        await uow.commit()
    rows = await states(engine)
    assert rows[str(sent.address)][:2] == ("sent", 1) and rows[str(sent.address)][4] == "4711"
    assert rows[str(failed.address)][:4] == ("failed", 1, retry_at, "Bad Gateway")
    assert rows[str(dead.address)][:2] == ("dead", 1) and rows[str(dead.address)][3] == "x" * 500
    assert rows[str(given_back.address)][:2] == ("pending", 0) and rows[str(given_back.address)][4] is None


async def test_an_adapter_crash_is_retried_not_lost(service, worker, telegram, uow_factory, engine, clock):
    (someone,) = await add_residents(uow_factory, resident_at(*STAFFORD))

    async def explode(to, message):
        raise RuntimeError("boom")

    original_send, telegram.send = telegram.send, explode  # type: ignore[method-assign]
    await send_alert(service)
    await worker.run_until_idle()
    assert (await states(engine))[str(someone.address)][:2] == ("failed", 1)
    telegram.send = original_send  # type: ignore[method-assign]
    clock.advance(minutes=1)
    await worker.run_until_idle()
    assert (await states(engine))[str(someone.address)][0] == "sent"


class _BrokenClaims:
    async def claim(self, *args, **kwargs):
        raise OSError("the database is restarting")


class _FlakyUnitOfWork:
    """The real unit of work, except that the first claim fails as if the database had gone away."""

    failures = 1

    def __init__(self, inner) -> None:
        self._inner = inner

    async def __aenter__(self):
        uow = await self._inner.__aenter__()
        if _FlakyUnitOfWork.failures:
            _FlakyUnitOfWork.failures -= 1
            uow.deliveries = _BrokenClaims()
        return uow

    async def __aexit__(self, *exc_info) -> None:
        await self._inner.__aexit__(*exc_info)


async def test_a_database_error_while_claiming_does_not_stop_the_worker(service, uow_factory, force, telegram, clock):
    import asyncio

    (someone,) = await add_residents(uow_factory, resident_at(*STAFFORD))
    await send_alert(service)
    _FlakyUnitOfWork.failures = 1
    worker = DeliveryWorker(
        lambda read_only=False: _FlakyUnitOfWork(uow_factory(read_only=read_only)),
        {Channel.TELEGRAM: telegram},
        force_name=force.name,
        clock=clock,
    )
    running = asyncio.create_task(worker.run())
    try:
        for _ in range(100):
            if telegram.sent:
                break
            await asyncio.sleep(0.1)
    finally:
        worker.stop()
        await running
    assert _FlakyUnitOfWork.failures == 0 and [str(m.to) for m in telegram.sent] == [str(someone.address)]
