"""The SMS face of the conversation through its real doors: signed Twilio form posts to /sms/webhook and
/sms/status, the app in-process on loopback, Twilio's Messages resource played by the stand-in, both databases.

The whole journey (join by postcode with numbered choices, an alert cut to the segment budget, a tip about
it with a picture, an officer's reply and the answer to it, STOP, START), the signature and once-only checks,
and the adapter's reading of Twilio's refusals.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import sqlalchemy as sa

from bots.sms.adapter import SmsAdapter
from bots.sms.platform import PLATFORM as SMS
from core.delivery.worker import DeliveryWorker
from core.geo.areas import CircleArea
from core.model import Address, Channel
from core.outbound import OutboundMessage
from core.services.alerts import AlertRequest, sms_cost_in_words
from core.settings import Settings
from core.sms_segments import count_segments
from runtime.app import Lookout, build, create_app
from sandbox.nominatim import NominatimStandIn
from sandbox.server import BackgroundServer
from sandbox.sms import SmsStandIn
from storage.tables import (
    conversations,
    deliveries,
    inbound_updates,
    residents,
    subscriptions,
    tip_media,
    tip_notes,
    tips,
)
from tests.support.database import count, rows
from tests.support.processes import free_port
from tests.support.residents import STAFFORD
from tests.support.sms_phone import SmsPhone

ACCOUNT = "AC" + "0" * 32
TOKEN = "sms-test-auth-token"
OFFICER = "U01OFFICER1"


@dataclass
class Running:
    sms: SmsStandIn
    lookout: Lookout
    database_url: str
    url: str

    def rows(self, query: sa.Select) -> list:
        return rows(self.database_url, query)

    def adapter(self) -> SmsAdapter:
        """An adapter of the test's own (the app's lives on the server's event loop)."""
        adapter = SMS.build_adapter(self.lookout.settings, force=self.lookout.force, engine=self.lookout.engine)
        assert isinstance(adapter, SmsAdapter)
        return adapter

    async def deliver(self) -> None:
        """A delivery worker, run until idle."""
        adapter = self.adapter()
        try:
            await DeliveryWorker(
                self.lookout.uow, {Channel.SMS: adapter}, force_name=self.lookout.force.name, clock=self.lookout.clock
            ).run_until_idle()
        finally:
            await adapter.aclose()


@pytest.fixture
async def app(database_url: str, caplog: pytest.LogCaptureFixture, clock) -> AsyncIterator[Running]:
    port = free_port()  # the signatures are over the public URL, so it is known before the app is built
    url = f"http://127.0.0.1:{port}"
    with SmsStandIn(ACCOUNT, TOKEN, webhook_url=f"{url}/sms/webhook") as sms, NominatimStandIn() as nominatim:
        settings = Settings(
            LOOKOUT_DATABASE_URL=database_url,
            LOOKOUT_PUBLIC_URL=url,
            SMS_ACCOUNT_SID=ACCOUNT,
            SMS_AUTH_TOKEN=TOKEN,
            SMS_FROM=sms.number,
            SMS_API_BASE=sms.api_base,
            SMS_MAX_SEGMENTS="2",
            LOOKOUT_GEOCODER_DOMAIN=nominatim.domain,
            LOOKOUT_GEOCODER_SCHEME="http",
            SLACK_TIPS_CHANNEL="C01TIPS",
            SLACK_OFFICER_IDS=OFFICER,
        )
        lookout = build(settings, clock=clock)
        server = BackgroundServer(create_app(lookout), "lookout", port)
        server.start()
        try:
            yield Running(sms, lookout, database_url, url)
        finally:
            server.stop()
            await lookout.aclose()
    failures = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not failures, f"the app logged errors: {failures}"


async def join(phone: SmsPhone) -> None:
    await phone.text("Hello")
    assert "Mercia Vale Police" in phone.last() and "Reply 1 for" in phone.last()
    await phone.text("1")  # 12 or older
    await phone.text("ST16 2DH")
    if "Reply 1 for" in phone.last() and "Home" not in phone.last():
        await phone.text("1")  # the first address found
    await phone.text("home")  # a typed word naming a choice
    await phone.text("Done")
    await phone.text("1")  # a resident, not a business
    assert "You're all set" in phone.last()


async def test_joining_by_text_all_crime_is_reply_1_and_the_summary_names_the_street(app: Running) -> None:
    phone = SmsPhone(app.sms, "+447700900509")
    await phone.text("Hello")
    assert "call 999" in phone.last()
    await phone.text("1")  # 12 or older
    await phone.text("ST16 2DH")
    if "Reply 1 for" in phone.last() and "Home" not in phone.last():
        await phone.text("1")
    await phone.text("home")
    assert "Reply 1 for All local crime (recommended), 2 for All local crime (chosen)" in phone.last()
    await phone.text("1")  # one answer, and on to the next question
    assert "signing up for a business" in phone.last()
    await phone.text("1")
    summary = phone.last()
    assert "Alerts near: Home (near " in summary and "Topics: All local crime" in summary
    assert count_segments(summary).encoding == "GSM-7"
    assert {r.topic for r in app.rows(sa.select(subscriptions.c.topic))} == {"all"}


async def test_the_whole_journey_by_text(app: Running) -> None:
    phone = SmsPhone(app.sms, "+447700900501")
    address = Address(Channel.SMS, phone.number)
    await join(phone)
    assert all(count_segments(t).encoding == "GSM-7" for t in phone.texts())  # no dash or curly quote made one UCS-2
    (resident,) = app.rows(sa.select(residents.c.address, residents.c.active))
    assert resident.address == str(address) and resident.active

    # Keywords in any case: HELP answers with the force's name and how to stop; TOPICS lists numbered choices.
    await phone.text("help")
    assert "Mercia Vale Police" in phone.last() and "STOP" in phone.last()
    await phone.text("Topics")
    assert "Reply 1 for" in phone.last()
    await phone.text("Done")

    # An alert longer than two segments is cut at a word, with a link to its public page.
    alerts = app.lookout.alerts
    message = "Two men claiming to be from the water board are calling at homes on the estate. " * 6
    draft = await alerts.draft(
        AlertRequest(
            everyone=True,
            incident_number="MV-20261125-0456",
            headline="Bogus callers",
            message=message.strip(),
            area=CircleArea(*STAFFORD, 2000),
        ),
        OFFICER,
    )
    assert draft.id is not None
    preview = await alerts.preview(draft.id, OFFICER)
    cost = preview.sms_cost
    assert cost is not None and (cost.segments, cost.encoding, cost.texts) == (2, "GSM-7", 1) and cost.price == 0.08
    assert "SMS: 2 segments a text (GSM-7); 1 text, 2 segments, about 0.08" == sms_cost_in_words(cost)
    await alerts.send(draft.id, OFFICER)
    await app.deliver()
    alert_text = await phone.wait_for_text("Bogus callers")
    assert count_segments(alert_text).count <= 2 and "MV-20261125-0456" in alert_text
    assert "More: " + app.url + "/alerts/" in alert_text and "STOP to end" in alert_text
    assert app.sms.sent_to(phone.number)[-1].num_segments <= 2  # as the provider counts them
    link = alert_text.split("More: ")[1].split()[0]
    async with httpx.AsyncClient() as client:
        page, guessed = await client.get(link), await client.get(link[:-3] + "abc")
    assert page.status_code == 200 and message.split(".")[0] in page.text and "MV-20261125-0456" in page.text
    assert phone.number not in page.text and guessed.status_code == 404
    await phone.wait_for(
        lambda: app.rows(sa.select(deliveries.c.delivered_at).where(deliveries.c.delivered_at.is_not(None)))
    )

    # A text within a day of the alert is offered as information about it; a picture comes with it.
    await phone.text("Two men in a white van at number 12", pictures=((b"\xff\xd8 jpeg", "image/jpeg"),))
    assert "Send this to the police about Bogus callers?" in phone.last()
    await phone.text("YES")
    await phone.text("2")  # you may contact me
    (tip,) = app.rows(sa.select(tips.c.id, tips.c.reference, tips.c.alert_id, tips.c.contact))
    assert tip.reference in phone.last() and tip.alert_id == draft.id and phone.number in tip.contact
    assert app.rows(sa.select(sa.func.count()).select_from(tip_media))[0][0] == 1

    # An officer's reply arrives as a text; the resident's answer goes to the same tip.
    await app.lookout.tips.reply(tip.reference, OFFICER, "Which way did the van go?")
    await app.deliver()
    await phone.wait_for_text("Which way did the van go?")
    await phone.text("Towards the station")
    assert tip.reference in phone.last()
    notes = app.rows(sa.select(tip_notes.c.text).order_by(tip_notes.c.id))
    assert notes[-1].text == "Towards the station"

    # STOP (any case): inactive at once, nothing said back (the provider confirms it); START resumes.
    answers = len(phone.texts())
    await phone.text("stop")
    assert app.rows(sa.select(residents.c.active))[0].active is False
    assert len(phone.texts()) == answers
    await phone.text("Start")
    assert app.rows(sa.select(residents.c.active))[0].active is True
    assert "Welcome back" in phone.last()


async def test_a_landline_reported_by_the_carrier_is_dead_and_the_resident_inactive(app: Running) -> None:
    phone = SmsPhone(app.sms, "+441785000002")  # it can text (a landline with a text service), not receive alerts
    await join(phone)
    app.sms.unreachable[phone.number] = 30006
    draft = await app.lookout.alerts.draft(
        AlertRequest(
            everyone=True,
            incident_number="MV-20261125-0457",
            headline="Missing man",
            message="Have you seen him?",
            area=CircleArea(*STAFFORD, 2000),
        ),
        OFFICER,
    )
    assert draft.id is not None
    await app.lookout.alerts.send(draft.id, OFFICER)
    await app.deliver()
    dead = await phone.wait_for(
        lambda: app.rows(sa.select(deliveries.c.last_error).where(deliveries.c.state == "dead"))
    )
    assert "30006" in dead[0].last_error and app.sms.sent_to(phone.number)[-1].status == "undelivered"
    assert app.rows(sa.select(residents.c.active))[0].active is False


async def test_signatures_and_each_message_once(app: Running) -> None:
    phone = app.sms.phone("+447700900502")
    form = phone.inbound_form("Hello")
    url = f"{app.url}/sms/webhook"
    for signature in ("", "not-a-signature", app.sms.sign(f"{app.url}/sms/other", form), "x" * 200):
        call = await app.sms.post_signed(url, form, signature=signature)
        assert call.status_code == 403
    forged = await app.sms.post_signed(
        f"{app.url}/sms/status",
        {"MessageSid": "SM" + "1" * 32, "To": phone.number, "MessageStatus": "delivered"},
        signature="x",
    )
    assert forged.status_code == 403
    assert count(app.database_url, inbound_updates) == 0 and count(app.database_url, conversations) == 0
    assert app.sms.texts_to(phone.number) == []

    # Twilio delivering the same MessageSid again: answered once.
    first = await app.sms.post_signed(url, form)
    again = await app.sms.post_signed(url, form)
    assert first.status_code == again.status_code == 200
    assert len(app.sms.texts_to(phone.number)) == 1

    # Signed, but not a Twilio message: 400, never 500.
    for bad in (
        {"MessageSid": "nope", "From": phone.number},
        {**form, "MessageSid": "SM" + "2" * 32, "From": "someone"},
        {**form, "MessageSid": "SM" + "3" * 32, "NumMedia": "many"},
    ):
        call = await app.sms.post_signed(url, bad)
        assert call.status_code == 400


async def test_the_adapter_reads_twilios_refusals(app: Running) -> None:
    adapter = app.adapter()
    message = OutboundMessage(text="A test message")
    app.sms.landlines.add("+441785000001")
    app.sms.opted_out.add("+447700900503")
    app.sms.unreachable["+447700900504"] = 30003

    landline = await adapter.send(Address(Channel.SMS, "+441785000001"), message)
    assert landline.permanent_reason and "21614" in landline.permanent_reason and landline.recipient_gone
    opted_out = await adapter.send(Address(Channel.SMS, "+447700900503"), message)
    assert "21610" in (opted_out.permanent_reason or "") and opted_out.recipient_gone
    invalid = await adapter.send(Address(Channel.SMS, "+12"), message)
    assert "21211" in (invalid.permanent_reason or "") and invalid.recipient_gone
    sent = await adapter.send(Address(Channel.SMS, "+447700900504"), message)
    assert sent.ok and sent.provider_message_id and sent.provider_message_id.startswith("SM")

    app.sms.max_per_second = 0
    limited = await adapter.send(Address(Channel.SMS, "+447700900505"), message)
    assert limited.retryable and limited.retry_after and "20429" in (limited.error or "")
    await adapter.aclose()


async def test_every_picture_of_an_mms_is_fetched_and_attached_to_the_tip(app: Running) -> None:
    phone = SmsPhone(app.sms, "+447700900506")
    await join(phone)
    pictures = ((b"\xff\xd8 first", "image/jpeg"), (b"\x89PNG second", "image/png"), (b"GIF89a third", "image/gif"))
    # A signed inbound webhook as Twilio posts an MMS: NumMedia=3 and MediaUrl0..2 on the provider's API.
    call = await phone.text("The van, its number plate and the driver", pictures=pictures)
    assert call.form["NumMedia"] == "3" and all(f"MediaUrl{i}" in call.form for i in range(3))
    assert "Send this to the police" in phone.last() or "Would you like to send this" in phone.last()
    await phone.text("YES")
    await phone.text("1")  # anonymous
    (tip,) = app.rows(sa.select(tips.c.id, tips.c.reference, tips.c.text))
    assert tip.reference in phone.last() and tip.text == "The van, its number plate and the driver"
    media = app.rows(
        sa.select(tip_media.c.name, tip_media.c.content_type, tip_media.c.data)
        .where(tip_media.c.tip_id == tip.id)
        .order_by(tip_media.c.id)
    )
    assert [(m.name, m.content_type, bytes(m.data)) for m in media] == [
        ("photo-1.jpg", "image/jpeg", b"\xff\xd8 first"),
        ("photo-2.png", "image/png", b"\x89PNG second"),
        ("photo-3.gif", "image/gif", b"GIF89a third"),
    ]


async def test_an_mms_picture_that_is_not_an_image_or_too_large_is_left_out(app: Running) -> None:
    phone = SmsPhone(app.sms, "+447700900507")
    await join(phone)
    # The message says image/jpeg for each; the provider serves a web page for one and 6 MB for another.
    form = phone.device.inbound_form(
        "Outside the shop",
        pictures=((b"\xff\xd8 ok", "image/jpeg"), (b"<html>", "image/jpeg"), (b"x" * (6 * 1024 * 1024), "image/jpeg")),
    )
    media_sid = form["MediaUrl1"].rsplit("/", 1)[1]
    app.sms.media[media_sid] = (b"<html>", "text/html")
    call = await app.sms.post_signed(app.sms.webhook_url or "", form)
    assert call.status_code == 200
    await phone.text("YES")
    await phone.text("1")
    (tip,) = app.rows(sa.select(tips.c.id, tips.c.reference))
    assert "2 photo(s) could not be fetched" in phone.last()
    media = app.rows(sa.select(tip_media.c.data).where(tip_media.c.tip_id == tip.id))
    assert [bytes(m.data) for m in media] == [b"\xff\xd8 ok"]
