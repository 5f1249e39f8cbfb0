"""``GET /whatsapp/webhook`` (Meta's verification handshake) and ``POST /whatsapp/webhook`` (messages, statuses).

A POST is checked against ``X-Hub-Signature-256`` over the raw bytes before
anything else: a missing, malformed or wrong signature gets 401 and nothing
is stored. Each message id (wamid) is handled once however often Meta
retries (core/services/inbound_once.py); a message whose handling fails is
forgotten and answered 500, so Meta's retry is handled. Statuses are
idempotent and simply applied.
"""

from __future__ import annotations

import hmac
import json
import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from bots.body_limit import limit_body
from bots.inbound_json import load_platform_json
from bots.whatsapp.bot import WhatsAppBot
from bots.whatsapp.payloads import NotAWebhook, parse_webhook
from bots.whatsapp.signature import HEADER, signature_ok
from core.clock import Clock
from core.services.inbound_once import InboundOnce

logger = logging.getLogger("lookout.whatsapp")

WEBHOOK_PATH = "/whatsapp/webhook"
SOURCE = "whatsapp"
MAX_BODY_BYTES = 1_000_000  # webhooks are a few KB (media come by id); anything this big is not from Meta
MAX_CHALLENGE = 200


def add_whatsapp_webhook(
    app: FastAPI,
    *,
    bot: WhatsAppBot,
    app_secret: str | None,
    verify_token: str | None,
    phone_number_id: str | None,
    inbound: InboundOnce,
    clock: Clock,
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
            try:
                # A message Meta delivered again, handled (or being handled) already, is simply passed over.
                await inbound.handle(SOURCE, message.wamid, lambda: bot.on_message(message))  # noqa: B023 - awaited here
            except Exception:
                # 500 makes Meta deliver the webhook again; the id was forgotten, so that retry is handled.
                logger.exception("WhatsApp message %s failed", message.wamid)
                return JSONResponse({"ok": False, "error": "internal"}, status_code=500)
        return JSONResponse({"ok": True})
