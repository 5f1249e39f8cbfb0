"""The Telegram ``ChannelAdapter``: aiogram's Bot, pointed at a configurable API base."""
from __future__ import annotations

from typing import ClassVar

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    AiogramError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, ReplyParameters

from core.channels import PUBLISHED_LIMITS, ChannelLimits
from core.model import Address, Channel
from core.outbound import DeliveryResult, OutboundMessage

# Bad requests that mean the chat itself is gone, not that this message was wrong.
_CHAT_GONE = ("chat not found", "user is deactivated", "bot can't initiate conversation")
REQUEST_TIMEOUT_S = 15


def make_bot(token: str, api_base: str) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_base.rstrip("/")), timeout=REQUEST_TIMEOUT_S)
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode="HTML"))


class TelegramAdapter:
    channel: ClassVar[Channel] = Channel.TELEGRAM
    limits: ClassVar[ChannelLimits] = PUBLISHED_LIMITS[Channel.TELEGRAM]

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, to: Address, message: OutboundMessage) -> DeliveryResult:
        markup = None
        if message.buttons:
            markup = InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text=b.label, callback_data=b.data)] for b in message.buttons]
            )
        reply = None
        if message.reply_to and message.reply_to.isdigit():
            # If the original was deleted, send anyway rather than fail the update.
            reply = ReplyParameters(message_id=int(message.reply_to), allow_sending_without_reply=True)
        try:
            sent = await self.bot.send_message(
                chat_id=int(to.id),
                text=message.text,
                reply_markup=markup,
                reply_parameters=reply,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        except TelegramRetryAfter as exc:
            return DeliveryResult.retry(exc.message, after=float(exc.retry_after))
        except TelegramForbiddenError as exc:  # blocked the bot, or the account is gone
            return DeliveryResult.permanent(exc.message, recipient_gone=True)
        except (TelegramBadRequest, TelegramNotFound) as exc:
            gone = any(marker in exc.message.lower() for marker in _CHAT_GONE)
            return DeliveryResult.permanent(exc.message, recipient_gone=gone)
        except TelegramUnauthorizedError as exc:  # our token is wrong: every send would fail; retry once fixed
            return DeliveryResult.retry(f"the bot token was refused: {exc.message}")
        except (TimeoutError, AiogramError) as exc:  # network, 5xx, undecodable answers
            return DeliveryResult.retry(f"{type(exc).__name__}: {exc}")
        return DeliveryResult.sent(str(sent.message_id))

    async def aclose(self) -> None:
        await self.bot.session.close()
