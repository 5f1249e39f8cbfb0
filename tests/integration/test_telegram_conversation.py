"""The Telegram conversation in detail, through its door: update JSON posted to the webhook with the secret header,
the app in-process (served on loopback), replies read from the Bot API stand-in, both databases.

How prompts are drawn after a tap (edited in place, or a new message), buttons from before the move onto the
shared conversation, what the conversation keeps (a refusal nothing, a typed address only for its step, an
abandoned conversation until the retention job), and that an update changes only what it must. The journeys
through the real ``lookout serve`` process are in tests/e2e/test_telegram_resident.py.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa

from core.services.maintenance import MaintenanceService, RetentionPeriods
from core.settings import Settings
from runtime.app import Lookout, build, create_app
from sandbox.nominatim import NominatimStandIn
from sandbox.server import BackgroundServer
from sandbox.telegram import TelegramLimits, TelegramStandIn
from sandbox.telegram_users import SimulatedUser, TelegramUsers
from storage.tables import conversations, residents
from tests.support.clock import FakeClock
from tests.support.database import rows
from tests.support.residents import STAFFORD
from tests.support.telegram_phone import Phone

pytestmark = pytest.mark.calendar  # make test runs it again with the clock moved

TOKEN = "123456:CONVERSATION"
SECRET = "conversation-secret-0123456789"


@dataclass
class Running:
    telegram: TelegramStandIn
    users: TelegramUsers
    lookout: Lookout
    database_url: str

    def phone(self, chat_id: int, **user: str) -> Phone:
        return Phone(self.telegram, self.users, SimulatedUser(chat_id, **user))

    def rows(self, query: sa.Select) -> list:
        return rows(self.database_url, query)

    def conversations(self) -> list:
        c = conversations
        return self.rows(sa.select(c.c.channel, c.c.address, c.c.step, c.c.data).order_by(c.c.address))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))  # the retention test moves it on


@pytest.fixture
def nominatim() -> Iterator[NominatimStandIn]:
    with NominatimStandIn() as stand_in:
        yield stand_in


@pytest.fixture
async def app(
    database_url: str, caplog: pytest.LogCaptureFixture, clock, nominatim: NominatimStandIn
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


# --- how prompts are drawn ------------------------------------------------------------------------


async def test_ticking_edits_the_question_in_place_and_an_outcome_replaces_it(app: Running) -> None:
    phone = app.phone(880001)
    subscribe(phone)
    phone.send("/topics")
    question = phone.last()
    phone.press("Burglary")
    phone.press("Vehicle crime")
    assert phone.last().message_id == question.message_id and phone.last().edits == 2  # one message, ticked twice
    ticks = json.dumps(phone.last().reply_markup, ensure_ascii=False)
    assert "✅ Burglary" in ticks and "✅ Vehicle crime" in ticks and "▫️ All local crime" in ticks
    phone.press("Done")
    assert phone.last().message_id == question.message_id and phone.last().visible.startswith("Saved. Topics:")
    assert phone.last().reply_markup is None  # nothing left to tap

    phone.send("/pause")
    phone.press("8 hours")
    assert (
        phone.last().visible == "Paused for 8 h. Send /resume to start again sooner."
        and phone.last().reply_markup is None
    )


async def test_a_new_question_takes_the_buttons_off_the_one_answered(app: Running) -> None:
    phone = app.phone(880002)
    phone.send("/start")
    welcome = phone.last()
    phone.press("12 or older")
    assert phone.last().message_id != welcome.message_id
    assert phone.last().reply_markup["keyboard"][0][0]["request_location"] is True  # type: ignore[index]
    answered = next(m for m in phone.messages() if m.message_id == welcome.message_id)
    assert (
        answered.reply_markup is None and "are you 12 or older?" in answered.visible
    )  # the question stays, its buttons go
    assert app.telegram.callback_answers  # the button's spinner was stopped


async def test_a_summary_or_a_tip_reference_is_a_message_of_its_own(app: Running) -> None:
    phone = app.phone(880007)
    subscribe(phone)
    summary, sector_question = phone.messages()[-1], phone.messages()[-2]
    assert "You're all set" in summary.visible and "Are you signing up for a business?" in sector_question.visible
    assert sector_question.reply_markup is None  # answered: its buttons are gone
    phone.send("A van without plates on Eastgate Street.")
    phone.press("Yes, send it")
    phone.press("Stay anonymous")
    thanks, question = phone.messages()[-1], phone.messages()[-2]
    assert (
        "Your reference is" in thanks.visible
        and "Can officers contact you" in question.visible
        and question.reply_markup is None
    )


async def test_help_lists_the_commands_in_words_without_a_second_menu_of_buttons(app: Running) -> None:
    phone = app.phone(880003)
    phone.send("/help")
    assert "/places" in phone.last().visible and "/mydata" in phone.last().visible
    assert "inline_keyboard" not in (phone.last().reply_markup or {})
    phone.send("/nonsense")  # an unknown command is answered with the help
    assert "/places" in phone.last().visible


async def test_an_expired_button_is_said_below_and_leaves_its_message_alone(app: Running) -> None:
    phone = app.phone(880004)
    subscribe(phone)
    first_age_question = phone.messages()[0]
    app.users.presses_button(phone.user, first_age_question.message_id, "age:yes")  # long answered
    answer = phone.last()
    assert answer.message_id != first_age_question.message_id
    assert answer.visible.startswith("That button is from an earlier message, so it no longer works.")
    assert "/places" in answer.visible  # what they can do now, not only the bad news
    assert (
        "are you 12 or older?"
        in next(m for m in phone.messages() if m.message_id == first_age_question.message_id).visible
    )


async def test_an_old_button_mid_question_shows_the_question_they_are_on(app: Running) -> None:
    phone = app.phone(880014)
    phone.send("/start")
    phone.press("12 or older")
    phone.share_location(*STAFFORD)  # now on "What is this place to you?"
    first_age_question = phone.messages()[0]
    app.users.presses_button(phone.user, first_age_question.message_id, "age:no")
    answer = phone.last()
    assert (
        answer.visible.startswith("That button is from an earlier message")
        and "Here's where you were:" in answer.visible
    )
    assert "What is this place to you?" in answer.visible
    assert "Home" in json.dumps(answer.reply_markup)  # the buttons that work now
    phone.press("Home")  # and they do
    assert "Which alerts would you like?" in phone.last().visible
    assert app.conversations()[0].step == "topics"


# --- a shared location in words ---------------------------------------------------------------------


async def test_a_shared_location_is_confirmed_by_its_street_and_the_summary_names_it(app: Running) -> None:
    phone = app.phone(880015)
    phone.send("/start")
    phone.press("12 or older")
    phone.share_location(*STAFFORD)
    assert phone.last().visible.startswith("Got it — near Greengate Street, Stafford.\n\nWhat is this place to you?")
    phone.press("Home")
    first_row = phone.last().reply_markup["inline_keyboard"][0]  # type: ignore[index]
    assert [b["text"] for b in first_row] == ["All local crime (recommended)"]
    phone.press("All local crime (recommended)")  # one tap, and on to the next question
    assert "Are you signing up for a business?" in phone.last().visible
    phone.press("I'm a resident")
    assert "Alerts near: Home (near Greengate Street, Stafford)" in phone.last().visible
    assert "Topics: All local crime" in phone.last().visible
    stored = json.dumps([list(row) for row in app.conversations()], default=str)
    assert "Greengate" not in stored and str(STAFFORD[0]) not in stored  # nothing of the place kept in the conversation


@pytest.mark.parametrize("fault", ["slow", "down"])
async def test_a_street_lookup_that_fails_or_dawdles_leaves_the_words_without_it(
    app: Running, nominatim, fault: str
) -> None:
    if fault == "slow":
        nominatim.set_delay(30)  # far beyond what a resident is kept waiting
    else:
        nominatim.fail_with(503)
    phone = app.phone(880016)
    phone.send("/start")
    phone.press("12 or older")
    phone.share_location(*STAFFORD)
    assert phone.last().visible.startswith("Got it — thank you.\n\nWhat is this place to you?")
    phone.press("Home")
    phone.press("Done")
    phone.press("I'm a resident")
    assert "Alerts near: Home\n" in phone.last().visible


async def test_buttons_sent_before_the_move_still_work(app: Running) -> None:
    """aiogram packed its callback data its own way; taps on messages already on residents' screens still count."""
    phone = app.phone(880005)
    subscribe(phone)
    phone.send("/places")
    phone.press("Add a place")
    phone.send("ST16 3AA")
    app.users.presses_button(phone.user, phone.last().message_id, "cp:1")  # aiogram's "Yes, that's right"
    phone.press("Work")
    phone.send("/places")
    app.users.presses_button(phone.user, phone.last().message_id, "pl:remove:0")  # aiogram's "Remove Home"
    assert phone.last().visible == "Removed. You now get alerts for: Work."


async def test_groups_and_other_bots_are_acknowledged_and_left_alone(app: Running) -> None:
    someone = SimulatedUser(880006)
    group = {"id": -100880006, "type": "group", "title": "Neighbours"}
    message = {"message_id": 1, "from": someone.as_json(), "chat": group, "date": 1_700_000_000, "text": "/start"}
    assert app.users.post({"message": message}).status_code == 200
    press = {
        "id": "9",
        "from": someone.as_json(),
        "chat_instance": "1",
        "data": "age:yes",
        "message": {**message, "text": "?"},
    }
    assert app.users.post({"callback_query": press}).status_code == 200
    assert app.telegram.messages_to(-100880006) == [] and app.conversations() == []
    assert app.telegram.callback_answers[-1]["callback_query_id"] == "9"  # its spinner stopped, nothing more


# --- what the conversation keeps (issue: conversation state keeps personal data) ----------------------


async def test_an_under_age_refusal_keeps_nothing_not_even_the_chat_or_a_language(app: Running) -> None:
    child = app.phone(880010)
    child.send("/language")
    child.press("Polski")
    child.send("/start")
    assert [(c.channel, c.address, c.step) for c in app.conversations()] == [("telegram", "880010", "age")]
    child.press_first()  # "Tak" (yes), in Polish
    child.send("/start")
    child.users.presses_button(child.user, child.last().message_id, "age:no")
    assert child.last().visible != ""
    assert app.conversations() == [] and app.rows(sa.select(residents.c.id)) == []


async def test_a_typed_address_goes_with_the_step_that_offered_it(app: Running) -> None:
    phone = app.phone(880011)
    phone.send("/start")
    phone.press("12 or older")
    phone.send("ST16 2LZ")
    ((_, _, step, data),) = app.conversations()
    assert step == "confirm_place" and "ST16 2LZ" in str(data)  # offered: "Is this right?"
    phone.press("No, try again")
    ((_, _, step, data),) = app.conversations()
    assert step == "location" and "ST16" not in str(data) and "candidates" not in data
    phone.send("ST16 2LZ")
    phone.press("Yes, that's right")
    ((_, _, step, data),) = app.conversations()
    assert step == "label" and "ST16" not in str(data)  # chosen: only its cell is kept


async def test_abandoned_conversations_are_purged_and_a_subscriber_keeps_only_their_language(
    app: Running, uow_factory, clock
) -> None:
    resident = app.phone(880012, language_code="pl")
    subscribe_in_polish(resident)
    assert app.rows(sa.select(residents.c.language)) == [("pl",)]
    resident.send("There's a van parked on the pavement outside number 4.")  # a tip offered, then left
    walked_away = app.phone(880013)
    walked_away.send("/start")
    walked_away.press("12 or older")
    walked_away.send("ST16 2LZ")  # the typed address, as a lookup's label
    assert {(c.address, c.step) for c in app.conversations()} == {("880012", "tip_offer"), ("880013", "confirm_place")}

    maintenance = MaintenanceService(
        uow_factory, timezone="Europe/London", retention=RetentionPeriods(conversation_hours=6), clock=clock
    )
    clock.advance(hours=5)
    await maintenance.purge_expired_data()
    assert len(app.conversations()) == 2  # not abandoned yet
    clock.advance(hours=2)
    await maintenance.purge_expired_data()
    assert [(c.address, c.step) for c in app.conversations() if c.step is not None or set(c.data) - {"lang"}] == []
    assert "880013" not in [c.address for c in app.conversations()]


def subscribe_in_polish(phone: Phone) -> None:
    phone.send("/language")
    phone.press("Polski")  # kept in the conversation (the one thing a subscriber's idle conversation keeps)
    phone.send("/start")
    phone.press_first()
    phone.share_location(*STAFFORD)
    phone.press_first()
    phone.press("✔️")
    phone.press_first()
