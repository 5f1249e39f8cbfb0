"""The resident's whole Telegram journey through the real app, with the sandbox's Telegram API only.

``lookout serve`` runs as a process (web + worker + scheduler) with Telegram
and Slack pointed at the sandbox's stand-ins; the resident acts by posting
Update JSON to its webhook, officers act through the CLI and through signed
Slack requests (the tips queue), and everything the app sends is read back
from the stand-ins.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from core.geo.cells import cell_to_int, snap
from sandbox.nominatim import NominatimStandIn
from sandbox.slack import SlackStandIn
from sandbox.slack_records import SlackLimits
from sandbox.telegram import TelegramLimits, TelegramStandIn
from sandbox.telegram_users import SimulatedUser, TelegramUsers
from storage.database import make_sync_engine
from storage.tables import (
    conversations,
    deliveries,
    metadata,
    places,
    residents,
    subscriptions,
    tip_notes,
    tips,
)
from tests.support.database import rows
from tests.support.processes import Server, lookout_env, run_json
from tests.support.residents import STAFFORD
from tests.support.slack_officer import eventually
from tests.support.slack_tips import (
    officer_replies_in_slack,
    photos_in_thread,
    said_in_thread,
    tip_in_slack,
)
from tests.support.telegram_phone import Phone

TOKEN = "123456:TEST"
SECRET = "webhook-secret-0123456789"
SLACK_TOKEN = "xoxb-resident-e2e"
SLACK_SECRET = "resident-e2e-signing-secret"
OFFICER = "U01OFFICER1"
TIPS_CHANNEL = "C01TIPSQUEUE"
HOSTILE = "<b>bold</b> & <script>alert(1)</script> *_[]()~`>#+-=|{}.!"


@pytest.fixture
def service(database_url: str, request: pytest.FixtureRequest):
    # A test taps far faster than a person: a deep per-chat burst keeps it from waiting out flood limits it would never meet.
    slack = SlackStandIn(SLACK_TOKEN, SLACK_SECRET, limits=SlackLimits(post_per_channel_per_second=None))
    with (
        TelegramStandIn(TOKEN, limits=TelegramLimits(per_chat_burst=50)) as telegram,
        NominatimStandIn() as nominatim,
        slack,
    ):
        env = lookout_env(
            database_url,
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE=telegram.base_url,
            TELEGRAM_WEBHOOK_SECRET=SECRET,
            LOOKOUT_GEOCODER_DOMAIN=nominatim.domain,
            SLACK_TIPS_CHANNEL=TIPS_CHANNEL,
            SLACK_OFFICER_IDS=OFFICER,
            SLACK_BOT_TOKEN=SLACK_TOKEN,
            SLACK_SIGNING_SECRET=SLACK_SECRET,
            SLACK_API_BASE=slack.api_url,
        )
        server = Server(env)
        env["LOOKOUT_PUBLIC_URL"] = server.url
        request.node.lookout_server = server  # a test may stop it early to read everything it logged
        try:
            server.wait_until_up()
            # Registered as `lookout telegram set-webhook` would (that command is tested in test_telegram_webhook.py);
            # calling setWebhook directly saves starting a second process for every test.
            answer = httpx.post(
                f"{telegram.base_url}/bot{TOKEN}/setWebhook",
                data={"url": f"{server.url}/telegram/webhook", "secret_token": SECRET},
            )
            assert answer.json()["ok"], answer.text
            yield telegram, slack, env
        finally:
            output = server.stop()
            if "Traceback" in output:
                pytest.fail(f"the server logged an error:\n{output[-4000:]}")


def test_subscribe_by_location_receive_alerts_send_a_tip_talk_to_an_officer_and_leave(
    service, database_url: str
) -> None:
    telegram, slack, env = service
    phone = Phone(telegram, TelegramUsers(telegram), SimulatedUser(777001, first_name="Sam", username="sam_s"))

    # Onboarding: welcome, age, location, label, topics, sector.
    phone.send("/start")
    assert "Mercia Vale Police" in phone.last().visible and "/stop" in phone.last().visible
    phone.press("12 or older")
    keyboard = phone.last().reply_markup["keyboard"]
    assert keyboard[0][0]["request_location"] is True
    phone.share_location(52.80671, -2.11742, live_period=900)  # a live location is taken once
    phone.press("Home")
    phone.press("Burglary")  # ticking a specific topic unticks All local crime: what is ticked is what they get
    ticked = json.dumps(phone.last().reply_markup, ensure_ascii=False)
    assert "✅ Burglary" in ticked and "✅ All local crime" not in ticked
    phone.press("Done")
    phone.press("I'm a resident")
    assert "You're all set" in phone.last().visible and "Burglary" in phone.last().visible

    (resident,) = rows(database_url, sa.select(residents))
    assert resident.address == "telegram:777001"
    (cell,) = rows(database_url, sa.select(places.c.cell))
    assert cell.cell == cell_to_int(snap(52.80671, -2.11742, 10))
    assert {r.topic for r in rows(database_url, sa.select(subscriptions.c.topic))} == {"burglary"}
    state_json = json.dumps([list(r) for r in rows(database_url, sa.select(conversations.c.data))], default=str)
    assert "52.80671" not in state_json and "-2.11742" not in state_json  # only the snapped cell's centre was ever kept

    # An alert raised by an officer, with hostile text that must arrive literally.
    sent = run_json(
        [
            "alert",
            "send",
            "--incident",
            "MV-20261125-0456",
            "--headline",
            f"Burglary {HOSTILE}",
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
    alert = phone.wait_for_text("MV-20261125-0456")
    assert HOSTILE in alert.visible and "Call 101" in alert.visible and "Eastgate Street" in alert.visible

    run_json(
        ["alert", "update", sent["reference"], "--message", "One man detained; the other ran towards the station."], env
    )
    update = phone.wait_for_text("ran towards the station")
    assert update.params["reply_parameters"]["message_id"] == alert.message_id  # the update is a reply to the alert

    # A tip from the button: text, a photo and where they saw it; officers may contact them.
    phone.press("I have information")
    phone.send("He went into the alley behind the chip shop.")
    phone.send_photo(b"\xff\xd8\xff\xe0 a jpeg", caption="Blue jacket")
    phone.share_location(52.80512, -2.11902)
    phone.press("Done")
    phone.press("You may contact me")
    ack = phone.last().visible
    (tip,) = rows(database_url, sa.select(tips))
    assert tip.reference in ack
    assert "chip shop" in tip.text and "Blue jacket" in tip.text and len(tip.media) == 1
    assert (tip.lat, tip.lon) == (52.80512, -2.11902) and not tip.anonymous and "@sam_s" in tip.contact
    queued = rows(database_url, sa.select(deliveries.c.address).where(deliveries.c.address.like("slack:%")))
    assert {q.address for q in queued} == {f"slack:{TIPS_CHANNEL}"} and len(
        queued
    ) == 2  # the alert's thread root, the tip

    # In Slack: a reply in the alert's thread, with its reference, and the photo uploaded into the same thread.
    card = asyncio.run(tip_in_slack(slack, TIPS_CHANNEL, tip.reference))
    root = slack.message(TIPS_CHANNEL, card.thread_ts or "")
    assert card.is_reply and root is not None and sent["reference"] in root.text
    assert tip.reference in card.text and "Blue jacket" in card.text and "mlat=52.805120" in card.text
    (photo,) = asyncio.run(photos_in_thread(slack, card))
    assert photo.content == b"\xff\xd8\xff\xe0 a jpeg" and photo.shares and photo.shares[0][0] == TIPS_CHANNEL

    # An officer replies from Slack; the resident answers by replying to it; the answer lands in the same thread.
    events = f"{env['LOOKOUT_PUBLIC_URL']}/slack/events"
    asyncio.run(
        officer_replies_in_slack(slack, events, OFFICER, card, tip.reference, "Thank you. Was he carrying anything?")
    )
    reply = phone.wait_for_text("Was he carrying anything?")
    assert tip.reference in reply.visible and OFFICER not in reply.visible
    phone.send("A black holdall.", reply_to=reply.message_id)
    assert tip.reference in phone.last().visible
    assert [n.author for n in rows(database_url, sa.select(tip_notes.c.author).order_by(tip_notes.c.id))] == [
        OFFICER,
        "tipster",
    ]
    answer = asyncio.run(said_in_thread(slack, card, "A black holdall."))
    assert tip.reference in answer.text and answer.is_reply

    # The cancellation rewrites the original alert and says so.
    run_json(["alert", "cancel", sent["reference"], "--yes", "--reason", "Both men arrested."], env)
    phone.wait_for(lambda: "CANCELLED" in next(m for m in phone.messages() if m.message_id == alert.message_id).visible)
    phone.wait_for_text("Both men arrested.")

    # Topics change, my data, and erasure.
    phone.send("/topics")
    phone.press("Vehicle crime")
    phone.press("Done")
    assert {r.topic for r in rows(database_url, sa.select(subscriptions.c.topic))} == {"burglary", "vehicle"}
    phone.send("/mydata")
    document = phone.last()
    assert document.kind == "document"
    exported = json.loads(telegram.files[document.file_id].content)
    assert exported["topics"] == ["burglary", "vehicle"] and exported["tips"][0]["reference"] == tip.reference
    # Everything held about them: the contact officers see, the conversation with officers, whether they are blocked.
    (mine,) = exported["tips"]
    assert "@sam_s" in mine["contact_given_to_officers"] and mine["shown_to_officers_as"].startswith("Tipster ")
    assert mine["conversation"] == [
        {"from": "officer", "text": "Thank you. Was he carrying anything?", "at": mine["conversation"][0]["at"]},
        {"from": "you", "text": "A black holdall.", "at": mine["conversation"][1]["at"]},
    ]
    assert exported["tips_blocked"] is False and OFFICER not in json.dumps(exported)
    phone.send("/stop")
    phone.press("Yes, delete it all")
    assert "deleted" in phone.last().visible

    # The tip's post in Slack keeps what they saw (evidence) but loses who they are, through the worker's chat.update.
    asyncio.run(
        eventually(
            lambda: "erased their data" in slack.message(TIPS_CHANNEL, card.ts).text,
            timeout=15,
            what="the tip's post redacted",
        )
    )
    redacted = slack.message(TIPS_CHANNEL, card.ts)
    assert "chip shop" in redacted.text and "sam_s" not in json.dumps([redacted.text, redacted.blocks])
    assert "Sam" not in redacted.text and not [b for b in redacted.blocks or [] if b.get("type") == "actions"]
    if database_url.startswith("sqlite"):  # deleted rows are overwritten, in the database file and its WAL alike
        path = make_url(database_url).database
        raw = b"".join(Path(f).read_bytes() for f in (path, f"{path}-wal") if Path(f).exists())
        for gone in (b"sam_s", b"A black holdall", b"Was he carrying anything"):
            assert gone not in raw, gone
    for table in (residents, places, subscriptions, tips, tip_notes, conversations):
        assert rows(database_url, sa.select(sa.func.count()).select_from(table))[0][0] == 0, table.name
    assert (
        rows(
            database_url,
            sa.select(sa.func.count()).select_from(deliveries).where(deliveries.c.address == "telegram:777001"),
        )[0][0]
        == 0
    )


def test_postcode_onboarding_age_refusal_flood_control_and_bad_updates(service, database_url: str) -> None:
    telegram, _slack, _env = service
    users = TelegramUsers(telegram)

    child = Phone(telegram, users, SimulatedUser(777002))
    child.send("/start")
    child.press("No, I'm younger")
    assert "Nothing about you has been kept" in child.last().visible
    assert rows(database_url, sa.select(sa.func.count()).select_from(residents))[0][0] == 0

    phone = Phone(telegram, users, SimulatedUser(777003))
    phone.send("/start")
    phone.press("12 or older")
    phone.send("Nowhere Street, Atlantis")
    assert "couldn't find" in phone.last().visible
    phone.send("st16 2lz")
    assert "Is this right?" in phone.last().visible and "ST16 2LZ" in phone.last().visible
    phone.press("Yes, that's right")
    phone.press("Work")
    phone.press("Done")
    phone.press("Retail")
    assert "You're all set" in phone.last().visible and "Retail" in phone.last().visible

    # Flood control: beyond the force's tips a minute, one notice, then silence, and nothing more stored.
    for n in range(5):
        phone.send(f"Suspicious car number {n}")
        phone.press("Yes, send it")
        phone.press("Stay anonymous")
    texts = phone.texts()
    assert sum("reached the officers" in t for t in texts) == 3
    assert sum("Please wait a minute" in t for t in texts) == 1
    assert rows(database_url, sa.select(sa.func.count()).select_from(tips))[0][0] == 3

    # A typed message that is not a command nor a reply, from someone not subscribed: the welcome, as /start gives.
    Phone(telegram, users, SimulatedUser(777004)).send("hello?")
    assert "are you 12 or older?" in telegram.messages_to(777004)[-1].visible


def test_managing_places_pause_quiet_hours_business_and_language(service, database_url: str) -> None:
    telegram, _slack, _env = service
    phone = Phone(telegram, TelegramUsers(telegram), SimulatedUser(777005, language_code="pl"))
    phone.send("/start")
    assert "Mercia Vale Police" in phone.last().visible and "Lookout" in phone.last().visible
    polish_welcome = phone.last().visible
    assert "Hello!" not in polish_welcome  # their app is in Polish, so Lookout speaks Polish
    phone.press("12")  # the age button, whatever the language
    phone.share_location(*STAFFORD)
    phone.press_first()  # the first label: home
    phone.press("✔️")  # done
    phone.press_first()  # carry on as a resident
    assert "Burglary" not in phone.last().visible and "/stop" in phone.last().visible

    phone.send("/language")
    phone.press("English")
    assert phone.last().visible == "Language: English."

    # A second place by postcode, renamed, then the first removed.
    phone.send("/places")
    phone.press("Add a place")
    phone.send("ST16 3AA")
    phone.press("Yes, that's right")
    phone.press("Work")
    assert "Work" in phone.last().visible
    phone.send("/places")
    phone.press("Rename Work")
    phone.send("Stables")
    assert "Stables" in phone.last().visible
    phone.send("/places")
    phone.press("Remove Dom")  # named in Polish when they joined
    assert [p.label for p in rows(database_url, sa.select(places.c.label))] == ["Stables"]
    phone.send("/places")
    phone.press("Remove Stables")
    assert "only place" in phone.last().visible  # never left with nowhere
    assert len(rows(database_url, sa.select(places.c.label))) == 1

    phone.send("/pause")
    phone.press("8 hours")
    (paused,) = rows(database_url, sa.select(residents.c.paused_until))
    assert paused.paused_until is not None
    phone.send("/resume")
    assert rows(database_url, sa.select(residents.c.paused_until))[0].paused_until is None

    phone.send("/quiet")
    phone.press("22:00–07:00")
    (quiet,) = rows(database_url, sa.select(residents.c.quiet_start, residents.c.quiet_end))
    assert (quiet.quiet_start, quiet.quiet_end) == ("22:00", "07:00")

    phone.send("/business")
    phone.press("Farming")
    assert rows(database_url, sa.select(residents.c.sector))[0].sector == "farming"

    phone.send("/help")
    assert "/mydata" in phone.last().visible and "999" in phone.last().visible


HOME = (52.8071234, -2.1192345)


def test_a_home_location_is_never_stored_or_logged(service, database_url: str, request: pytest.FixtureRequest) -> None:
    """Subscribe by sharing a location, then search every table and the server's whole log for it."""
    telegram, _slack, _env = service
    phone = Phone(telegram, TelegramUsers(telegram), SimulatedUser(777006))
    phone.send("/start")
    phone.press("12 or older")
    phone.share_location(*HOME)
    phone.press("Home")
    phone.press("Done")
    phone.press("I'm a resident")
    phone.send("/mydata")
    assert "You're all set" in phone.texts()[-2]

    engine = make_sync_engine(database_url)
    dump = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            dump.extend(repr(tuple(row)) for row in conn.execute(sa.select(table)))
    engine.dispose()
    log = request.node.lookout_server.stop()
    needles = [f"{HOME[0]:.5f}"[:-1], f"{HOME[1]:.5f}"[:-1]]  # 52.8071, -2.1192: to ~10 m, let alone exact
    everything = "\n".join([*dump, log])
    assert "telegram" in log  # the log is really there
    assert dump and not any(n in everything for n in needles), [
        line for line in dump if any(n in line for n in needles)
    ]
    exported = json.loads(telegram.files[phone.last().file_id].content)
    assert not any(n in json.dumps(exported) for n in needles)  # /mydata shows the cell's centre, not the spot


def test_answers_to_officers_count_as_tips_and_a_quoted_reference_needs_an_officers_reply(
    service, database_url: str
) -> None:
    telegram, slack, env = service
    phone = Phone(telegram, TelegramUsers(telegram), SimulatedUser(777010))
    phone.send("/start")
    phone.press("12 or older")
    phone.send("st16 2lz")
    phone.press("Yes, that's right")
    phone.press("Home")
    phone.press("Done")
    phone.press("I'm a resident")
    phone.send("A man trying car doors on Eastgate Street.")
    phone.press("Yes, send it")
    phone.press("Stay anonymous")
    confirmation = phone.last()
    (tip,) = rows(database_url, sa.select(tips))
    assert tip.reference in confirmation.visible

    # Replying to a message that merely names the tip (here the bot's own confirmation) is not a way to the officers.
    phone.send("Quoting my own reference to reach the queue", reply_to=confirmation.message_id)
    assert "Officers haven't written to you about" in phone.last().visible
    assert rows(database_url, sa.select(tip_notes)) == []

    card = asyncio.run(tip_in_slack(slack, TIPS_CHANNEL, tip.reference))
    events = f"{env['LOOKOUT_PUBLIC_URL']}/slack/events"
    asyncio.run(officer_replies_in_slack(slack, events, OFFICER, card, tip.reference, "Which way did he go?"))
    reply = phone.wait_for_text("Which way did he go?")

    # Now answers are welcome, but they count with the tip towards the force's three a minute: one notice, then silence.
    for n in range(6):
        phone.send(f"Answer number {n}", reply_to=reply.message_id)
    texts = phone.texts()
    assert sum("Sent to the officer" in t for t in texts) == 2
    assert sum("Please wait a minute" in t for t in texts) == 1
    authors = [n.author for n in rows(database_url, sa.select(tip_notes.c.author))]
    assert authors.count("tipster") == 2
    asyncio.run(said_in_thread(slack, card, "Answer number 1"))
    assert not [m for m in slack.messages_in(TIPS_CHANNEL) if "Answer number 2" in m.text or "Quoting" in m.text]


def test_a_refusal_after_choosing_a_language_keeps_nothing_not_even_the_chat(service, database_url: str) -> None:
    telegram, _slack, _env = service
    child = Phone(telegram, TelegramUsers(telegram), SimulatedUser(777009))
    child.send("/language")
    child.press("Polski")
    child.send("/start")
    child.users.presses_button(child.user, child.last().message_id, "age:1")  # "Yes, I'm 12 or older" (in Polish)
    assert (
        rows(database_url, sa.select(sa.func.count()).select_from(conversations))[0][0] == 1
    )  # mid-way: kept, for now
    child.send("/start")
    child.users.presses_button(child.user, child.last().message_id, "age:0")  # "No, I'm younger"
    assert (
        child.last().visible != "" and rows(database_url, sa.select(sa.func.count()).select_from(residents))[0][0] == 0
    )
    assert rows(database_url, sa.select(conversations.c.address, conversations.c.data)) == []
