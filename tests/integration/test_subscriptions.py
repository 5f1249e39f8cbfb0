"""Residents' subscription rules over real SQL: age, places as cells only, topics, export, erasure."""

from __future__ import annotations

import json
import math

import pytest
import sqlalchemy as sa

from core.errors import InvalidInput, NotAllowed, NotFound
from core.geo.areas import CircleArea
from core.model import Address, Channel
from core.services.alerts import AlertRequest, AlertService
from core.services.roles import Roles
from core.services.subscriptions import NewPlace, SubscriptionService
from storage.tables import audit_log, deliveries, metadata, places, residents, subscriptions
from tests.support.residents import STAFFORD

pytestmark = pytest.mark.calendar  # make test runs it again with the clock moved

HOME = NewPlace("Home", 52.80671234, -2.11745678)
SAM = Address(Channel.TELEGRAM, "4242")


@pytest.fixture
def subscriptions_service(uow_factory, force, clock) -> SubscriptionService:
    return SubscriptionService(uow_factory, force, clock=clock)


async def table_rows(engine, table) -> list:
    async with engine.connect() as conn:
        return (await conn.execute(sa.select(table))).all()


async def test_subscribe_stores_only_the_cell_and_the_choices(subscriptions_service, engine):
    resident = await subscriptions_service.subscribe(
        SAM, age_confirmed=True, places=[HOME], topics=["burglary", "horse"], sector="farming"
    )
    assert resident.id and resident.sector == "farming" and resident.topics == {"burglary", "horse"}
    (place,) = await table_rows(engine, places)
    assert place.label == "Home" and isinstance(place.cell, int)
    dump = json.dumps(
        [list(map(str, row)) for table in metadata.sorted_tables for row in await table_rows(engine, table)]
    )
    assert "52.8067" not in dump and "2.1174" not in dump  # no trace of the exact coordinates anywhere


async def test_under_age_is_refused_politely_and_nothing_is_stored(subscriptions_service, engine, force):
    with pytest.raises(NotAllowed, match=f"{force.settings.minimum_age} or over"):
        await subscriptions_service.subscribe(SAM, age_confirmed=False, places=[HOME], topics=["all"])
    assert await table_rows(engine, residents) == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"places": []}, "places"),
        ({"places": [HOME] * 6}, "places"),
        ({"places": [NewPlace("Home", math.nan, 0.0)]}, "location"),
        ({"places": [NewPlace("Home", 95.0, 0.0)]}, "location"),
        ({"places": [NewPlace(" ", 52.8, -2.1)]}, "label"),
        ({"topics": ["unicorns"]}, "topics"),
        ({"sector": "piracy"}, "sector"),
    ],
)
async def test_bad_choices_name_the_field_and_store_nothing(subscriptions_service, engine, kwargs, field):
    arguments = {"age_confirmed": True, "places": [HOME], "topics": ["all"], **kwargs}
    with pytest.raises(InvalidInput) as caught:
        await subscriptions_service.subscribe(SAM, **arguments)
    assert field in caught.value.errors
    assert await table_rows(engine, residents) == []


async def test_places_topics_and_limits(subscriptions_service):
    await subscriptions_service.subscribe(SAM, age_confirmed=True, places=[HOME], topics=["all"])
    for label in ("Work", "School", "Gran's", "Allotment"):
        await subscriptions_service.add_place(SAM, NewPlace(label, 52.81, -2.12))
    with pytest.raises(InvalidInput, match="up to 5 places"):
        await subscriptions_service.add_place(SAM, NewPlace("Sixth", 52.81, -2.12))
    resident = await subscriptions_service.remove_place(SAM, 1)
    assert [p.label for p in resident.places] == ["Home", "School", "Gran's", "Allotment"]
    assert (await subscriptions_service.set_topics(SAM, ["canal", "cycle"])).topics == {"canal", "cycle"}
    with pytest.raises(InvalidInput):
        await subscriptions_service.set_topics(SAM, [])
    with pytest.raises(NotFound, match="/start"):
        await subscriptions_service.set_topics(Address(Channel.TELEGRAM, "1"), ["all"])


async def test_export_holds_everything_and_erasure_leaves_nothing(
    subscriptions_service, uow_factory, force, engine, clock
):
    await subscriptions_service.subscribe(SAM, age_confirmed=True, places=[HOME], topics=["all"])
    alerts = AlertService(uow_factory, force, roles=Roles(), clock=clock)
    draft = await alerts.draft(
        AlertRequest(
            everyone=True,
            incident_number="MV-20261125-0456",
            headline="Burglary",
            message="Seen now.",
            area=CircleArea(*STAFFORD, 500),
        ),
        "cli:test",
    )
    assert (await alerts.send(draft.id, "cli:test")).total == 1

    exported = await subscriptions_service.export(SAM)
    assert exported["address"] == "telegram:4242" and exported["topics"] == ["all"]
    assert exported["places"][0]["label"] == "Home" and exported["places"][0]["h3_cell"]
    json.dumps(exported)  # a JSON document, as /mydata sends it

    assert await subscriptions_service.erase(SAM) is True
    for table in (residents, places, subscriptions, deliveries):
        assert await table_rows(engine, table) == [], table.name
    erased = [row for row in await table_rows(engine, audit_log) if row.action == "erase"]
    assert len(erased) == 1 and "4242" not in json.dumps([str(v) for v in erased[0]])  # the fact, not who
    assert await subscriptions_service.erase(SAM) is False
