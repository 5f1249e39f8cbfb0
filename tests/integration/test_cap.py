"""CAP 1.2 through the app's HTTP doors: every document validates against the OASIS schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from xml.etree import ElementTree as ET

import httpx
import pytest
from lxml import etree
from shapely.geometry import LineString

from core.errors import NotFound
from core.geo.areas import CircleArea, StreetArea
from core.services.alerts import AlertRequest, AlertService
from core.services.cap_feed import CapService
from core.services.roles import Roles
from core.settings import Settings
from runtime.app import build, create_app
from runtime.examples import EXAMPLE_FORCE_CONFIG
from tests.support.residents import STAFFORD, add_residents, resident_at

pytestmark = pytest.mark.calendar  # make test runs it again with the clock moved

SCHEMA = etree.XMLSchema(
    etree.parse(str(Path(__file__).resolve().parents[1] / "schemas" / "CAP-v1.2.xsd"))
)  # OASIS, unchanged
CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"
ATOM = "{http://www.w3.org/2005/Atom}"
OFFICER = "cli:test"


def valid_cap(xml: bytes) -> ET.Element:
    document = etree.fromstring(xml)
    assert SCHEMA.validate(document), SCHEMA.error_log
    return ET.fromstring(xml)


@pytest.fixture
async def app_and_alerts(database_url: str, uow_factory, force, clock):
    lookout = build(
        Settings(LOOKOUT_DATABASE_URL=database_url, LOOKOUT_FORCE_CONFIG=str(EXAMPLE_FORCE_CONFIG)), clock=clock
    )
    app = create_app(lookout)
    alerts = AlertService(uow_factory, force, roles=Roles(), clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://lookout.test") as client:
        yield client, alerts
    await lookout.aclose()


async def send(alerts: AlertService, area, status: str = "Actual"):
    draft = await alerts.draft(
        AlertRequest(
            everyone=True,
            incident_number="MV-20261125-0456",
            headline="Bogus callers <claiming> water & gas",
            message="Two men at doors.",
            area=area,
            status=status,
            urgency="Immediate",
        ),
        OFFICER,
    )
    return (await alerts.send(draft.id, OFFICER)).alert


async def test_alert_update_and_cancel_validate_and_reference_each_other(app_and_alerts, uow_factory):
    client, alerts = app_and_alerts
    await add_residents(uow_factory, resident_at(*STAFFORD))
    original = await send(alerts, CircleArea(52.806712345678, -2.117412345678, 750))
    update = (await alerts.update(original.reference, OFFICER, message="One man detained.")).alert
    cancel = (await alerts.cancel(original.reference, OFFICER, reason="Both detained.")).alert

    first = valid_cap((await client.get(f"/cap/alerts/{original.reference}.xml")).content)
    assert first.findtext(f"{CAP}msgType") == "Alert" and first.findtext(f"{CAP}status") == "Actual"
    assert first.findtext(f"{CAP}incidents") == "MV-20261125-0456"
    info = first.find(f"{CAP}info")
    assert (
        info.findtext(f"{CAP}category") == "Security"
        and info.findtext(f"{CAP}headline") == "Bogus callers <claiming> water & gas"
    )
    assert (
        info.find(f"{CAP}area").findtext(f"{CAP}circle") == "52.806712345678,-2.117412345678 0.75"
    )  # km, full precision
    sent = first.findtext(f"{CAP}sent")
    assert sent[-6] in "+-" and sent[-3] == ":"

    second = valid_cap((await client.get(f"/cap/alerts/{update.reference}.xml")).content)
    assert second.findtext(f"{CAP}msgType") == "Update"
    assert (
        second.findtext(f"{CAP}references")
        == f"{first.findtext(f'{CAP}sender')},{first.findtext(f'{CAP}identifier')},{sent}"
    )
    third = valid_cap((await client.get(f"/cap/alerts/{cancel.reference}.xml")).content)
    assert third.findtext(f"{CAP}msgType") == "Cancel" and len(third.findtext(f"{CAP}references").split()) == 2


async def test_streets_become_polygons_and_only_public_statuses_are_served(app_and_alerts, force):
    client, alerts = app_and_alerts
    line = LineString([(STAFFORD[1], STAFFORD[0]), (STAFFORD[1] + 0.004, STAFFORD[0] + 0.001)])
    street = await send(alerts, StreetArea("Eastgate Street", line, 40))
    document = valid_cap((await client.get(f"/cap/alerts/{street.reference}.xml")).content)
    (polygon,) = [e.text for e in document.iter(f"{CAP}polygon")]
    pairs = polygon.split()
    assert len(pairs) >= 4 and pairs[0] == pairs[-1]

    exercise = await send(
        alerts, CircleArea(*STAFFORD, 300), status="Exercise"
    )  # the example force publishes Actual only
    assert (await client.get(f"/cap/alerts/{exercise.reference}.xml")).status_code == 404
    draft = await alerts.draft(
        AlertRequest(
            everyone=True,
            incident_number="MV-20261125-0457",
            headline="h",
            message="m",
            area=CircleArea(*STAFFORD, 300),
        ),
        OFFICER,
    )
    assert (await client.get(f"/cap/alerts/{draft.reference}.xml")).status_code == 404
    assert (await client.get("/cap/alerts/A-1999-000001.xml")).status_code == 404

    feed = ET.fromstring((await client.get("/cap/feed.atom")).content)
    links = [e.find(f"{ATOM}link").get("href") for e in feed.iter(f"{ATOM}entry")]
    assert links == [f"http://lookout.test/cap/alerts/{street.reference}.xml"]


async def test_a_force_publishing_nothing_serves_nothing(app_and_alerts, uow_factory, force, clock):
    _, alerts = app_and_alerts
    sent = await send(alerts, CircleArea(*STAFFORD, 300))
    quiet = CapService(
        uow_factory, replace(force, settings=force.settings.model_copy(update={"cap_public_statuses": []})), clock=clock
    )
    with pytest.raises(NotFound):
        await quiet.document(sent.reference)
    assert list(ET.fromstring(await quiet.feed("http://lookout.test")).iter(f"{ATOM}entry")) == []
