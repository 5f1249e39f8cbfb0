"""Residents' feedback on alerts through Telegram's door: the "Useful / Not useful" buttons under an alert, pressed
as Telegram sends the press (update JSON to the webhook with the secret header), counted once per resident in the
officer's report, on SQLite and PostgreSQL; forged and stale presses change nothing; erasure and retention unlink
an answer from the resident and keep the count.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa

from bots.telegram.adapter import TelegramAdapter, make_bot
from core.delivery.worker import DeliveryWorker
from core.geo.areas import CircleArea
from core.model import Address, Alert, Channel
from core.services.alerts import AlertRequest
from core.services.maintenance import MaintenanceService, RetentionPeriods
from core.settings import Settings
from runtime.app import Lookout, build, create_app
from sandbox.nominatim import NominatimStandIn
from sandbox.server import BackgroundServer
from sandbox.telegram import TelegramLimits, TelegramStandIn
from sandbox.telegram_users import SimulatedUser, TelegramUsers
from storage.tables import alert_feedback
from tests.support.clock import FakeClock
from tests.support.database import rows
from tests.support.residents import STAFFORD
from tests.support.telegram_phone import Phone

TOKEN = "123456:FEEDBACK"
SECRET = "feedback-secret-0123456789"
OFFICER = "U01OFFICER1"


@dataclass
class Running:
    telegram: TelegramStandIn
    users: TelegramUsers
    lookout: Lookout
    database_url: str

    def phone(self, chat_id: int) -> Phone:
        return Phone(self.telegram, self.users, SimulatedUser(chat_id))

    def answers(self) -> list:
        f = alert_feedback.c
        return rows(self.database_url, sa.select(f.alert_id, f.resident_id, f.channel, f.useful).order_by(f.id))

    async def send_alert(self, headline: str = "Bogus callers on Eastgate Street") -> Alert:
        request = AlertRequest(
            incident_number="MV-20261125-0456",
            headline=headline,
            message="Two men claiming to be from the water board.",
            area=CircleArea(*STAFFORD, 500),
            urgency="Immediate",
            everyone=True,
        )
        draft = await self.lookout.alerts.draft(request, OFFICER)
        return (await self.lookout.alerts.send(draft.id, OFFICER)).alert

    async def deliver(self) -> None:
        adapter = TelegramAdapter(make_bot(TOKEN, self.telegram.base_url))
        try:
            await DeliveryWorker(
                self.lookout.uow,
                {Channel.TELEGRAM: adapter},
                force_name=self.lookout.force.name,
                clock=self.lookout.clock,
            ).run_until_idle()
        finally:
            await adapter.aclose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))  # the retention test moves it on


@pytest.fixture
def nominatim() -> Iterator[NominatimStandIn]:
    with NominatimStandIn() as stand_in:
        yield stand_in


@pytest.fixture
async def app(
    database_url: str, caplog: pytest.LogCaptureFixture, clock: FakeClock, nominatim: NominatimStandIn
) -> AsyncIterator[Running]:
    limits = TelegramLimits(per_chat_burst=50)  # a test taps far faster than a person
    with TelegramStandIn(TOKEN, limits=limits) as telegram:
        settings = Settings(
            LOOKOUT_DATABASE_URL=database_url,
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE=telegram.base_url,
            TELEGRAM_WEBHOOK_SECRET=SECRET,
            LOOKOUT_GEOCODER_DOMAIN=nominatim.domain,
            LOOKOUT_GEOCODER_SCHEME="http",
            SLACK_OFFICER_IDS=OFFICER,
        )
        lookout = build(settings, clock=clock)
        server = BackgroundServer(create_app(lookout), "lookout")
        server.start()
        answer = httpx.post(
            f"{telegram.base_url}/bot{TOKEN}/setWebhook",
            data={"url": f"{server.base_url}/telegram/webhook", "secret_token": SECRET},
        )
        assert answer.json()["ok"], answer.text
        try:
            yield Running(telegram, TelegramUsers(telegram), lookout, database_url)
        finally:
            server.stop()
            await lookout.aclose()
    failures = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not failures, f"the app logged errors: {failures}"


def subscribe(phone: Phone) -> None:
    phone.send("/start")
    phone.press("12 or older")
    phone.share_location(*STAFFORD)
    phone.press("Home")
    phone.press("Done")
    phone.press("I'm a resident")
    assert "You're all set" in phone.last().visible


def keyboard(record) -> list[list[tuple[str, str]]]:
    return [[(b["text"], b["callback_data"]) for b in row] for row in record.reply_markup["inline_keyboard"]]


async def test_an_alert_asks_if_it_was_useful_and_one_answer_per_resident_counts(app: Running) -> None:
    phone, neighbour = app.phone(770001), app.phone(770002)
    subscribe(phone)
    subscribe(neighbour)
    alert = await app.send_alert()
    await app.deliver()
    received = phone.wait_for_text("Bogus callers on Eastgate Street")
    assert keyboard(received) == [
        [("I have information", f"tip:{alert.id}")],
        [("👍 Useful", f"fb:{alert.id}:u"), ("👎 Not useful", f"fb:{alert.id}:n")],  # side by side
    ]

    phone.press("Useful")
    thanks = app.telegram.callback_answers[-1]
    assert thanks["text"] == "Thank you — we're glad this alert was useful."  # on the press, not a new message
    shown = next(m for m in phone.messages() if m.message_id == received.message_id)
    assert phone.last().message_id == received.message_id  # no new message in the chat
    assert shown.visible == received.visible  # the alert's words stay as they were
    assert keyboard(shown)[1] == [("✅ Useful", f"fb:{alert.id}:u"), ("👎 Not useful", f"fb:{alert.id}:n")]

    # A change of mind replaces the answer; it never counts twice.
    phone.press("Not useful")
    assert app.telegram.callback_answers[-1]["text"] == "Thank you — we'll use your answer to make our alerts better."
    assert keyboard(next(m for m in phone.messages() if m.message_id == received.message_id))[1] == [
        ("👍 Useful", f"fb:{alert.id}:u"),
        ("✅ Not useful", f"fb:{alert.id}:n"),
    ]
    neighbour.press("Useful")
    assert [(a.alert_id, a.channel, a.useful) for a in app.answers()] == [
        (alert.id, "telegram", False),
        (alert.id, "telegram", True),
    ]

    report = await app.lookout.alerts.reach_report(alert.reference or "", OFFICER)
    assert report.feedback_total.useful == 1 and report.feedback_total.not_useful == 1
    assert report.feedback_csv() == f"alert,channel,useful,not_useful\n{alert.reference},telegram,1,1\n"


async def test_a_press_for_an_alert_never_sent_to_them_or_a_garbled_one_changes_nothing(app: Running) -> None:
    phone, outsider = app.phone(770011), app.phone(770012)
    subscribe(phone)
    alert = await app.send_alert()
    await app.deliver()
    phone.wait_for_text("Bogus callers on Eastgate Street")

    # Someone the alert never reached forges its button on a message of their own.
    outsider.send("/help")
    answers_before = len(app.telegram.callback_answers)
    app.users.presses_button(outsider.user, outsider.last().message_id, f"fb:{alert.id}:u")
    refused = outsider.last()
    assert refused.visible == "That alert wasn't sent to you, so it can't be rated. Nothing was changed."
    assert len(app.telegram.callback_answers) == answers_before + 1  # the spinner stopped, without a thank-you
    assert "text" not in app.telegram.callback_answers[-1]
    # A subscriber answering an alert id that does not exist, and data that is not an answer at all.
    app.users.presses_button(phone.user, phone.last().message_id, "fb:999999:u")
    assert phone.last().visible == "That alert wasn't sent to you, so it can't be rated. Nothing was changed."
    app.users.presses_button(phone.user, phone.last().message_id, f"fb:{alert.id}:maybe")
    assert phone.last().visible.startswith("That button is from an earlier message, so it no longer works.")
    assert app.answers() == []


async def test_erasure_and_retention_take_the_resident_off_an_answer_and_keep_the_count(
    app: Running, clock: FakeClock
) -> None:
    leaver, stayer = app.phone(770021), app.phone(770022)
    subscribe(leaver)
    subscribe(stayer)
    alert = await app.send_alert()
    await app.deliver()
    for phone in (leaver, stayer):
        phone.wait_for_text("Bogus callers on Eastgate Street")
        phone.press("Useful")
    assert all(a.resident_id is not None for a in app.answers())
    mine = await app.lookout.subscriptions.export(Address(Channel.TELEGRAM, "770021"))  # what /mydata sends
    assert [(a["alert"], a["useful"]) for a in mine["alert_feedback"]] == [(alert.reference, True)]

    leaver.send("/stop")
    leaver.press("Yes")
    assert "deleted" in leaver.last().visible.lower()
    assert sorted((a.resident_id is None, a.useful) for a in app.answers()) == [(False, True), (True, True)]

    clock.advance(days=91)  # past the delivery retention (90 days by default): the answer stays only as a count
    maintenance = MaintenanceService(
        app.lookout.uow, timezone="Europe/London", retention=RetentionPeriods(), clock=clock
    )
    await maintenance.purge_expired_data()
    assert [(a.resident_id, a.useful) for a in app.answers()] == [(None, True), (None, True)]
    report = await app.lookout.alerts.reach_report(alert.reference or "", OFFICER)
    assert report.feedback_total.useful == 2
    # Now the delivery is gone too, so the alert can no longer be answered (a stale button).
    stayer.press("Not useful")
    assert stayer.last().visible == "That alert wasn't sent to you, so it can't be rated. Nothing was changed."
    assert [a.useful for a in app.answers()] == [True, True]
