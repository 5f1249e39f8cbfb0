"""What a WhatsApp conversation keeps: a refusal keeps nothing, a typed address goes with the step that used it,
and an abandoned conversation is purged by the scheduler's retention job (through the signed webhook, both databases)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from core.services.maintenance import MaintenanceService, RetentionPeriods
from storage.tables import conversations, residents
from tests.integration.test_whatsapp_conversation import Running, app, subscribe  # noqa: F401 - app is a fixture
from tests.support.clock import FakeClock
from tests.support.whatsapp_phone import WhatsAppPhone

pytestmark = pytest.mark.calendar  # make test runs it again with the clock moved


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))  # the stand-ins' messages carry real time; the test moves on from there


def states(app: Running) -> list:
    c = conversations
    return app.rows(sa.select((c.c.channel + ":" + c.c.address).label("key"), c.c.step, c.c.data))


async def test_an_under_age_refusal_keeps_nothing_not_even_the_number(app: Running) -> None:
    child = WhatsAppPhone(app.wa, "447700900402")
    await child.send("hello")
    assert len(states(app)) == 1  # waiting for the age answer
    await child.send("no")
    assert "Nothing about you has been kept" in child.last().text
    assert states(app) == [] and app.rows(sa.select(residents.c.id)) == []


async def test_a_typed_address_goes_with_the_step_that_offered_it(app: Running) -> None:
    phone = WhatsAppPhone(app.wa, "447700900405")
    await phone.send("hello")
    await phone.send("Yes")
    await phone.send("ST16 2LZ")
    ((_, step, data),) = states(app)
    assert step == "confirm_place" and "ST16 2LZ" in str(data)  # offered: "Is this right?"
    await phone.send("no")  # not it: asked where again
    ((_, step, data),) = states(app)
    assert step == "location" and "ST16" not in str(data) and "candidates" not in data


async def test_abandoned_conversations_are_purged_and_a_subscriber_keeps_only_their_language(
    app: Running, uow_factory, clock
) -> None:
    resident = WhatsAppPhone(app.wa, "447700900406")
    await subscribe(resident)
    await resident.send("There's a van parked on the pavement outside number 4.")  # a tip offered, then left
    walked_away = WhatsAppPhone(app.wa, "447700900407")
    await walked_away.send("hello")
    await walked_away.send("Yes")
    await walked_away.send("ST16 2LZ")  # the typed address, as a lookup's label
    assert len(states(app)) == 2

    maintenance = MaintenanceService(
        uow_factory, timezone="Europe/London", retention=RetentionPeriods(conversation_hours=6), clock=clock
    )
    clock.advance(hours=5)
    await maintenance.purge_expired_data()
    assert len(states(app)) == 2  # not abandoned yet
    clock.advance(hours=2)
    await maintenance.purge_expired_data()
    assert [(key, step, data) for key, step, data in states(app) if not (step is None and set(data) <= {"lang"})] == []
    assert "whatsapp:447700900407" not in [key for key, _, _ in states(app)]
