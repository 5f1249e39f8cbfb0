"""``POST /telegram/webhook``: verify, de-duplicate, hand to the dispatcher, answer fast.

Telegram sends the ``secret_token`` given to setWebhook back in
``X-Telegram-Bot-Api-Secret-Token``; a wrong or missing one gets 403 and
nothing is stored. A repeated ``update_id`` (Telegram retries anything not
answered 2xx) is acknowledged and ignored.
"""
from __future__ import annotations

import hmac
import json
import logging
from datetime import UTC, datetime, timedelta

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.background import BackgroundTask
from pydantic import ValidationError

from core.ports import UnitOfWorkFactory

logger = logging.getLogger("lookout.telegram")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_PATH = "/telegram/webhook"
MAX_BODY_BYTES = 1_000_000  # Telegram updates are a few KB; anything this big is not from Telegram
STALE_AFTER = timedelta(seconds=60)  # an update left unfinished this long was lost with its process


def add_telegram_webhook(app: FastAPI, *, bot: Bot, dispatcher: Dispatcher, secret: str | None, uow: UnitOfWorkFactory) -> None:
    expected = secret.encode() if secret else None
    if expected is None:
        logger.warning("TELEGRAM_WEBHOOK_SECRET is not set: %s refuses every request", WEBHOOK_PATH)

    @app.post(WEBHOOK_PATH, include_in_schema=False)
    async def telegram_webhook(request: Request) -> JSONResponse:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if expected is None or not hmac.compare_digest(given, expected):
            return JSONResponse({"ok": False, "error": "forbidden"}, status_code=403)
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return JSONResponse({"ok": False, "error": "too large"}, status_code=413)
        update = _parse(body, bot)
        if update is None:
            return JSONResponse({"ok": False, "error": "not a Telegram update"}, status_code=400)
        key = str(update.update_id)
        if not await _begin(uow, key):
            return JSONResponse({"ok": True, "duplicate": True})
        try:
            await dispatcher.feed_update(bot, update)
        except Exception:
            # Answer 500 so Telegram retries, and forget the id so the retry is handled.
            logger.exception("Telegram update %s failed", key)
            await _forget(uow, key)
            return JSONResponse({"ok": False, "error": "internal"}, status_code=500)
        # Marking it handled can wait until Telegram has its answer: if this process dies first,
        # Telegram has its 200 and will not resend, and the row is purged like any other.
        return JSONResponse({"ok": True}, background=BackgroundTask(_finish, uow, key))


def _parse(body: bytes, bot: Bot) -> Update | None:
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    try:
        return Update.model_validate(data, context={"bot": bot})
    except (ValidationError, RecursionError):
        return None


async def _begin(uow: UnitOfWorkFactory, key: str) -> bool:
    async with uow() as work:
        fresh = await work.inbound.begin("telegram", key, datetime.now(UTC), STALE_AFTER)
        await work.commit()
    return fresh


async def _finish(uow: UnitOfWorkFactory, key: str) -> None:
    async with uow() as work:
        await work.inbound.finish("telegram", key, datetime.now(UTC))
        await work.commit()


async def _forget(uow: UnitOfWorkFactory, key: str) -> None:
    async with uow() as work:
        await work.inbound.forget("telegram", key)
        await work.commit()
