"""The Telegram ``ChannelAdapter``: aiogram's Bot, pointed at a configurable API base."""

from __future__ import annotations

import asyncio
import heapq
import html
import itertools
import logging
import re
import time
from contextvars import ContextVar
from dataclasses import replace
from typing import ClassVar

from aiogram import Bot, methods
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    AiogramError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    ReplyParameters,
)

from bots.telegram.request_retries import RETRY_PAUSES_S, EditsAlreadyMade, RetryTransientFailures
from core.channels import PUBLISHED_LIMITS, ChannelLimits
from core.delivery.ratelimit import HEADROOM
from core.model import Address, Channel
from core.outbound import DeliveryResult, OutboundMessage
from core.replies import waiting_its_turn

logger = logging.getLogger("lookout.telegram")

# aiogram parses every API answer as ``Response[T]``; pydantic caches those generic
# classes only weakly, so after each garbage collection the next call rebuilt one
# (a fifth of the web process's CPU under load). Holding them keeps the cache warm.
_RESPONSE_TYPES = [
    Response[method.__returning__]  # type: ignore[name-defined]
    for method in (
        methods.SendMessage,
        methods.EditMessageText,
        methods.EditMessageReplyMarkup,
        methods.EditMessageCaption,
        methods.AnswerCallbackQuery,
        methods.SendDocument,
        methods.SendPhoto,
        methods.SendLocation,
        methods.SendChatAction,
        methods.GetFile,
        methods.DeleteMessage,
        methods.SetWebhook,
        methods.GetWebhookInfo,
        methods.SetMyCommands,
        methods.GetMe,
    )
]

# A photo's caption: at most 1,024 characters after entities are parsed (docs/platforms.md).
MAX_CAPTION = 1024
# An appeal sent as its photo then its text is known by both ids: "<text id>/<photo id>".
PHOTO_ID_SEPARATOR = "/"
_TAG = re.compile(r"<[^>]+>")


def caption_fits(html_text: str) -> bool:
    """Whether the alert (Telegram HTML) fits a photo's caption, counted as people see it (tags parsed away), in
    UTF-16 code units as Telegram counts entities: an emoji counts two, so a borderline alert goes as photo then
    text rather than be refused."""
    shown = html.unescape(_TAG.sub("", html_text))
    return len(shown.encode("utf-16-le")) // 2 <= MAX_CAPTION


def split_message_id(provider_id: str | None) -> tuple[int | None, int | None]:
    """(the text's message id, the photo's when it went separately) from a delivery's provider id."""
    if not provider_id:
        return None, None
    text, _, photo = provider_id.partition(PHOTO_ID_SEPARATOR)
    return (int(text) if text.isdecimal() else None), (int(photo) if photo.isdecimal() else None)


# Bad requests that mean the chat itself is gone, not that this message was wrong.
_CHAT_GONE = ("chat not found", "user is deactivated", "bot can't initiate conversation")
REQUEST_TIMEOUT_S = 15
# How long a resident's reply may wait out Telegram's 429s before its webhook fails (and Telegram retries it).
REPLY_PATIENCE_S = 10.0


def make_bot(token: str, api_base: str) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_base.rstrip("/")), timeout=REQUEST_TIMEOUT_S)
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode="HTML"))


# A paid broadcast refused for want of Stars: Telegram publishes no exact wording, so any Bad Request to a
# paid send that speaks of these is taken as one (docs/platforms.md).
PAID_REFUSAL_WORDS = ("star", "balance", "paid broadcast", "payment")


def _refused_for_balance(description: str) -> bool:
    text = description.lower()
    return any(word in text for word in PAID_REFUSAL_WORDS)


class TelegramAdapter:
    channel: ClassVar[Channel] = Channel.TELEGRAM
    limits: ClassVar[ChannelLimits] = PUBLISHED_LIMITS[Channel.TELEGRAM]

    def __init__(self, bot: Bot, *, conversation_bot: Bot | None = None) -> None:
        self.bot = bot  # the delivery worker's sends, paced by the engine
        self.conversation_bot = (
            conversation_bot or bot
        )  # the webhook's replies (make_conversation_bot), closed with this adapter

    async def send(self, to: Address, message: OutboundMessage) -> DeliveryResult:
        markup = None
        if message.buttons:
            rows: list[list[InlineKeyboardButton]] = []
            for b in message.buttons:  # one to a row, but a button ``beside`` joins the row before it
                button = InlineKeyboardButton(text=b.label, callback_data=b.data)
                if b.beside and rows:
                    rows[-1].append(button)
                else:
                    rows.append([button])
            markup = InlineKeyboardMarkup(inline_keyboard=rows)
        text_id, photo_id = split_message_id(message.reply_to)
        reply = None
        if text_id is not None:
            # If the original was deleted, send anyway rather than fail the update.
            reply = ReplyParameters(message_id=text_id, allow_sending_without_reply=True)
        chat_id = int(to.id)
        paid = True if message.paid_broadcast else None
        try:
            if message.edit_original and text_id is not None:
                await self._edit_original(chat_id, text_id, message.edit_original)
            if message.withdraw_photo and (photo_id or text_id) is not None:
                await self._withdraw_photo(chat_id, photo_id or text_id, message)  # type: ignore[arg-type]
            if message.photo is not None:
                photo = BufferedInputFile(message.photo.data, filename=message.photo.name)
                if caption_fits(message.text):
                    sent = await self.bot.send_photo(
                        chat_id=chat_id,
                        photo=photo,
                        caption=message.text,
                        reply_markup=markup,
                        reply_parameters=reply,
                        allow_paid_broadcast=paid,
                    )
                    return DeliveryResult.sent(str(sent.message_id))
                # Too long for a caption: the photo, then the text with its buttons. A failure after the photo
                # sends both again on the retry (docs/alerts.md, "Known limits").
                pictured = await self.bot.send_photo(
                    chat_id=chat_id, photo=photo, reply_parameters=reply, allow_paid_broadcast=paid
                )
                sent = await self.bot.send_message(
                    chat_id=chat_id,
                    text=message.text,
                    reply_markup=markup,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                    allow_paid_broadcast=paid,
                )
                return DeliveryResult.sent(f"{sent.message_id}{PHOTO_ID_SEPARATOR}{pictured.message_id}")
            sent = await self.bot.send_message(
                chat_id=chat_id,
                text=message.text,
                reply_markup=markup,
                reply_parameters=reply,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                allow_paid_broadcast=paid,
            )
        except TelegramRetryAfter as exc:
            return DeliveryResult.retry(exc.message, after=float(exc.retry_after))
        except TelegramForbiddenError as exc:  # blocked the bot, or the account is gone
            return DeliveryResult.permanent(exc.message, recipient_gone=True)
        except (TelegramBadRequest, TelegramNotFound) as exc:
            if message.paid_broadcast and isinstance(exc, TelegramBadRequest) and _refused_for_balance(exc.message):
                return replace(DeliveryResult.retry(exc.message, after=0.0, pause_channel=False), paid_refused=True)
            gone = any(marker in exc.message.lower() for marker in _CHAT_GONE)
            return DeliveryResult.permanent(exc.message, recipient_gone=gone)
        except TelegramUnauthorizedError as exc:  # our token is wrong: every send would fail; retry once fixed
            return DeliveryResult.retry(f"the bot token was refused: {exc.message}")
        except (TimeoutError, AiogramError) as exc:  # network, 5xx, undecodable answers
            return DeliveryResult.retry(f"{type(exc).__name__}: {exc}")
        return DeliveryResult.sent(str(sent.message_id))

    async def _withdraw_photo(self, chat_id: int, photo_id: int, message: OutboundMessage) -> None:
        """A resolved appeal: delete its photo while Telegram still allows it (48 h), otherwise replace the caption.
        Best effort, as a cancellation's edit: the resolution that follows says it either way."""
        if message.delete_photo:
            try:
                await self.bot.delete_message(chat_id=chat_id, message_id=photo_id)
                return
            except (TelegramBadRequest, TelegramNotFound) as exc:  # too old after all, or already gone
                logger.info("could not delete photo message %s: %s", photo_id, exc.message)
        try:
            await self.bot.edit_message_caption(
                chat_id=chat_id, message_id=photo_id, caption=message.withdraw_photo, reply_markup=None
            )
        except (TelegramBadRequest, TelegramNotFound) as exc:
            logger.info("could not withdraw photo message %s: %s", photo_id, exc.message)

    async def _edit_original(self, chat_id: int, message_id: int, text: str) -> None:
        """Rewrite the original (a cancellation) so nobody acts on it later. Best effort:
        if the message is gone or too old to edit, the reply that follows still says it."""
        try:
            await self.bot.edit_message_text(
                text=text,
                chat_id=chat_id,
                message_id=message_id,
                reply_markup=None,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        except (TelegramBadRequest, TelegramNotFound) as exc:
            if "no text in the message" not in exc.message:
                logger.info("could not mark message %s as cancelled: %s", message_id, exc.message)
                return
            try:  # an appeal whose text is its photo's caption
                await self.bot.edit_message_caption(
                    chat_id=chat_id, message_id=message_id, caption=text, reply_markup=None
                )
            except (TelegramBadRequest, TelegramNotFound) as again:
                logger.info("could not mark photo message %s as cancelled: %s", message_id, again.message)

    async def aclose(self) -> None:
        await self.bot.session.close()
        if self.conversation_bot is not self.bot:
            await self.conversation_bot.session.close()


# A reply whose turn comes within this is sent before its webhook is answered (a resident tapping quickly
# through the questions waits at most one interval of the pace); one that would wait longer follows the answer.
INLINE_WAIT_S = 0.25


class ReplyLanes:
    """Evenly spaced permits at ``rate`` a second, each to the most urgent waiter: a resident's first reply to a
    message before anyone's second, and in arrival order within each. So in a burst every resident hears back
    in the time the rate allows for one message each, and the rest of each answer follows."""

    FIRST, LATER = 0, 1

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = 0.0
        self._paused_until = 0.0
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._turns: asyncio.Task[None] | None = None

    async def acquire(self, lane: int) -> None:
        ahead = len(self._waiting) * self.interval + max(self._next, self._paused_until) - time.monotonic()
        if ahead > INLINE_WAIT_S:
            waiting_its_turn()  # the webhook answers now; this reply follows at the bot's pace
        permit: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (lane, next(self._order), permit))
        if self._turns is None or self._turns.done():
            self._turns = asyncio.create_task(self._hand_out(), name="telegram-reply-lanes")
        await permit

    def pause(self, seconds: float) -> None:
        """Hold every permit for ``seconds`` (Telegram said: slow down)."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    async def _hand_out(self) -> None:
        while self._waiting:
            delay = max(self._next, self._paused_until) - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
                continue  # a more urgent waiter may have come meanwhile
            _, _, permit = heapq.heappop(self._waiting)
            if permit.done():  # its request was cancelled
                continue
            permit.set_result(None)
            self._next = time.monotonic() + self.interval


# How many messages the update being handled has sent so far (each webhook request is its own task and context).
_SENT_IN_UPDATE: ContextVar[int] = ContextVar("telegram_sent_in_update", default=0)


class PaceReplies(BaseRequestMiddleware):
    """For the conversation's own replies: spaced at the bot's message rate, first replies first, and a 429 waited
    out (again if need be) for up to ``patience`` seconds in all, the whole process's replies pausing with it.

    A burst of residents (100 messages at once) used to meet Telegram's 429 with one wait and then fail their
    webhooks with 500; paced, their replies go out at the rate Telegram allows, none refused.
    The delivery worker must see 429s (its pacer slows the whole channel), so this is only on the bot that
    answers residents, never on the adapter's. While a broadcast runs, the worker meets the 429s the two
    share and backs off, while a reply here keeps its turn and waits its pause out.
    """

    def __init__(self, lanes: ReplyLanes, patience: float = REPLY_PATIENCE_S) -> None:
        self.lanes = lanes
        self.patience = patience

    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]
    ) -> Response[TelegramType]:
        if not _counts_as_a_message(method):
            return await make_request(bot, method)
        lane = ReplyLanes.FIRST if _SENT_IN_UPDATE.get() == 0 else ReplyLanes.LATER
        _SENT_IN_UPDATE.set(_SENT_IN_UPDATE.get() + 1)
        waited = 0.0
        while True:
            await self.lanes.acquire(lane)
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                waited += exc.retry_after
                if waited > self.patience:
                    raise
                waiting_its_turn()
                self.lanes.pause(exc.retry_after)  # every reply of this process waits it out, not only this one


def _counts_as_a_message(method: TelegramMethod[TelegramType]) -> bool:
    """Sends and edits count against the bot's messages a second; answering a button press or reading a file does not."""
    name = method.__api_method__
    return name.startswith(("send", "edit", "copy", "forward")) and name != "sendChatAction"


def make_conversation_bot(token: str, api_base: str, *, retry_pauses: tuple[float, ...] = RETRY_PAUSES_S) -> Bot:
    """The bot that answers residents (``retry_pauses``: the waits before each retry of a call failed in transit)."""
    bot = make_bot(token, api_base)
    # Outermost first: an edit already made is done, whether found on the first try or on a retry.
    bot.session.middleware(EditsAlreadyMade())
    bot.session.middleware(PaceReplies(ReplyLanes(PUBLISHED_LIMITS[Channel.TELEGRAM].messages_per_second * HEADROOM)))
    bot.session.middleware(RetryTransientFailures(retry_pauses))
    return bot
