"""Alerts to WhatsApp residents through the real worker and SQL (SQLite and PostgreSQL), and Meta's status reports.

The worker decides by each resident's last message to us: free-form inside
the 24-hour window, the approved template outside it. Status webhooks then
land on the delivery rows.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bots.whatsapp.adapter import WhatsAppAdapter
from bots.whatsapp.graph import CloudApi
from core.delivery.worker import DeliveryWorker
from core.geo.areas import CircleArea
from core.model import Address, Channel, DeliveryState, Receipt, ReceiptStatus
from core.outbound import DeliveryResult
from core.services.alerts import AlertRequest, AlertService
from core.services.receipts import ReceiptService
from core.services.residents import ResidentService
from core.services.roles import Roles
from sandbox.whatsapp import WhatsAppFaults, WhatsAppLimits, WhatsAppStandIn
from storage.tables import deliveries, residents
from tests.support.clock import FakeClock
from tests.support.fakes import FakeAdapter
from tests.support.residents import STAFFORD, add_residents, resident_at

pytestmark = pytest.mark.calendar  # make test runs it again with the clock moved

OFFICER = "cli:test"
TOKEN = "delivery-token"
PHONE_ID = "100000000000001"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def wa(request: pytest.FixtureRequest, clock: FakeClock):
    # Meta often accepts a message and reports "outside the window" only later, by webhook: some tests want that.
    faults = WhatsAppFaults(asynchronous_failures=getattr(request, "param", False))
    # The stand-in keeps the test's time too: its windows and the worker's window check agree.
    with WhatsAppStandIn(
        TOKEN, PHONE_ID, limits=WhatsAppLimits(per_user_interval=None), faults=faults, clock=lambda: clock().timestamp()
    ) as stand_in:
        yield stand_in


@pytest.fixture
async def worker(uow_factory, force, wa, clock):
    adapter = WhatsAppAdapter(CloudApi(TOKEN, PHONE_ID, wa.api_base))
    yield DeliveryWorker(
        uow_factory, {Channel.WHATSAPP: adapter}, force_name=force.name, clock=clock, monotonic=clock.monotonic
    )
    await adapter.aclose()


async def send_alert(uow_factory, force, clock, **changes: object):
    service = AlertService(uow_factory, force, roles=Roles(), clock=clock)
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
    return service, (await service.send(draft.id, OFFICER)).alert


async def rows_by_address(engine) -> dict[str, sa.Row]:
    async with engine.connect() as conn:
        found = await conn.execute(sa.select(deliveries).order_by(deliveries.c.id))
        return {r.address: r for r in found}


async def test_free_form_inside_the_window_and_the_template_outside_it(
    uow_factory, engine, force, wa, worker, clock
) -> None:
    chatty, quiet = await add_residents(
        uow_factory,
        resident_at(*STAFFORD, channel=Channel.WHATSAPP, last_inbound_at=clock.now - timedelta(hours=2)),
        resident_at(*STAFFORD, channel=Channel.WHATSAPP, last_inbound_at=clock.now - timedelta(hours=30)),
    )
    wa.open_window(chatty.address.id, seconds_ago=2 * 3600)
    service, alert = await send_alert(uow_factory, force, clock)

    await worker.run_until_idle()

    (to_chatty,) = wa.sent_to(chatty.address.id)
    (to_quiet,) = wa.sent_to(quiet.address.id)
    assert (
        to_chatty.type == "interactive"
        and to_chatty.content["action"]["buttons"][0]["reply"]["id"] == f"tip:{alert.id}"
    )
    assert to_quiet.type == "template" and "Burglary in progress" in to_quiet.text
    assert wa.rejected_codes() == []  # the worker knew: nothing was refused first
    rows = await rows_by_address(engine)
    assert rows[str(chatty.address)].provider_message_id == to_chatty.id
    assert rows[str(quiet.address)].state == DeliveryState.SENT.value

    # The update is a reply to the original where it can be; outside the window it is a template too.
    clock.now += timedelta(seconds=10)
    await service.update(alert.reference, OFFICER, message="One man detained.")
    await worker.run_until_idle()
    assert wa.sent_to(chatty.address.id)[-1].reply_to == to_chatty.id
    assert "Update: Burglary in progress" in wa.sent_to(quiet.address.id)[-1].text


@pytest.mark.parametrize("wa", [True], indirect=True)
async def test_status_reports_record_reach_and_reads_and_failures(
    uow_factory, engine, force, wa, worker, clock
) -> None:
    reader, gone, stale = await add_residents(
        uow_factory,
        *(
            resident_at(*STAFFORD, channel=Channel.WHATSAPP, last_inbound_at=clock.now - timedelta(hours=1))
            for _ in range(3)
        ),
    )
    for person in (reader, gone):
        wa.open_window(person.address.id, seconds_ago=3600)
    _service, alert = await send_alert(uow_factory, force, clock)
    await worker.run_until_idle()
    sent = {a: r.provider_message_id for a, r in (await rows_by_address(engine)).items()}
    receipts = ReceiptService(uow_factory, clock=clock)
    later = clock.now + timedelta(seconds=30)

    def receipt(person, status: ReceiptStatus, **failure: object) -> Receipt:
        return Receipt(person.address, sent[str(person.address)], status, later, **failure)  # type: ignore[arg-type]

    matched = await receipts.record(
        [
            receipt(reader, ReceiptStatus.READ),  # read before "delivered" arrived: delivered is implied
            receipt(reader, ReceiptStatus.DELIVERED),
            receipt(gone, ReceiptStatus.FAILED, error="WhatsApp 131026: Message Undeliverable.", recipient_gone=True),
            # Accepted while our record said "open", then refused by Meta as outside the window.
            receipt(stale, ReceiptStatus.FAILED, error="WhatsApp 131047: Re-engagement message", window_closed=True),
            Receipt(Address(Channel.WHATSAPP, "447700900999"), "wamid.unknown", ReceiptStatus.READ, later),
        ]
    )

    assert matched == 4
    rows = await rows_by_address(engine)
    assert rows[str(reader.address)].read_at == later and rows[str(reader.address)].delivered_at == later
    assert rows[str(gone.address)].state == DeliveryState.DEAD.value and "131026" in rows[str(gone.address)].last_error
    assert rows[str(stale.address)].state == DeliveryState.PENDING.value
    async with engine.connect() as conn:
        flags = {
            r.address: r
            for r in await conn.execute(sa.select(residents.c.address, residents.c.active, residents.c.last_inbound_at))
        }
    assert flags[str(gone.address)].active is False
    assert flags[str(stale.address)].last_inbound_at is None  # Meta knows better than our record
    async with uow_factory() as uow:
        summary = await uow.reports.delivery_summary(alert.message_id)
    assert (summary.delivered, summary.read, summary.unreachable) == (1, 1, 1)  # what officers see

    # The refused alert goes again, this time as the template.
    assert wa.sent_to(stale.address.id) == [] and wa.rejected_codes(stale.address.id) == [131047]
    clock.now += timedelta(seconds=10)  # past the 6 s between two messages to one resident
    await worker.run_until_idle()
    (template,) = wa.sent_to(stale.address.id)
    assert template.type == "template"
    assert (await rows_by_address(engine))[str(stale.address)].provider_message_id == template.id


async def test_a_message_marks_the_window_open_only_for_subscribers_and_only_forwards(
    uow_factory, engine, clock
) -> None:
    (person,) = await add_residents(uow_factory, resident_at(*STAFFORD, channel=Channel.WHATSAPP))
    service = ResidentService(uow_factory)

    assert await service.note_inbound(person.address, clock.now)
    assert await service.note_inbound(
        person.address, clock.now - timedelta(hours=3)
    )  # an older message, delivered late
    assert not await service.note_inbound(Address(Channel.WHATSAPP, "447700900998"), clock.now)

    async with engine.connect() as conn:
        stored = (
            await conn.execute(sa.select(residents.c.last_inbound_at).where(residents.c.address == str(person.address)))
        ).scalar_one()
        strangers = (await conn.execute(sa.select(sa.func.count()).select_from(residents))).scalar_one()
    assert stored == clock.now and strangers == 1


async def test_a_pair_rate_refusal_waits_for_that_resident_only(uow_factory, engine, force, clock) -> None:
    busy, other = await add_residents(
        uow_factory, *(resident_at(*STAFFORD, channel=Channel.WHATSAPP) for _ in range(2))
    )
    adapter = FakeAdapter(Channel.WHATSAPP)
    adapter.answer(
        busy.address, DeliveryResult.retry("WhatsApp 131056: pair rate limit hit", after=6.0, pause_channel=False)
    )
    worker = DeliveryWorker(
        uow_factory, {Channel.WHATSAPP: adapter}, force_name=force.name, clock=clock, monotonic=time.monotonic
    )
    await send_alert(uow_factory, force, clock)

    started = time.monotonic()
    await worker.run_until_idle()

    assert time.monotonic() - started < 3  # the channel was not paused for everyone else
    rows = await rows_by_address(engine)
    assert rows[str(other.address)].state == DeliveryState.SENT.value
    waiting = rows[str(busy.address)]
    assert waiting.state == DeliveryState.FAILED.value and waiting.attempts == 0  # a throttle is not an attempt
    assert waiting.next_attempt_at == clock.now + timedelta(seconds=6)
