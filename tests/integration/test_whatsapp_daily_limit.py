"""WhatsApp's daily messaging limit, through the real worker, SQL (SQLite and PostgreSQL) and the WhatsApp stand-in
enforcing the limit as Meta does (131048 once the portfolio has reached its people for the rolling 24 hours).

Nearest first up to the allowance; the rest held (pending, no attempt used) until places free as the 24 hours
roll on; residents inside their service window take no place; rows still held when the alert ends are reported
with their reason; a 131048 from Meta holds the row too, it does not fail it.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bots.whatsapp.adapter import WhatsAppAdapter
from bots.whatsapp.graph import CloudApi
from core.delivery.holds import DAILY_LIMIT_HOLD, DAILY_LIMIT_REASON
from core.delivery.worker import DeliveryWorker
from core.geo.areas import CircleArea
from core.model import Channel
from core.services.alerts import AlertRequest, AlertService, Paces, daily_limit_in_words
from core.services.progress import ProgressService
from core.services.roles import Roles
from sandbox.whatsapp import WhatsAppLimits, WhatsAppStandIn
from storage.tables import deliveries
from tests.support.clock import FakeClock
from tests.support.residents import STAFFORD, add_residents, offset, resident_at

OFFICER = "cli:test"
TOKEN = "limit-token"
PHONE_ID = "100000000000001"
LIMIT = 3


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def stand_in(clock: FakeClock, messaging_limit: int | None) -> WhatsAppStandIn:
    limits = WhatsAppLimits(per_user_interval=None, messaging_limit=messaging_limit)
    return WhatsAppStandIn(TOKEN, PHONE_ID, limits=limits, clock=lambda: clock().timestamp())


def worker_for(
    uow_factory, force, wa: WhatsAppStandIn, clock: FakeClock, limit: int | None
) -> tuple[DeliveryWorker, WhatsAppAdapter]:
    adapter = WhatsAppAdapter(CloudApi(TOKEN, PHONE_ID, wa.api_base))
    worker = DeliveryWorker(
        uow_factory,
        {Channel.WHATSAPP: adapter},
        force_name=force.name,
        clock=clock,
        monotonic=clock.monotonic,
        daily_limits={Channel.WHATSAPP: limit},
    )
    return worker, adapter


async def residents_in_a_line(uow_factory, clock: FakeClock, count: int, *, chatty: int | None = None) -> list[str]:
    """``count`` WhatsApp residents 100 m apart going north (nearest first); ``chatty`` (an index) wrote to us an
    hour ago, so their service window is open. Returns their numbers, nearest first."""
    people = [
        resident_at(
            *offset(*STAFFORD, north_m=100 * i),
            channel=Channel.WHATSAPP,
            last_inbound_at=clock.now - timedelta(hours=1) if i == chatty else clock.now - timedelta(days=3),
        )
        for i in range(count)
    ]
    await add_residents(uow_factory, *people)
    return [p.address.id for p in people]


def service(uow_factory, force, clock, limit: int | None) -> AlertService:
    paces = Paces(daily_limits={Channel.WHATSAPP: limit} if limit is not None else {})
    return AlertService(uow_factory, force, roles=Roles(), channels=(Channel.WHATSAPP,), paces=paces, clock=clock)


def request(clock: FakeClock) -> AlertRequest:
    # Live for three days: long enough for the 24 hours to roll on.
    return AlertRequest(
        incident_number="MV-20261125-0456",
        headline="Missing boy, 9",
        message="Sam, red coat.",
        area=CircleArea(*STAFFORD, 2000),
        urgency="Immediate",
        everyone=True,
        expires_at=clock.now + timedelta(days=3),
    )


async def states(engine) -> dict[str, tuple[str, str | None, int]]:
    """The alert's own row per number (a cancellation's rows come later and are left out)."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(
                deliveries.c.address, deliveries.c.state, deliveries.c.last_error, deliveries.c.attempts
            ).order_by(deliveries.c.id)
        )
        found: dict[str, tuple[str, str | None, int]] = {}
        for r in rows:
            found.setdefault(r.address.split(":", 1)[1], (r.state, r.last_error, r.attempts))
        return found


async def test_nearest_first_up_to_the_allowance_the_rest_held_until_places_free(
    uow_factory, engine, force, clock
) -> None:
    numbers = await residents_in_a_line(uow_factory, clock, 6, chatty=5)  # the farthest wrote to us an hour ago
    alerts = service(uow_factory, force, clock, LIMIT)
    draft = await alerts.draft(request(clock), OFFICER)
    clock.advance(minutes=1)
    preview = await alerts.preview(draft.id, OFFICER)
    # Three places: the three nearest outside their window; the chatty one is free; two wait.
    assert preview.daily_limit is not None
    assert (preview.daily_limit.left, preview.daily_limit.now, preview.daily_limit.held) == (3, 4, 2)
    assert "4 of the 6 WhatsApp residents get it now" in daily_limit_in_words(preview.daily_limit)
    await alerts.send(draft.id, OFFICER)

    with stand_in(clock, LIMIT) as wa:
        wa.open_window(numbers[5], seconds_ago=3600)  # Meta knows they wrote too
        worker, adapter = worker_for(uow_factory, force, wa, clock, LIMIT)
        try:
            await worker.run_until_idle()
            got = await states(engine)
            assert {n for n, (state, _, _) in got.items() if state == "sent"} == {*numbers[:3], numbers[5]}
            for n in numbers[3:5]:
                assert got[n] == ("pending", DAILY_LIMIT_HOLD, 0)  # held, not failed, no attempt used
            assert wa.rejected_codes() == []  # Lookout kept within the limit: Meta never had to refuse
            report = await ProgressService(uow_factory, clock=clock).report(draft.id)
            assert report.limit_held == 2 and not report.done

            clock.advance(hours=12)  # not yet: nothing frees before 24 hours
            await worker.run_until_idle()
            assert (await states(engine))[numbers[3]][0] == "pending"

            clock.advance(hours=12, minutes=1)  # the first three places free: the held two go
            await worker.run_until_idle()
            got = await states(engine)
            assert all(state == "sent" for state, _, _ in got.values())
            assert wa.rejected_codes() == []
        finally:
            await adapter.aclose()


async def test_still_held_when_the_alert_expires_counted_with_their_reason(uow_factory, engine, force, clock) -> None:
    numbers = await residents_in_a_line(uow_factory, clock, 5)
    alerts = service(uow_factory, force, clock, LIMIT)
    draft = await alerts.draft(request(clock), OFFICER)
    await alerts.send(draft.id, OFFICER)
    with stand_in(clock, LIMIT) as wa:
        worker, adapter = worker_for(uow_factory, force, wa, clock, LIMIT)
        try:
            await worker.run_until_idle()
        finally:
            await adapter.aclose()
    await alerts.cancel(draft.reference, OFFICER)
    got = await states(engine)
    assert [got[n][0] for n in numbers] == ["sent"] * 3 + ["skipped"] * 2
    assert {got[n][1] for n in numbers[3:]} == {DAILY_LIMIT_REASON}
    report = await ProgressService(uow_factory, clock=clock).report(draft.id)
    assert report.done and report.limit_skipped == 2 and report.limit_held == 0


async def test_metas_131048_holds_the_row_instead_of_failing_it(uow_factory, engine, force, clock) -> None:
    """Lookout thinks the allowance is unlimited, but the portfolio's limit is 2 (another number used it, say)."""
    numbers = await residents_in_a_line(uow_factory, clock, 4)
    alerts = service(uow_factory, force, clock, None)
    draft = await alerts.draft(request(clock), OFFICER)
    await alerts.send(draft.id, OFFICER)
    with stand_in(clock, 2) as wa:
        worker, adapter = worker_for(uow_factory, force, wa, clock, None)
        try:
            await worker.run_until_idle()
            assert wa.rejected_codes().count(131048) == 2
            got = await states(engine)
            # Sent side by side, Meta takes whichever two arrive first.
            assert sorted(got[n] for n in numbers) == [("pending", DAILY_LIMIT_HOLD, 0)] * 2 + [("sent", None, 1)] * 2
            await worker.run_until_idle()  # not retried hot
            assert wa.rejected_codes().count(131048) == 2
        finally:
            await adapter.aclose()


async def test_several_workers_never_grant_more_places_than_the_limit(uow_factory, engine, force, clock) -> None:
    await residents_in_a_line(uow_factory, clock, 12)
    alerts = service(uow_factory, force, clock, 5)
    draft = await alerts.draft(request(clock), OFFICER)
    await alerts.send(draft.id, OFFICER)
    with stand_in(clock, 5) as wa:
        pairs = [worker_for(uow_factory, force, wa, clock, 5) for _ in range(3)]
        try:
            await asyncio.gather(*(worker.run_until_idle() for worker, _ in pairs))
        finally:
            for _, adapter in pairs:
                await adapter.aclose()
        assert wa.rejected_codes() == []
    got = await states(engine)
    assert sum(state == "sent" for state, _, _ in got.values()) == 5
    assert sum(error == DAILY_LIMIT_HOLD for _, error, _ in got.values()) == 7
