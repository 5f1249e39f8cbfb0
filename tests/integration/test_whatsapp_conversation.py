"""The WhatsApp conversation in detail: the app in-process (served on loopback), the Cloud API stand-in, SQLite.

Managing a subscription by keywords, lists and reply buttons; typed answers;
long lists paged; old buttons; tips out of the blue, by replying to an alert,
with photos that are gone; flood control; Polish. The journeys through the
real ``lookout serve`` process are in tests/e2e/test_whatsapp_resident.py.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bots.whatsapp.adapter import WhatsAppAdapter
from bots.whatsapp.graph import CloudApi
from core.delivery.worker import DeliveryWorker
from core.geo.areas import CircleArea
from core.model import Channel
from core.services.alerts import AlertRequest, AlertService
from core.services.roles import Roles
from core.settings import Settings
from runtime.app import Lookout, build, create_app
from sandbox.nominatim import NominatimStandIn
from sandbox.server import BackgroundServer
from sandbox.whatsapp import WhatsAppLimits, WhatsAppStandIn
from storage.tables import alert_feedback, conversations, places, residents, subscriptions, tips
from tests.support.database import rows
from tests.support.residents import STAFFORD
from tests.support.whatsapp_phone import WhatsAppPhone

TOKEN = "conversation-token"
PHONE_ID = "100000000000001"
APP_SECRET = "conversation-app-secret"


@dataclass
class Running:
    wa: WhatsAppStandIn
    lookout: Lookout
    database_url: str

    def rows(self, query: sa.Select) -> list:
        return rows(self.database_url, query)


@pytest.fixture
async def app(database_url: str, caplog: pytest.LogCaptureFixture, clock) -> AsyncIterator[Running]:
    limits = WhatsAppLimits(per_user_burst=100)  # a test taps far faster than a person
    with WhatsAppStandIn(TOKEN, PHONE_ID, APP_SECRET, limits=limits) as wa, NominatimStandIn() as nominatim:
        settings = Settings(
            LOOKOUT_DATABASE_URL=database_url,
            WHATSAPP_TOKEN=TOKEN,
            WHATSAPP_PHONE_NUMBER_ID=PHONE_ID,
            WHATSAPP_APP_SECRET=APP_SECRET,
            WHATSAPP_VERIFY_TOKEN="verify",
            WHATSAPP_API_BASE=wa.api_base,
            LOOKOUT_GEOCODER_DOMAIN=nominatim.domain,
            LOOKOUT_GEOCODER_SCHEME="http",
            SLACK_TIPS_CHANNEL="C01TIPS",
        )
        lookout = build(settings, clock=clock)
        server = BackgroundServer(create_app(lookout), "lookout")
        server.start()
        wa.callback_url = f"{server.base_url}/whatsapp/webhook"
        try:
            yield Running(wa, lookout, database_url)
        finally:
            server.stop()
            await lookout.aclose()
    failures = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not failures, f"the app logged errors: {failures}"


async def subscribe(phone: WhatsAppPhone) -> None:
    await phone.send("hi")
    await phone.tap("12 or older")
    await phone.share_location(*STAFFORD)
    await phone.tap("Home")
    await phone.tap("All local crime")  # the recommended answer, one tap
    await phone.tap("I'm a resident")
    assert "You're all set" in phone.last().text


async def test_joining_names_the_street_offers_all_crime_in_one_tap_and_lists_say_what_they_open(app: Running) -> None:
    phone = WhatsAppPhone(app.wa, "447700900409")
    await phone.send("hi")
    assert "call 999" in phone.last().text  # the welcome says what Lookout is not for
    await phone.tap("12 or older")
    await phone.share_location(*STAFFORD)
    assert phone.last().text.startswith("Got it — near Greengate Street, Stafford.")
    await phone.tap("Home")
    question = phone.last()
    assert question.content["type"] == "button"  # not tucked away in a list: the recommended answer, and the list
    titles = [b["reply"]["title"] for b in question.content["action"]["buttons"]]
    assert titles == ["⭐ All local crime", "Choose topics"]
    await phone.tap("Choose topics")
    listed = phone.last()
    assert listed.content["type"] == "list" and listed.content["action"]["button"] == "Choose topics"
    rows = [r["title"] for r in listed.content["action"]["sections"][0]["rows"]]
    assert rows[:2] == ["Done ✔️", "⭐ All local crime"] and "✅ All local crime" in rows
    await phone.tap("Burglary")
    assert phone.last().content["type"] == "list"  # ticking: the list again, where they were
    await phone.tap("Done")
    await phone.tap("I'm a resident")
    assert "Alerts near: Home (near Greengate Street, Stafford)" in phone.last().text
    assert {r.topic for r in app.rows(sa.select(subscriptions.c.topic))} == {"burglary"}


async def test_managing_by_keywords_lists_and_buttons(app: Running) -> None:
    phone = WhatsAppPhone(app.wa, "447700900401")
    await subscribe(phone)
    onboarding_topics = next(m for m in phone.messages() if "Which alerts would you like?" in m.text)

    # A second place by a lookup with several answers, picked from a list; then renamed; then the first removed.
    await phone.send("PLACES")
    assert "Your places" in phone.last().text and "1. Home" in phone.last().text
    await phone.tap("Add a place")
    await phone.send("Station Road")
    assert "Which one do you mean?" in phone.last().text
    await phone.tap("Stone")
    await phone.tap("Work")
    assert "Added *Work*" in phone.last().text
    await phone.send("/places")
    await phone.tap("Rename Work")
    await phone.send("Stables")
    assert "Stables" in phone.last().text
    await phone.send("places")
    await phone.tap("Remove Home")
    assert [p.label for p in app.rows(sa.select(places.c.label))] == ["Stables"]
    await phone.send("PLACES")
    await phone.tap("Remove Stables")
    assert "only place" in phone.last().text  # never left with nowhere
    assert len(app.rows(sa.select(places.c.label))) == 1

    # Pause and resume; quiet hours; a business sector from a list longer than one page.
    await phone.send("Pause")
    await phone.tap("8 hours")
    assert app.rows(sa.select(residents.c.paused_until))[0].paused_until is not None
    await phone.send("RESUME")
    assert app.rows(sa.select(residents.c.paused_until))[0].paused_until is None
    await phone.send("QUIET")
    await phone.tap("22:00–07:00")
    assert tuple(app.rows(sa.select(residents.c.quiet_start, residents.c.quiet_end))[0]) == ("22:00", "07:00")
    await phone.send("BUSINESS")
    assert any(row["id"].startswith("page:") for row in phone.last().content["action"]["sections"][0]["rows"])
    await phone.tap("Transport and haulage")  # on the second page
    assert app.rows(sa.select(residents.c.sector))[0].sector == "transport"

    # Topics: ticked in a paged list; the page stays where the resident is ticking.
    await phone.send("TOPICS")
    await phone.tap("Anti-social behaviour")
    ticked = json.dumps(phone.last().content, ensure_ascii=False)
    assert "✅ Anti-social behaviour" in ticked and "✅ All local crime" not in ticked  # a specific topic unticks all
    await phone.tap("Done")
    assert {r.topic for r in app.rows(sa.select(subscriptions.c.topic))} == {"asb"}

    # An old button from onboarding no longer works; it changes nothing, and what they can do now is listed.
    await phone.user.taps_button("tp:recommended", on=onboarding_topics.id)
    assert phone.last().text.startswith("That button is from an earlier message, so it no longer works.")
    assert phone.last().content["type"] == "list" and "TOPICS" in json.dumps(phone.last().content)
    assert {r.topic for r in app.rows(sa.select(subscriptions.c.topic))} == {"asb"}

    # My data, as text (the stand-in has no document messages).
    await phone.send("MYDATA")
    exported = phone.last().text
    assert "Everything Lookout holds about you" in exported and '"asb"' in exported and '"transport"' in exported

    # Polish, chosen from the language list: the bot's own words change, the keywords stay.
    await phone.send("LANGUAGE")
    await phone.tap("Polski")
    assert phone.last().text == "Język: polski."
    await phone.send("HELP")
    assert "PLACES" in phone.last().text and "Gdy przyjdzie alert" in phone.last().text
    await phone.send("STOP")
    await phone.tap("Nie, zostaw alerty")
    assert app.rows(sa.select(sa.func.count()).select_from(residents))[0][0] == 1


async def test_typed_answers_and_a_child_who_is_turned_away(app: Running) -> None:
    child = WhatsAppPhone(app.wa, "447700900402")
    await child.send("hello")
    await child.send("no")  # typed: the first word of "No, I'm younger"
    assert "Nothing about you has been kept" in child.last().text
    assert app.rows(sa.select(sa.func.count()).select_from(residents))[0][0] == 0

    phone = WhatsAppPhone(app.wa, "447700900403")
    await phone.send("hello")
    await phone.send("Yes")
    await phone.send("ST16 2LZ")
    await phone.send("yes")
    await phone.send("Grandma's")  # their own name for the place
    await phone.send("Burglary")  # unticks All local crime
    await phone.send("done")
    await phone.send("Retail")
    assert "You're all set" in phone.last().text
    (resident,) = app.rows(sa.select(residents.c.sector))
    assert resident.sector == "retail"
    assert [p.label for p in app.rows(sa.select(places.c.label))] == ["Grandma's"]
    assert {r.topic for r in app.rows(sa.select(subscriptions.c.topic))} == {"burglary"}


async def test_tips_out_of_the_blue_by_replying_to_an_alert_photos_gone_and_flood_control(
    app: Running, force, uow_factory, clock
) -> None:
    phone = WhatsAppPhone(app.wa, "447700900404")
    await subscribe(phone)

    # Out of the blue: offered, sent anonymously, a reference back.
    await phone.send("There's a van parked on the pavement outside number 4.")
    assert "send this to the police" in phone.last().text
    await phone.tap("Yes, send it")
    await phone.tap("Stay anonymous")
    (tip,) = app.rows(sa.select(tips.c.reference, tips.c.anonymous, tips.c.contact))
    assert tip.reference in phone.last().text and tip.anonymous and tip.contact is None

    # Things the bot cannot read get a polite answer; a reaction gets none.
    answers = len(phone.messages())
    await app.wa.receive_from_user(phone.wa_id, "Resident", "audio", {"id": "123", "mime_type": "audio/ogg"})
    assert "can't read that kind of message" in phone.last().text
    await app.wa.receive_from_user(phone.wa_id, "Resident", "reaction", {"message_id": phone.last().id, "emoji": "👍"})
    assert len(phone.messages()) == answers + 1

    # A photo WhatsApp no longer has: the resident is asked to send it again; nothing is lost or stored half-done.
    delivery = await phone.send_image(b"\xff\xd8 jpeg", caption=None)
    assert "send this to the police" in phone.last().text and delivery.status_code == 200
    app.wa.media.clear()
    await phone.tap("Yes, send it")
    await phone.tap("Stay anonymous")
    assert "couldn't fetch your photos" in phone.last().text
    assert len(app.rows(sa.select(tips.c.id))) == 1
    await phone.tap("Cancel")

    # A reply to an alert is information about that alert.
    alerts = AlertService(uow_factory, force, roles=Roles(), clock=clock)
    draft = await alerts.draft(
        AlertRequest(
            everyone=True,
            incident_number="MV-20261125-0456",
            headline="Bogus callers",
            message="Two men claiming to be from the water board.",
            area=CircleArea(*STAFFORD, 500),
        ),
        "cli:test",
    )
    alert = (await alerts.send(draft.id, "cli:test")).alert
    adapter = WhatsAppAdapter(CloudApi(TOKEN, PHONE_ID, app.wa.api_base))
    try:
        await DeliveryWorker(
            uow_factory, {Channel.WHATSAPP: adapter}, force_name=force.name, clock=clock
        ).run_until_idle()
    finally:
        await adapter.aclose()
    sent = await phone.wait_for_text("Bogus callers")
    await phone.send("They were at number 12 ten minutes ago.", reply_to=sent.id)
    await phone.tap("Stay anonymous")
    about_alert = app.rows(sa.select(tips.c.alert_id).order_by(tips.c.id))[-1]
    assert about_alert.alert_id == alert.id

    # Flood control: beyond the force's tips a minute, one notice, then silence, and nothing more stored.
    for n in range(3):
        await phone.send(f"Suspicious car number {n}")
        await phone.tap("Yes, send it")
        await phone.tap("Stay anonymous")
    texts = phone.texts()
    assert sum("Please wait a minute" in t for t in texts) == 1
    assert len(app.rows(sa.select(tips.c.id))) == 1 + 1 + 1  # the first, the alert's, and one more within the minute
    assert app.rows(sa.select(sa.func.count()).select_from(conversations))[0][0] == 1


async def test_useful_or_not_by_reply_button_in_the_window_and_by_the_templates_quick_reply_outside_it(
    app: Running,
) -> None:
    phone = WhatsAppPhone(app.wa, "447700900481")
    await subscribe(phone)
    alerts = AlertService(app.lookout.uow, app.lookout.force, roles=Roles(), clock=app.lookout.clock)

    async def send_and_deliver(headline: str):
        draft = await alerts.draft(
            AlertRequest(
                everyone=True,
                incident_number="MV-20261125-0456",
                headline=headline,
                message="Two men claiming to be from the water board.",
                area=CircleArea(*STAFFORD, 500),
            ),
            "cli:test",
        )
        alert = (await alerts.send(draft.id, "cli:test")).alert
        adapter = WhatsAppAdapter(CloudApi(TOKEN, PHONE_ID, app.wa.api_base))
        try:
            await DeliveryWorker(
                app.lookout.uow, {Channel.WHATSAPP: adapter}, force_name=app.lookout.force.name, clock=app.lookout.clock
            ).run_until_idle()
        finally:
            await adapter.aclose()
        return alert

    # In the 24-hour window: three reply buttons under the alert; the tap's thank-you is a message of its own.
    first = await send_and_deliver("Bogus callers")
    sent = await phone.wait_for_text("Bogus callers")
    assert [(b["reply"]["id"], b["reply"]["title"]) for b in sent.content["action"]["buttons"]] == [
        (f"tip:{first.id}", "I have information"),
        (f"fb:{first.id}:u", "👍 Useful"),
        (f"fb:{first.id}:n", "👎 Not useful"),
    ]
    await phone.tap("Not useful")
    assert phone.last().type == "text" and phone.last().text == (
        "Thank you — we'll use your answer to make our alerts better."
    )
    answers = sa.select(alert_feedback.c.alert_id, alert_feedback.c.channel, alert_feedback.c.useful)
    assert [tuple(r) for r in app.rows(answers)] == [(first.id, "whatsapp", False)]

    # Outside it: the approved template, whose quick replies carry the same answers (Meta reports the payload).
    async with app.lookout.engine.begin() as conn:
        await conn.execute(sa.update(residents).values(last_inbound_at=app.lookout.clock() - timedelta(hours=30)))
    second = await send_and_deliver("Car thefts")
    template = next(m for m in reversed(phone.messages()) if m.type == "template")
    assert "Car thefts" in json.dumps(template.content)
    await phone.quick_reply("👍 Useful")
    assert phone.last().text == "Thank you — we're glad this alert was useful."
    assert sorted(tuple(r) for r in app.rows(answers)) == [(first.id, "whatsapp", False), (second.id, "whatsapp", True)]
    # Pressed twice (a change of heart, or a double tap), still one answer for this resident.
    await phone.quick_reply("👍 Useful")
    assert len(app.rows(answers)) == 2
