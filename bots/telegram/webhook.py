"""``POST /telegram/webhook``: verify, de-duplicate, hand to the resident bot, answer fast.

Telegram sends the ``secret_token`` given to setWebhook back in
``X-Telegram-Bot-Api-Secret-Token``; a wrong or missing one gets 403 and
nothing is stored. A repeated ``update_id`` (Telegram retries anything not
answered 2xx) is acknowledged and ignored. The update's effects and its
"handled" mark are written before Telegram has its answer; the bot's reply is
sent before the answer when it can go at once, else after it at the bot's
pace (``core/replies.py``).
"""

from __future__ import annotations

import hmac
import json
import logging
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from typing import Protocol, runtime_checkable

from aiogram import Bot
from aiogram.types import Update
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from bots.body_limit import limit_body
from bots.inbound_json import load_platform_json
from bots.telegram.inbound import sender_of
from core.model import Address
from core.outages import StorageUnavailable
from core.replies import ReplyQueue, Send
from core.services.inbound_once import STALE_AFTER, InboundOnce

logger = logging.getLogger("lookout.telegram")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_PATH = "/telegram/webhook"
MAX_BODY_BYTES = 1_000_000  # Telegram updates are a few KB; anything this big is not from Telegram
SOURCE = "telegram"  # in the inbound log


@runtime_checkable
class BatchedConversations(Protocol):
    """Conversation storage that keeps an update's changes and writes them once (storage.conversations.SqlConversationStore)."""

    def batched(self) -> AbstractAsyncContextManager[None]: ...

    async def begin_update(
        self, source: str, update_id: str, *, address: Address | None, stale_after: timedelta
    ) -> bool: ...

    async def flush(self, *, handled: tuple[str, str] | None = None) -> None: ...


class UpdateHandler(Protocol):
    """What answers an update (bots.telegram.bot.TelegramResidentBot)."""

    async def on_update(self, update: Update) -> Send | None:
        """Take the update in; return its reply (sent once Telegram has its answer), if any."""
        ...


def add_telegram_webhook(
    app: FastAPI,
    *,
    bot: Bot,
    handler: UpdateHandler,
    conversations: BatchedConversations,
    secret: str | None,
    inbound: InboundOnce,
    replies: ReplyQueue,
) -> None:
    expected = secret.encode() if secret else None
    if expected is None:
        logger.warning("TELEGRAM_WEBHOOK_SECRET is not set: %s refuses every request", WEBHOOK_PATH)
    limit_body(app, WEBHOOK_PATH, MAX_BODY_BYTES)

    @app.post(WEBHOOK_PATH, include_in_schema=False)
    async def telegram_webhook(request: Request) -> JSONResponse:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if expected is None or not hmac.compare_digest(given, expected):
            return JSONResponse({"ok": False, "error": "forbidden"}, status_code=403)
        body = await request.body()
        update = _parse(body, bot)
        if update is None:
            return JSONResponse({"ok": False, "error": "not a Telegram update"}, status_code=400)
        key = str(update.update_id)
        sender = sender_of(update)
        claimed = False
        try:
            async with conversations.batched():
                claimed = await conversations.begin_update(SOURCE, key, address=sender, stale_after=STALE_AFTER)
                if not claimed:
                    return JSONResponse({"ok": True, "duplicate": True})
                reply = await handler.on_update(update)
                # The conversation's changes and "handled" in one write, before Telegram has its answer.
                await conversations.flush(handled=(SOURCE, key))
        except Exception as error:
            # Answer 500 so Telegram retries, and (if this process claimed it) forget the id so the retry is handled
            # (retried through a database outage: while the claim stands, the retry would be dropped as a duplicate).
            if isinstance(error, StorageUnavailable):
                logger.warning(
                    "Telegram update %s not handled: %s", key, error
                )  # an outage: one line, not a traceback each
            else:
                logger.exception("Telegram update %s failed", key)
            if claimed:
                await inbound.forget(SOURCE, key)
            return JSONResponse({"ok": False, "error": "internal"}, status_code=500)
        if reply is not None:
            await replies.send(sender.id if sender is not None else key, reply)
        return JSONResponse({"ok": True})


def _parse(body: bytes, bot: Bot) -> Update | None:
    try:
        data = load_platform_json(body)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    try:
        return Update.model_validate(data, context={"bot": bot})
    except (ValidationError, RecursionError):
        return None
