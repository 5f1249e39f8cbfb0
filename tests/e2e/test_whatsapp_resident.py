"""The resident's whole WhatsApp journey through the real app, with the sandbox's WhatsApp Cloud API only.

``lookout serve`` runs as a process (web + worker + scheduler) with WhatsApp
and Slack pointed at the sandbox's stand-ins; the resident acts through the
WhatsApp stand-in's simulated user (signed webhooks in Meta's real payload
shapes), officers act through the CLI and through signed Slack requests (the
tips queue), and everything the app sends is read back from the stand-ins.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa

from core.geo.cells import cell_to_int, snap
from sandbox.nominatim import NominatimStandIn
from sandbox.slack import SlackStandIn
from sandbox.slack_records import SlackLimits
from sandbox.whatsapp import WhatsAppLimits, WhatsAppStandIn
from storage.database import make_sync_engine
from storage.tables import (
    conversations,
    deliveries,
    inbound_updates,
    places,
    residents,
    subscriptions,
    tip_media,
    tip_notes,
    tips,
)
from tests.support.database import count, rows
from tests.support.processes import Server, lookout_env, run_json
from tests.support.residents import STAFFORD
from tests.support.slack_tips import (
    officer_replies_in_slack,
    photos_in_thread,
    said_in_thread,
    tip_in_slack,
)
from tests.support.whatsapp_phone import WhatsAppPhone

TOKEN = "wa-test-token"
PHONE_ID = "100000000000001"
APP_SECRET = "wa-test-app-secret"
VERIFY_TOKEN = "wa-test-verify-token"
SLACK_TOKEN = "xoxb-resident-e2e"
SLACK_SECRET = "resident-e2e-signing-secret"
OFFICER = "U01OFFICER1"
TIPS_CHANNEL = "C01TIPSQUEUE"
DAY = 24 * 3600


@pytest.fixture
def service(database_url: str):
    # A test taps far faster than a person: a deep pair-rate burst keeps it from waiting out a limit it would never meet.
    limits = WhatsAppLimits(per_user_burst=50)
    slack = SlackStandIn(SLACK_TOKEN, SLACK_SECRET, limits=SlackLimits(post_per_channel_per_second=None))
    with WhatsAppStandIn(TOKEN, PHONE_ID, APP_SECRET, limits=limits) as wa, NominatimStandIn() as nominatim, slack:
        env = lookout_env(
            database_url,
            WHATSAPP_TOKEN=TOKEN,
            WHATSAPP_PHONE_NUMBER_ID=PHONE_ID,
            WHATSAPP_APP_SECRET=APP_SECRET,
            WHATSAPP_VERIFY_TOKEN=VERIFY_TOKEN,
            WHATSAPP_API_BASE=wa.api_base,
            LOOKOUT_GEOCODER_DOMAIN=nominatim.domain,
            SLACK_TIPS_CHANNEL=TIPS_CHANNEL,
            SLACK_OFFICER_IDS=OFFICER,
            SLACK_BOT_TOKEN=SLACK_TOKEN,
            SLACK_SIGNING_SECRET=SLACK_SECRET,
            SLACK_API_BASE=slack.api_url,
        )
        server = Server(env)
        env["LOOKOUT_PUBLIC_URL"] = server.url
        wa.callback_url = f"{server.url}/whatsapp/webhook"
        try:
            server.wait_until_up()
            yield wa, slack, env
        finally:
            output = server.stop()
            if "Traceback" in output:
                pytest.fail(f"the server logged an error:\n{output[-4000:]}")


def delivered_as(database_url: str, wamid: str) -> bool:
    """The worker has recorded the delivery that WhatsApp knows as ``wamid``."""
    return count(database_url, deliveries, deliveries.c.provider_message_id == wamid) == 1


def set_last_inbound(database_url: str, address: str, at: datetime) -> None:
    engine = make_sync_engine(database_url)
    with engine.begin() as conn:
        conn.execute(sa.update(residents).where(residents.c.address == address).values(last_inbound_at=at))
    engine.dispose()


# Storage (receipts, erasure) is tested on both databases in the integration tests and the Telegram journey.
async def test_subscribe_by_location_alerts_in_and_out_of_the_window_a_tip_an_officer_and_stop(
    service, database_url: str
) -> None:
    wa, slack, env = service
    phone = WhatsAppPhone(wa, "447700900111", name="Sam Jones")
    address = "whatsapp:447700900111"

    # Onboarding: any first message gets the welcome; age; a location message; label; topics; sector.
    await phone.send("Hi")
    assert "Mercia Vale Police" in phone.last().text and "STOP" in phone.last().text
    await phone.tap("12 or older")
    assert phone.last().content["type"] == "location_request_message"
    await phone.share_location(52.80671, -2.11742)
    await phone.tap("Home")
    await phone.tap("Choose topics")  # beside the one-tap "All local crime": the list of topics
    await phone.tap("Burglary")  # unticks All local crime: burglary only
    ticked = json.dumps(phone.last().content, ensure_ascii=False)
    assert "✅ Burglary" in ticked and "✅ All local crime" not in ticked
    await phone.tap("Done")
    await phone.tap("I'm a resident")
    assert "You're all set" in phone.last().text and "Burglary" in phone.last().text

    (cell,) = rows(database_url, sa.select(places.c.cell))
    assert cell.cell == cell_to_int(snap(52.80671, -2.11742, 10))
    assert {r.topic for r in rows(database_url, sa.select(subscriptions.c.topic))} == {"burglary"}
    state_json = json.dumps([list(r) for r in rows(database_url, sa.select(conversations.c.data))], default=str)
    assert (
        "52.8067" not in state_json and "-2.1174" not in state_json
    )  # never the coordinates, not even in conversation

    # An alert inside the 24-hour window: free-form, with an "I have information" reply button.
    sent = run_json(
        [
            "alert",
            "send",
            "--incident",
            "MV-20261125-0456",
            "--headline",
            "Burglary in progress",
            "--message",
            "Two men seen in gardens on Eastgate Street.",
            "--at",
            f"{STAFFORD[0]},{STAFFORD[1]}",
            "--radius",
            "1km",
            "--topics",
            "burglary",
            "--yes",
        ],
        env,
    )
    alert = await phone.wait_for_text("MV-20261125-0456")
    assert alert.type == "interactive" and "Eastgate Street" in alert.text and "Call 101" in alert.text
    assert alert.content["action"]["buttons"][0]["reply"]["title"] == "I have information"

    # Meta's status webhooks land on the delivery row: officers see it was delivered and read.
    await phone.wait_for(lambda: delivered_as(database_url, alert.id))
    for status in ("sent", "delivered", "read"):
        assert (await wa.report_status(alert.id, status)).status_code == 200
    (receipt,) = rows(
        database_url,
        sa.select(deliveries.c.delivered_at, deliveries.c.read_at).where(deliveries.c.provider_message_id == alert.id),
    )
    assert receipt.delivered_at is not None and receipt.read_at is not None

    # A tip from the button: text, a photo and where they saw it; officers may contact them.
    await phone.tap("I have information")
    await phone.send("He went into the alley behind the chip shop.")
    await phone.send_image(b"\xff\xd8\xff\xe0 a jpeg", caption="Blue jacket")
    await phone.share_location(52.80512, -2.11902)
    await phone.tap("Done")
    await phone.tap("You may contact me")
    (tip,) = rows(database_url, sa.select(tips))
    assert tip.reference in phone.last().text
    assert "chip shop" in tip.text and "Blue jacket" in tip.text
    assert (tip.lat, tip.lon) == (52.80512, -2.11902) and not tip.anonymous and "+447700900111" in tip.contact
    (photo,) = rows(database_url, sa.select(tip_media.c.data, tip_media.c.content_type))
    assert photo.data == b"\xff\xd8\xff\xe0 a jpeg" and photo.content_type == "image/jpeg"
    queued = rows(database_url, sa.select(deliveries.c.address).where(deliveries.c.address.like("slack:%")))
    assert {q.address for q in queued} == {f"slack:{TIPS_CHANNEL}"} and len(
        queued
    ) == 2  # the alert's thread root, the tip

    # In Slack: a reply in the alert's thread, with its reference, and the photo uploaded into the same thread.
    card = await tip_in_slack(slack, TIPS_CHANNEL, tip.reference)
    root = slack.message(TIPS_CHANNEL, card.thread_ts or "")
    assert card.is_reply and root is not None and sent["reference"] in root.text
    assert tip.reference in card.text and "chip shop" in card.text and "Blue jacket" in card.text
    assert "mlat=52.805120" in card.text and "+447700900111" in card.text
    (photo,) = await photos_in_thread(slack, card)
    assert photo.content == b"\xff\xd8\xff\xe0 a jpeg" and photo.shares and photo.shares[0][0] == TIPS_CHANNEL

    # An officer replies from Slack; the resident answers by replying to that message; the answer lands in the thread.
    events = f"{env['LOOKOUT_PUBLIC_URL']}/slack/events"
    await officer_replies_in_slack(slack, events, OFFICER, card, tip.reference, "Thank you. Was he carrying anything?")
    reply = await phone.wait_for_text("Was he carrying anything?")
    assert tip.reference in reply.text and reply.content["action"]["buttons"][0]["reply"]["title"] == "Answer"
    await phone.wait_for(
        lambda: delivered_as(database_url, reply.id)
    )  # the worker records it within 0.2 s; a person is slower
    await phone.send("A black holdall.", reply_to=reply.id)
    assert tip.reference in phone.last().text
    assert [n.author for n in rows(database_url, sa.select(tip_notes.c.author).order_by(tip_notes.c.id))] == [
        OFFICER,
        "tipster",
    ]
    answer = await said_in_thread(slack, card, "A black holdall.")
    assert tip.reference in answer.text and answer.is_reply

    # A day later Meta's window has closed, though our record says otherwise: the free-form update is
    # refused (131047) and goes again at once as the approved template.
    wa.advance(DAY + 60)
    run_json(
        ["alert", "update", sent["reference"], "--message", "One man detained; the other ran towards the station."], env
    )
    update = await phone.wait_for(lambda: next((m for m in phone.messages() if m.type == "template"), None))
    assert "Update: Burglary in progress" in update.text and "ran towards the station" in update.text
    assert wa.rejected_codes(phone.wa_id) == [131047]

    # When our record also says the window closed, the cancellation goes straight as the template.
    set_last_inbound(database_url, address, datetime.now(UTC) - timedelta(days=2))
    run_json(["alert", "cancel", sent["reference"], "--yes", "--reason", "Both men arrested."], env)
    cancelled = await phone.wait_for_text("Both men arrested.")
    assert cancelled.type == "template" and "Cancelled: Burglary in progress" in cancelled.text
    assert wa.rejected_codes(phone.wa_id) == [131047]  # no second refusal

    # The template's "Stop alerts" quick reply, then the confirmation: everything goes.
    await phone.quick_reply("Stop alerts")
    await phone.tap("Yes, delete it all")
    assert "deleted" in phone.last().text
    for table in (residents, places, subscriptions, tips, tip_notes, tip_media, conversations):
        assert count(database_url, table) == 0, table.name
    assert count(database_url, deliveries, deliveries.c.address == address) == 0


async def test_postcode_onboarding_and_a_webhook_that_refuses_what_meta_did_not_send(
    service, database_url: str
) -> None:
    wa, _slack, _env = service
    url = wa.callback_url
    assert url is not None

    # Meta's verification handshake: the challenge echoed for the right token, 403 otherwise.
    assert (await wa.verify_subscription(VERIFY_TOKEN, challenge="1158201444")).text == "1158201444"
    assert (await wa.verify_subscription("wrong-token")).status_code == 403

    # Signatures: missing, malformed, wrong, or a body altered by one byte → 401 and nothing stored.
    body = json.dumps(_text_webhook("447700900222", "wamid.forged", "hello")).encode()
    good = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    altered = body.replace(b"hello", b"hellp")
    async with httpx.AsyncClient(timeout=10) as client:
        for headers, content in [
            ({}, body),
            ({"X-Hub-Signature-256": "sha256=not-hex"}, body),
            ({"X-Hub-Signature-256": good.removeprefix("sha256=")}, body),
            ({"X-Hub-Signature-256": "sha256=" + "0" * 64}, body),
            ({"X-Hub-Signature-256": ("sha256=é" + "0" * 63).encode("latin-1")}, body),  # not ASCII
            ({"X-Hub-Signature-256": good}, altered),
        ]:
            answer = await client.post(url, content=content, headers=headers)
            assert answer.status_code == 401, (headers, answer.text)
        # Signed, but not JSON / not a WhatsApp webhook: a 4xx, and the app keeps serving.
        for junk in (
            b"{not json",
            b"[1, 2]",
            b'{"object": "page"}',
            b'{"object": "whatsapp_business_account", "entry": 7}',
        ):
            signature = "sha256=" + hmac.new(APP_SECRET.encode(), junk, hashlib.sha256).hexdigest()
            answer = await client.post(url, content=junk, headers={"X-Hub-Signature-256": signature})
            assert answer.status_code == 400, junk
    for table in (inbound_updates, residents, conversations):
        assert count(database_url, table) == 0, table.name
    assert wa.sent_count() == 0

    # Onboarding by postcode: a failed lookup is explained, a single match confirmed.
    phone = WhatsAppPhone(wa, "447700900333")
    await phone.send("hello")
    first = await phone.send("hello")  # a second message while on the welcome: a nudge, nothing lost
    assert "buttons" in phone.last().text and first.status_code == 200
    await phone.tap("12 or older")
    await phone.send("Nowhere Street, Atlantis")
    assert "couldn't find" in phone.last().text and phone.last().content["type"] == "location_request_message"
    await phone.send("st16 2lz")
    assert "Is this right?" in phone.last().text and "ST16 2LZ" in phone.last().text
    await phone.send("yes")  # typed, not tapped
    await phone.send("Work")
    await phone.tap("All local crime")  # the recommended answer, one tap
    await phone.tap("Retail")
    assert "You're all set" in phone.last().text and "Retail" in phone.last().text
    assert rows(database_url, sa.select(residents.c.sector))[0].sector == "retail"

    # A repeated wamid (Meta retrying) changes nothing and gets no second answer.
    answers_before = len(phone.messages())
    repeat = await phone.send("PLACES")
    again = await wa.deliver(repeat.payload)
    assert again.status_code == 200 and len(phone.messages()) == answers_before + 1
    assert count(database_url, inbound_updates, inbound_updates.c.update_id == repeat.message_id) == 1


def _text_webhook(wa_id: str, wamid: str, body: str) -> dict:
    message = {"from": wa_id, "id": wamid, "timestamp": "1764000000", "type": "text", "text": {"body": body}}
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "447700900000", "phone_number_id": PHONE_ID},
        "contacts": [{"profile": {"name": "Mallory"}, "wa_id": wa_id}],
        "messages": [message],
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"value": value, "field": "messages"}]}],
    }
