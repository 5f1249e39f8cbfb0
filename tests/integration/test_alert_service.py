"""The alert services over real SQL, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from core.geo.areas import CircleArea
from core.model import AlertState, AlertStatus, AlertType, Channel, DeliveryState
from core.services.alerts import AlertRequest, AlertService, Paces, timing_in_words
from core.services.roles import Roles
from storage.tables import alerts, audit_log, deliveries, messages
from tests.support.clock import FakeClock
from tests.support.residents import STAFFORD, add_residents, offset, resident_at

pytestmark = pytest.mark.calendar  # make test runs it again with the clock moved

OFFICER, OTHER_OFFICER, SUPERVISOR = "U_OFFICER", "U_OFFICER2", "U_SUPER"
ROLES = Roles(officers=frozenset({OFFICER, OTHER_OFFICER}), supervisors=frozenset({SUPERVISOR}))


def request(**changes: object) -> AlertRequest:
    base = dict(
        incident_number="MV-20261125-0456",
        headline="Bogus callers on Eastgate Street",
        message="Two men claiming to be from the water board. Do not let them in.",
        area=CircleArea(*STAFFORD, 500),
        topics=["bogus_callers"],
    )
    base.update(changes)
    return AlertRequest(**base)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def service(uow_factory, force, clock) -> AlertService:
    return AlertService(uow_factory, force, roles=ROLES, clock=clock)


async def rows(engine, table) -> list:
    async with engine.connect() as conn:
        return (await conn.execute(sa.select(table))).all()


async def test_send_reaches_matching_residents_once_each(service, uow_factory, engine, clock):
    inside = resident_at(*offset(*STAFFORD, north_m=200))
    inside.places.append(type(inside.places[0])("Work", inside.places[0].cell))  # two places, one area
    on_whatsapp = resident_at(
        *offset(*STAFFORD, east_m=-300), channel=Channel.WHATSAPP, topics=frozenset({"bogus_callers"})
    )
    outside = resident_at(*offset(*STAFFORD, north_m=900))
    wrong_topic = resident_at(*STAFFORD, topics=frozenset({"horse"}))
    paused = resident_at(*STAFFORD, paused_until=clock() + timedelta(hours=1))
    inactive = resident_at(*STAFFORD, active=False)
    erased = resident_at(*STAFFORD, erased_at=clock())
    await add_residents(uow_factory, inside, on_whatsapp, outside, wrong_topic, paused, inactive, erased)

    draft = await service.draft(request(), OFFICER)
    assert draft.reference == "A-2026-000001"
    preview = await service.preview(draft.id, OFFICER)
    assert preview.recipients == {Channel.TELEGRAM: 1, Channel.WHATSAPP: 1}
    assert not preview.approval_needed
    result = await service.send(draft.id, OFFICER)

    assert result.recipients == {Channel.TELEGRAM: 1, Channel.WHATSAPP: 1}
    sent = await rows(engine, deliveries)
    assert sorted(r.address for r in sent) == sorted([str(inside.address), str(on_whatsapp.address)])
    assert {r.state for r in sent} == {DeliveryState.PENDING.value}
    stored = await service.get(draft.reference)
    assert stored.state is AlertState.SENDING and stored.message_id is not None
    assert [e.action for e in reversed(await _audit(uow_factory, draft.reference))] == ["draft", "preview", "send"]


async def test_businesses_match_by_sector_and_residents_by_topic(service, uow_factory):
    shop = resident_at(*STAFFORD, sector="retail", topics=frozenset({"horse"}))
    farm = resident_at(*STAFFORD, sector="farming", topics=frozenset({"all"}))
    household = resident_at(*STAFFORD)
    await add_residents(uow_factory, shop, farm, household)

    to_retail = await service.draft(request(sectors=["retail"], audience="businesses"), OFFICER)
    assert (await service.preview(to_retail.id, OFFICER)).total == 1
    to_everyone = await service.draft(request(sectors=["retail"], audience="both"), OFFICER)
    assert (await service.preview(to_everyone.id, OFFICER)).total == 2  # the shop and the household
    by_topic = await service.draft(request(audience="businesses"), OFFICER)
    assert (await service.preview(by_topic.id, OFFICER)).total == 1  # the farm subscribes to all


async def test_everyone_in_the_area_reaches_residents_whatever_their_topics(service, uow_factory):
    # The resident who chose Missing people + Burglary was missed by an alert sent "without topics" before.
    chose_two = resident_at(*STAFFORD, topics=frozenset({"missing", "burglary"}))
    chose_all = resident_at(*STAFFORD)
    shop = resident_at(*STAFFORD, sector="retail", topics=frozenset({"horse"}))
    await add_residents(uow_factory, chose_two, chose_all, shop)

    everyone = await service.draft(request(topics=[], everyone=True), OFFICER)
    assert everyone.everyone and everyone.topics == ()
    assert (await service.preview(everyone.id, OFFICER)).total == 3  # businesses too: no sectors named
    to_retail_and_everyone = await service.draft(request(topics=[], everyone=True, sectors=["farming"]), OFFICER)
    assert (await service.preview(to_retail_and_everyone.id, OFFICER)).total == 2  # businesses by the sectors named
    missing = await service.draft(request(topics=["missing"]), OFFICER)
    assert (await service.preview(missing.id, OFFICER)).total == 2  # who chose it, and who chose all local crime
    assert (await service.send(everyone.id, OFFICER)).total == 3


@pytest.mark.parametrize("changes", [{"topics": []}, {"topics": ["missing"], "everyone": True}])
async def test_who_an_alert_is_for_is_chosen_never_assumed(service, changes):
    with pytest.raises(InvalidInput) as caught:
        await service.draft(request(**changes), OFFICER)
    assert set(caught.value.errors) == {"reach"}


async def test_practice_alerts_reach_only_testers(service, uow_factory):
    tester = resident_at(*STAFFORD, is_tester=True)
    await add_residents(uow_factory, tester, resident_at(*STAFFORD))
    exercise = await service.draft(request(status="Exercise"), OFFICER)
    assert exercise.status is AlertStatus.EXERCISE
    assert (await service.send(exercise.id, OFFICER)).total == 1


async def test_approval_needed_above_threshold_and_never_by_the_author(uow_factory, force, engine, clock):
    strict = force.settings.model_copy(update={"approval_threshold": 1})
    service = AlertService(uow_factory, type(force)(strict, force.areas, force.source), roles=ROLES, clock=clock)
    await add_residents(uow_factory, resident_at(*STAFFORD), resident_at(*STAFFORD))
    draft = await service.draft(request(), OFFICER)
    preview = await service.preview(draft.id, OFFICER)
    assert preview.approval_needed and "2 residents" in (preview.approval_reason or "")

    with pytest.raises(NotAllowed, match="approval"):
        await service.send(draft.id, OFFICER)
    assert await rows(engine, deliveries) == [] and await rows(engine, messages) == []
    with pytest.raises(NotAllowed):
        await service.approve(draft.id, OTHER_OFFICER)  # not a supervisor
    supervisor_draft = await AlertService(uow_factory, force, roles=ROLES, clock=clock).draft(request(), SUPERVISOR)
    with pytest.raises(NotAllowed, match="own alert"):
        await service.approve(supervisor_draft.id, SUPERVISOR)

    await service.approve(draft.id, SUPERVISOR)
    assert (await service.send(draft.id, OFFICER)).total == 2
    assert (await service.get(draft.reference)).approver == SUPERVISOR


async def test_nobody_outside_the_officer_list_may_draft(service):
    with pytest.raises(NotAllowed):
        await service.draft(request(), "U_STRANGER")


async def test_update_goes_to_exactly_the_original_recipients(service, uow_factory, engine):
    first = resident_at(*STAFFORD)
    await add_residents(uow_factory, first)
    original = await service.draft(request(), OFFICER)
    await service.send(original.id, OFFICER)
    # Someone joins after the alert went out: the update is not for them.
    await add_residents(uow_factory, resident_at(*STAFFORD))

    update = await service.update(original.reference, OFFICER, message="Both men have now been arrested.")
    assert update.alert.type is AlertType.UPDATE and update.alert.original_id == original.id
    assert update.recipients == {Channel.TELEGRAM: 1}
    update_rows = [r for r in await rows(engine, deliveries) if r.message_id == update.alert.message_id]
    assert [r.address for r in update_rows] == [str(first.address)]


async def test_cancel_skips_pending_and_notifies_those_reached(service, uow_factory, engine):
    reached, waiting = resident_at(*STAFFORD), resident_at(*STAFFORD)
    await add_residents(uow_factory, reached, waiting)
    original = await service.draft(request(), OFFICER)
    await service.send(original.id, OFFICER)
    async with engine.begin() as conn:  # the worker has delivered to one of them
        await conn.execute(
            sa.update(deliveries)
            .where(deliveries.c.address == str(reached.address))
            .values(state=DeliveryState.SENT.value)
        )

    result = await service.cancel(original.reference, OFFICER, reason="Found safe and well.")
    assert result.alert.type is AlertType.CANCEL
    states = {(r.message_id, r.address): r.state for r in await rows(engine, deliveries)}
    assert (
        states[(original_message := (await service.get(original.reference)).message_id, str(waiting.address))]
        == "skipped"
    )
    assert states[(original_message, str(reached.address))] == "sent"
    assert states[(result.alert.message_id, str(reached.address))] == "pending"
    assert (result.alert.message_id, str(waiting.address)) not in states
    assert (await service.get(original.reference)).state is AlertState.CANCELLED
    with pytest.raises(Conflict):
        await service.cancel(original.reference, OFFICER)
    with pytest.raises(Conflict):
        await service.update(original.reference, OFFICER, message="too late")


async def test_expiry_skips_what_has_not_gone(service, uow_factory, engine, clock):
    await add_residents(uow_factory, resident_at(*STAFFORD))
    draft = await service.draft(request(expires_at=clock() + timedelta(hours=1)), OFFICER)
    await service.send(draft.id, OFFICER)
    assert await service.expire_due() == []
    clock.advance(hours=2)
    assert [a.reference for a in await service.expire_due()] == [draft.reference]
    assert {r.state for r in await rows(engine, deliveries)} == {"skipped"}
    assert (await service.get(draft.reference)).state is AlertState.EXPIRED


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"incident_number": ""}, "incident_number"),
        ({"incident_number": "12345"}, "incident_number"),
        ({"headline": "  "}, "headline"),
        ({"message": "x" * 5000}, "message"),
        ({"message": "y" * 4000}, "message"),  # fits alone, not with heading and contact
        ({"message": "bad \x00 byte"}, "message"),
        ({"topics": ["unicorns"]}, "topics"),
        ({"sectors": ["piracy"]}, "sectors"),
        ({"audience": "everyone"}, "audience"),
        ({"status": "Real"}, "status"),
        ({"expires_at": datetime(2020, 1, 1, tzinfo=UTC)}, "expires"),
    ],
)
async def test_bad_input_names_the_field_and_writes_nothing(service, engine, changes, field):
    with pytest.raises(InvalidInput) as caught:
        await service.draft(request(**changes), OFFICER)
    assert field in caught.value.errors
    assert await rows(engine, alerts) == [] and await rows(engine, audit_log) == []


async def test_send_is_atomic_when_writing_fails_halfway(service, uow_factory, engine, database_url):
    await add_residents(uow_factory, *[resident_at(*offset(*STAFFORD, north_m=i * 10)) for i in range(10)])
    draft = await service.draft(request(), OFFICER)
    await _fail_inserts_after(engine, rows_allowed=5)
    try:
        with pytest.raises(sa.exc.DBAPIError, match="injected failure"):
            await service.send(draft.id, OFFICER)
    finally:
        await _stop_failing_inserts(engine)  # the PostgreSQL schema outlives this test

    assert await rows(engine, deliveries) == [] and await rows(engine, messages) == []
    assert (await service.get(draft.reference)).state is AlertState.DRAFT
    assert [e.action for e in await _audit(uow_factory, draft.reference)] == ["draft"]


async def test_unknown_references_and_wrong_states_are_polite(service, uow_factory):
    with pytest.raises(NotFound, match="A-2026-999999"):
        await service.cancel("A-2026-999999", OFFICER)
    await add_residents(uow_factory, resident_at(*STAFFORD))
    draft = await service.draft(request(), OFFICER)
    with pytest.raises(Conflict, match="draft"):
        await service.update(draft.reference, OFFICER, message="hello")
    await service.send(draft.id, OFFICER)
    with pytest.raises(Conflict, match="sending"):
        await service.send(draft.id, OFFICER)


async def test_audit_log_is_append_only(service, engine):
    await service.draft(request(), OFFICER)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        async with engine.begin() as conn:
            await conn.execute(sa.update(audit_log).values(actor="someone else"))
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        async with engine.begin() as conn:
            await conn.execute(sa.delete(audit_log))


async def _audit(uow_factory, subject: str) -> list:
    async with uow_factory() as uow:
        return await uow.audit.entries(subject)


async def _stop_failing_inserts(engine) -> None:
    async with engine.begin() as conn:
        await conn.exec_driver_sql(
            "DROP TRIGGER IF EXISTS fail_halfway" + ("" if conn.dialect.name == "sqlite" else " ON deliveries")
        )
        if conn.dialect.name != "sqlite":
            await conn.exec_driver_sql("DROP FUNCTION IF EXISTS fail_halfway()")


async def _fail_inserts_after(engine, rows_allowed: int) -> None:
    """A real database trigger that aborts the INSERT once ``rows_allowed`` rows are in."""
    async with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            await conn.exec_driver_sql(
                "CREATE TRIGGER fail_halfway BEFORE INSERT ON deliveries "
                f"WHEN (SELECT count(*) FROM deliveries) >= {rows_allowed} "
                "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
            )
        else:
            await conn.exec_driver_sql(
                "CREATE FUNCTION fail_halfway() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF (SELECT count(*) FROM deliveries) >= {rows_allowed} THEN RAISE EXCEPTION 'injected failure'; END IF; "
                "RETURN NEW; END $$"
            )
            await conn.exec_driver_sql(
                "CREATE TRIGGER fail_halfway BEFORE INSERT ON deliveries FOR EACH ROW EXECUTE FUNCTION fail_halfway()"
            )


async def test_the_preview_says_how_soon_each_channel_reaches_95_percent_behind_what_is_queued(
    uow_factory, force, clock
):
    paces = Paces(free={Channel.TELEGRAM: 10.0}, paid={Channel.TELEGRAM: 100.0})
    service = AlertService(uow_factory, force, roles=ROLES, paces=paces, clock=clock)
    await add_residents(uow_factory, *[resident_at(*STAFFORD) for _ in range(20)])
    routine = await service.draft(request(topics=[], everyone=True, urgency="Expected"), OFFICER)
    assert (await service.preview(routine.id, OFFICER)).eta_95_s == {Channel.TELEGRAM: 1.9}  # 19 rows at 10/s
    await service.send(routine.id, OFFICER)

    behind = await service.draft(request(topics=[], everyone=True, urgency="Expected"), OFFICER)
    shown = await service.preview(behind.id, OFFICER)
    assert shown.eta_95_s == {Channel.TELEGRAM: 3.8} and shown.stars_estimate is None  # taking turns with the queued 20
    urgent = await service.draft(request(topics=[], everyone=True, urgency="Immediate"), OFFICER)
    shown = await service.preview(urgent.id, OFFICER)
    assert shown.eta_95_s == {Channel.TELEGRAM: 0.2}  # nothing routine is ahead of it, and it goes as a paid broadcast
    assert shown.stars_estimate == round(20 * 0.9 * 0.1, 1)
    assert timing_in_words(shown) == "95% reached in about: Telegram 0.2 s; Telegram paid broadcast: about 2 Stars"
