"""``GET /whatsapp/webhook`` (Meta's verification handshake) and ``POST /whatsapp/webhook`` (messages, statuses).

A POST is checked against ``X-Hub-Signature-256`` over the raw bytes before
anything else: a missing, malformed or wrong signature gets 401 and nothing
is stored. Each message id (wamid) is handled once however often Meta
retries; a message whose handling fails is forgotten and answered 500, so
Meta's retry is handled. Statuses are idempotent and simply applied.
"""
from __future__ import annotations

import hmac
import json
import logging
from datetime import datetime, timedelta

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from bots.body_limit import limit_body
from bots.inbound_json import load_platform_json
from bots.whatsapp.bot import WhatsAppBot
from bots.whatsapp.payloads import NotAWebhook, parse_webhook
from bots.whatsapp.signature import HEADER, signature_ok
from core.clock import Clock
from core.ports import UnitOfWorkFactory

logger = logging.getLogger("lookout.whatsapp")

WEBHOOK_PATH = "/whatsapp/webhook"
SOURCE = "whatsapp"
MAX_BODY_BYTES = 1_000_000  # webhooks are a few KB (media come by id); anything this big is not from Meta
MAX_CHALLENGE = 200
STALE_AFTER = timedelta(seconds=60)  # a message left unfinished this long was lost with its process


def add_whatsapp_webhook(
    app: FastAPI, *, bot: WhatsAppBot, app_secret: str | None, verify_token: str | None, phone_number_id: str | None,
    uow: UnitOfWorkFactory, clock: Clock,
) -> None:
    secret = app_secret.encode() if app_secret else None
    token = verify_token.encode() if verify_token else None
    if secret is None:
        logger.warning("WHATSAPP_APP_SECRET is not set: %s refuses every POST", WEBHOOK_PATH)
    if token is None:
        logger.warning("WHATSAPP_VERIFY_TOKEN is not set: %s refuses Meta's verification", WEBHOOK_PATH)
    limit_body(app, WEBHOOK_PATH, MAX_BODY_BYTES)

    @app.get(WEBHOOK_PATH, include_in_schema=False)
    async def verify(request: Request) -> Response:
        params = request.query_params
        given = params.get("hub.verify_token", "").encode("utf-8", "surrogateescape")
        if params.get("hub.mode") != "subscribe" or token is None or not hmac.compare_digest(given, token):
            return PlainTextResponse("forbidden", status_code=403)
        challenge = params.get("hub.challenge", "")
        if not challenge or len(challenge) > MAX_CHALLENGE or not challenge.isprintable():
            return PlainTextResponse("bad challenge", status_code=400)
        return PlainTextResponse(challenge)

    @app.post(WEBHOOK_PATH, include_in_schema=False)
    async def receive(request: Request) -> JSONResponse:
        body = await request.body()
        if not signature_ok(body, request.headers.get(HEADER), secret):
            return JSONResponse({"ok": False, "error": "bad signature"}, status_code=401)
        try:
            batch = parse_webhook(load_platform_json(body), phone_number_id, clock())
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError, NotAWebhook) as exc:
            logger.info("refused a WhatsApp webhook: %s", exc)
            return JSONResponse({"ok": False, "error": "not a WhatsApp webhook"}, status_code=400)
        if batch.statuses:
            try:
                await bot.on_statuses(batch.statuses)
            except Exception:  # statuses are idempotent: Meta's retry simply applies them again
                logger.exception("recording %d WhatsApp statuses failed", len(batch.statuses))
                return JSONResponse({"ok": False, "error": "internal"}, status_code=500)
        for message in batch.messages:
            if not await _begin(uow, message.wamid, clock()):
                continue  # Meta delivered it again; it was (or is being) handled
            try:
                await bot.on_message(message)
            except Exception:
                # 500 makes Meta deliver the webhook again; forgetting the id lets that retry be handled.
                logger.exception("WhatsApp message %s failed", message.wamid)
                await _forget(uow, message.wamid)
                return JSONResponse({"ok": False, "error": "internal"}, status_code=500)
            await _finish(uow, message.wamid, clock())
        return JSONResponse({"ok": True})


async def _begin(uow: UnitOfWorkFactory, wamid: str, now: datetime) -> bool:
    async with uow() as work:
        fresh = await work.inbound.begin(SOURCE, wamid, now, STALE_AFTER)
        await work.commit()
    return fresh


async def _finish(uow: UnitOfWorkFactory, wamid: str, now: datetime) -> None:
    async with uow() as work:
        await work.inbound.finish(SOURCE, wamid, now)
        await work.commit()


async def _forget(uow: UnitOfWorkFactory, wamid: str) -> None:
    async with uow() as work:
        await work.inbound.forget(SOURCE, wamid)
        await work.commit()
