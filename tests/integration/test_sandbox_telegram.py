"""The Telegram stand-in speaks the Bot API: aiogram talks to it unchanged but for the base URL."""

from __future__ import annotations

import json

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyParameters,
    Update,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.server import BackgroundServer
from sandbox.telegram import TelegramFaults, TelegramLimits, TelegramStandIn
from sandbox.telegram_users import SECRET_HEADER, SimulatedUser, TelegramUsers

TOKEN = "123456:TEST"
SAM = SimulatedUser(4242, "Sam", "sam_resident")


@pytest.fixture
def telegram():
    with TelegramStandIn(TOKEN, limits=TelegramLimits(per_bot_per_second=30, per_chat_interval=None)) as stand_in:
        yield stand_in


@pytest.fixture
async def bot(telegram: TelegramStandIn):
    session = AiohttpSession(api=TelegramAPIServer.from_base(telegram.base_url))
    bot = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode="HTML"))
    yield bot
    await bot.session.close()


async def test_messages_edits_deletes_and_files(bot: Bot, telegram: TelegramStandIn):
    me = await bot.get_me()
    assert me.is_bot and me.username == "lookout_sandbox_bot"
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="I have information", callback_data="tip:1")]]
    )
    sent = await bot.send_message(SAM.id, "<b>Police alert</b> &amp; more", reply_markup=keyboard)
    assert sent.text == "Police alert & more" and sent.message_id == 1
    reply = await bot.send_message(SAM.id, "Update", reply_parameters=ReplyParameters(message_id=sent.message_id))
    assert reply.message_id == 2 and telegram.messages_to(SAM.id)[1].params["reply_parameters"]["message_id"] == 1

    edited = await bot.edit_message_text(
        "<s>Police alert</s> CANCELLED", chat_id=SAM.id, message_id=sent.message_id, reply_markup=keyboard
    )
    assert edited.text == "Police alert CANCELLED" and edited.reply_markup is not None
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "<s>Police alert</s> CANCELLED", chat_id=SAM.id, message_id=sent.message_id, reply_markup=keyboard
        )
    await bot.edit_message_reply_markup(chat_id=SAM.id, message_id=sent.message_id, reply_markup=None)
    assert telegram.messages_to(SAM.id)[0].reply_markup is None  # the button is gone
    assert await bot.delete_message(SAM.id, reply.message_id)
    assert [m.message_id for m in telegram.messages_to(SAM.id)] == [1]

    located = await bot.send_location(SAM.id, latitude=52.8067, longitude=-2.1174)
    assert located.location.latitude == pytest.approx(52.8067)
    photo = await bot.send_photo(SAM.id, BufferedInputFile(b"\x89PNG fake", "area.png"), caption="The area")
    document = await bot.send_document(SAM.id, BufferedInputFile(b'{"places": []}', "mydata.json"))
    assert document.document.file_name == "mydata.json"
    file = await bot.get_file(photo.photo[-1].file_id)
    downloaded = await bot.download_file(file.file_path)
    assert downloaded.read() == b"\x89PNG fake"

    assert await bot.set_my_commands([BotCommand(command="start", description="Subscribe")])
    assert [c.command for c in await bot.get_my_commands()] == ["start"]


@pytest.mark.parametrize(
    "text",
    ["<script>alert(1)</script>", "Tom & Jerry", "a < b", "<b>unclosed", "</i>"],
)
async def test_broken_html_is_refused_as_telegram_does(bot: Bot, text: str):
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(SAM.id, text)


async def test_markdown_v2_reserved_characters_must_be_escaped(bot: Bot):
    with pytest.raises(TelegramBadRequest, match="reserved"):
        await bot.send_message(SAM.id, "Call 101. Thanks!", parse_mode="MarkdownV2")
    sent = await bot.send_message(SAM.id, "Call 101\\. Thanks\\!", parse_mode="MarkdownV2")
    assert sent.text == "Call 101. Thanks!"


async def test_limits_answer_with_telegrams_429_and_403(telegram: TelegramStandIn, bot: Bot):
    telegram.limits = TelegramLimits(per_bot_per_second=30, per_chat_interval=1.0, per_chat_burst=2)
    await bot.send_message(1, "one")
    await bot.send_message(1, "a short burst is allowed")
    with pytest.raises(TelegramRetryAfter) as throttled:
        await bot.send_message(1, "but not a third at once")
    assert throttled.value.retry_after == 1
    telegram.limits = TelegramLimits(
        per_bot_per_second=4, per_chat_interval=1.0, per_chat_burst=1
    )  # two sent already this second
    await bot.send_message(2, "two")
    await bot.send_message(3, "three")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(4, "a fourth within the second")
    assert telegram.rate_limited == 2

    telegram.faults = TelegramFaults(blocked_chats={99})
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(99, "hello")
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(
            5,
            "x",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="too long", callback_data="x" * 65)]]
            ),
        )


async def test_webhook_registration(bot: Bot, telegram: TelegramStandIn):
    assert await bot.set_webhook(
        "http://127.0.0.1:9/telegram/webhook", secret_token="s3cret", allowed_updates=["message"]
    )
    info = await bot.get_webhook_info()
    assert info.url == "http://127.0.0.1:9/telegram/webhook" and info.allowed_updates == ["message"]
    assert telegram.webhook["secret_token"] == "s3cret"
    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""


def test_simulated_users_post_real_updates_to_the_webhook(telegram: TelegramStandIn):
    received: list[tuple[dict, str | None]] = []

    async def webhook(request: Request) -> Response:
        received.append((json.loads(await request.body()), request.headers.get(SECRET_HEADER)))
        return Response(status_code=200)

    app = BackgroundServer(
        Starlette(routes=[Route("/telegram/webhook", webhook, methods=["POST"])]), "webhook receiver"
    )
    app.start()
    try:
        telegram.webhook = {"url": f"{app.base_url}/telegram/webhook", "secret_token": "s3cret", "max_connections": 40}
        users = TelegramUsers(telegram)
        users.sends_text(SAM, "/start")
        users.shares_location(SAM, 52.8067, -2.1174, live_period=900)
        users.sends_photo(SAM, b"jpeg bytes", caption="The van")
        users.presses_button(SAM, 1, "tip:1")
        users.sends_text(SAM, "I saw them", reply_to=1)
        users.blocks_bot(SAM)
        users.post({"message": {}}, secret="wrong")
    finally:
        app.stop()

    updates = [Update.model_validate(body) for body, _ in received[:-1]]  # aiogram reads them as real updates
    assert updates[0].message.text == "/start" and updates[0].message.entities[0].type == "bot_command"
    assert updates[1].message.location.live_period == 900
    assert updates[2].message.photo[0].file_id in telegram.files and updates[2].message.caption == "The van"
    assert updates[3].callback_query.data == "tip:1"
    assert updates[4].message.reply_to_message.message_id == 1
    assert updates[5].my_chat_member.new_chat_member.status == "kicked" and SAM.id in telegram.faults.blocked_chats
    assert len({u.update_id for u in updates}) == len(updates)
    assert [secret for _, secret in received] == ["s3cret"] * 6 + ["wrong"]
