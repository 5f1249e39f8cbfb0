"""An alert's reach report (``AlertService.reach_report``): the counts per channel, minute and cell, the tips about it,
and the analysts' CSV, from real SQL on both databases."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from core.delivery.worker import DeliveryWorker
from core.errors import Conflict
from core.geo.areas import CircleArea
from core.model import Channel, DeliveryState
from core.outbound import DeliveryResult
from core.services.alerts import AlertRequest, AlertService
from core.services.roles import Roles
from storage.tables import audit_log, deliveries, tips
from tests.integration.test_delivery_worker import OFFICER, send_alert
from tests.support.clock import FakeClock
from tests.support.fakes import FakeAdapter
from tests.support.residents import STAFFORD, add_residents, offset, resident_at


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def test_the_report_counts_sent_failed_read_and_tips_per_minute_and_cell(uow_factory, engine, force, clock):
    alerts = AlertService(uow_factory, force, roles=Roles(), clock=clock)
    telegram = FakeAdapter(Channel.TELEGRAM)
    worker = DeliveryWorker(
        uow_factory, {Channel.TELEGRAM: telegram}, force_name=force.name, clock=clock, monotonic=clock.monotonic
    )
    first, _second, gone, _far = await add_residents(
        uow_factory,
        resident_at(*STAFFORD),
        resident_at(*STAFFORD),
        resident_at(*STAFFORD),
        resident_at(*offset(*STAFFORD, north_m=4000)),
    )
    telegram.answer(
        gone.address, DeliveryResult.permanent("Forbidden: bot was blocked by the user", recipient_gone=True)
    )
    alert = await send_alert(alerts)
    clock.advance(seconds=90)
    await worker.run_until_idle()
    async with engine.begin() as conn:  # what a platform's receipt would record, and a resident's tip about the alert
        await conn.execute(
            sa.update(deliveries)
            .where(deliveries.c.address == str(first.address))
            .values(delivered_at=clock(), read_at=clock())
        )
        await conn.execute(
            sa.insert(tips).values(
                reference="T-2026-000001",
                alert_id=alert.id,
                text="Saw them",
                media=[],
                anonymous=True,
                state="new",
                created_at=clock(),
            )
        )

    report = await alerts.reach_report(alert.reference.lower(), OFFICER)
    telegram_reach = report.by_channel[Channel.TELEGRAM]
    assert (telegram_reach.sent, telegram_reach.failed, telegram_reach.delivered, telegram_reach.read) == (2, 1, 1, 1)
    assert report.total.total == 3 and report.tips == 1
    (minute,) = report.timeline
    assert (minute.sent, minute.failed, minute.sent_so_far) == (2, 1, 2)
    assert minute.at == clock().replace(second=0, microsecond=0)
    (cell,) = report.cells
    assert report.cells[cell] == {DeliveryState.SENT: 2, DeliveryState.DEAD: 1} and report.reached_cells == {cell: 2}

    lines = list(csv.DictReader(io.StringIO(report.deliveries_csv())))
    assert {(r["state"], r["deliveries"], r["reported_read"]) for r in lines} == {
        ("sent", "2", "1"),
        ("dead", "1", "0"),
    }
    assert {r["minute_utc"] for r in lines} == {clock().strftime("%Y-%m-%dT%H:%MZ")}
    cells = list(csv.DictReader(io.StringIO(report.cells_csv())))
    assert {(r["h3_cell"], r["state"], r["residents"]) for r in cells} == {(cell, "sent", "2"), (cell, "dead", "1")}

    async with engine.connect() as conn:
        audited = (await conn.execute(sa.select(audit_log).where(audit_log.c.action == "report"))).all()
    assert [(a.actor, a.subject) for a in audited] == [(OFFICER, alert.reference)]

    draft = await alerts.draft(
        AlertRequest(
            incident_number="MV-20261125-0456",
            headline="Not yet",
            message="Draft.",
            area=CircleArea(*STAFFORD, 500),
            everyone=True,
        ),
        OFFICER,
    )
    with pytest.raises(Conflict, match="never sent, so there is no report yet"):
        await alerts.reach_report(draft.reference, OFFICER)
