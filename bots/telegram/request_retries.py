"""The conversation bot's calls to Telegram, made safe to lose and to repeat.

The bot's reply to a resident is sent after the webhook has its answer
(``core/replies.py``): the update's step is already stored, and Telegram will
not deliver it again. A call that fails on the way (a reset connection, a 5xx
from Telegram's front end, an answer cut short) must therefore be tried again
here, and a call that did reach Telegram must be safe to repeat. Two request
middlewares see to it:

- ``RetryTransientFailures``: a call that failed in transit is tried again,
  with growing pauses, for about twenty seconds before the reply is given up
  (and logged); a resident may, rarely, see an answer twice when Telegram had
  it but the answer was lost — better than none;
- ``EditsAlreadyMade``: an edit Telegram refuses with "message is not
  modified" is already in effect (a repeated update, or a retried call): done.

The delivery worker's bot has neither: the worker has its own retry policy and
must see every failure.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import ClientDecodeError, TelegramBadRequest, TelegramNetworkError, TelegramServerError
from aiogram.methods import EditMessageCaption, EditMessageReplyMarkup, EditMessageText, TelegramMethod
from aiogram.methods.base import TelegramType

from core.replies import waiting_its_turn

logger = logging.getLogger("lookout.telegram")

RETRY_PAUSES_S = (0.5, 1.5, 5.0, 15.0)  # through a burst of 5xx or a short outage of Telegram's front end
_IN_TRANSIT = (
    TelegramNetworkError,
    TelegramServerError,
    ClientDecodeError,
)  # ClientDecodeError: a proxy's HTML 5xx page
_EDITS = (EditMessageReplyMarkup, EditMessageText, EditMessageCaption)
_NOT_MODIFIED = "message is not modified"


class RetryTransientFailures(BaseRequestMiddleware):
    def __init__(self, pauses: tuple[float, ...] = RETRY_PAUSES_S) -> None:
        self.pauses = pauses

    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]
    ) -> Any:
        for pause in self.pauses:
            try:
                return await make_request(bot, method)
            except _IN_TRANSIT as exc:
                logger.info(
                    "Telegram %s failed in transit (%s); trying again in %.1f s",
                    method.__api_method__,
                    type(exc).__name__,
                    pause,
                )
                waiting_its_turn()  # the webhook need not wait for the retry
                await asyncio.sleep(pause)
        return await make_request(bot, method)


class EditsAlreadyMade(BaseRequestMiddleware):
    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]
    ) -> Any:
        try:
            return await make_request(bot, method)
        except TelegramBadRequest as exc:
            if isinstance(method, _EDITS) and _NOT_MODIFIED in exc.message:
                return True  # an edit answers the message, or True; the handlers never use it
            raise
