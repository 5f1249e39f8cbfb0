"""The bot that answers residents rides out Telegram's transient failures, and a repeated edit is not an error."""

from __future__ import annotations

import pytest
from aiogram.exceptions import AiogramError

from bots.telegram.adapter import make_conversation_bot
from bots.telegram.request_retries import RETRY_PAUSES_S
from sandbox.telegram import TelegramLimits, TelegramStandIn

TOKEN = "123456:CONVERSE"


@pytest.fixture
def telegram():
    with TelegramStandIn(TOKEN, limits=TelegramLimits(per_bot_per_second=None, per_chat_interval=None)) as stand_in:
        yield stand_in


@pytest.fixture
async def bot(telegram: TelegramStandIn):
    # As many retries as in production, with short pauses between them.
    bot = make_conversation_bot(TOKEN, telegram.base_url, retry_pauses=tuple(0.05 for _ in RETRY_PAUSES_S))
    yield bot
    await bot.session.close()


async def test_a_reset_and_a_5xx_in_a_row_are_tried_again_and_the_answer_arrives_once(
    bot, telegram: TelegramStandIn
) -> None:
    telegram.app.set(resets_next=1, errors_next=1)

    await bot.send_message(42, "Would you like to send this to the police as information?")

    assert [m.visible for m in telegram.messages_to(42)] == [
        "Would you like to send this to the police as information?"
    ]
    assert telegram.app.injected() == {"reset": 1, "500": 1}


async def test_an_outage_longer_than_the_retries_gives_the_reply_up(bot, telegram: TelegramStandIn) -> None:
    telegram.app.set(errors_next=len(RETRY_PAUSES_S) + 1)
    with pytest.raises(AiogramError):
        await bot.send_message(42, "hello")
    assert telegram.messages_to(42) == []


async def test_removing_buttons_twice_is_done_not_an_error(bot, telegram: TelegramStandIn) -> None:
    sent = await bot.send_message(
        42,
        "Can officers contact you?",
        reply_markup={"inline_keyboard": [[{"text": "Stay anonymous", "callback_data": "a"}]]},
    )

    await bot.edit_message_reply_markup(chat_id=42, message_id=sent.message_id, reply_markup=None)
    await bot.edit_message_reply_markup(
        chat_id=42, message_id=sent.message_id, reply_markup=None
    )  # a replayed update does it again

    assert telegram.messages_to(42)[0].reply_markup is None
