"""``POST /sms/webhook`` (incoming texts) and ``POST /sms/status`` (delivery status callbacks), Twilio's form posts.

Each is checked against ``X-Twilio-Signature`` over the public URL
(``LOOKOUT_PUBLIC_URL`` + path) before anything else: missing, malformed or
wrong gets 403 and nothing is stored. A body that is not a form of Twilio's
gets 400. Each MessageSid is handled once however often Twilio retries
(core/services/inbound_once.py); a text whose handling fails is forgotten and
answered 500, so the retry is handled. Statuses are idempotent and simply applied.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from twilio.request_validator import RequestValidator

from bots.body_limit import limit_body
from bots.sms.bot import SmsBot
from bots.sms.inbound import PHONE, SID, NotAnSms, parse_inbound
from bots.sms.signature import HEADER, first_values, signature_ok
from core.services.inbound_once import InboundOnce

logger = logging.getLogger("lookout.sms")

WEBHOOK_PATH = "/sms/webhook"
STATUS_PATH = "/sms/status"
SOURCE = "sms"
MAX_BODY_BYTES = 64 * 1024  # a text is at most 1,600 characters; pictures come as URLs
MAX_FIELDS = 100
# An empty TwiML answer: Lookout replies through the API (the conversation may answer in several texts).
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class NotAForm(ValueError):
    pass


def read_form(body: bytes) -> list[tuple[str, str]]:
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError) as exc:
        raise NotAForm(str(exc)) from None
    if any("\x00" in name or "\x00" in value for name, value in pairs):
        raise NotAForm("NUL in a field")
    return pairs


def add_sms_webhooks(
    app: FastAPI, *, bot: SmsBot, auth_token: str, public_url: str | None, inbound: InboundOnce
) -> None:
    validator = RequestValidator(auth_token)
    base = public_url.rstrip("/") if public_url else None
    if base is None:
        logger.warning(
            "LOOKOUT_PUBLIC_URL is not set: %s and %s refuse every request (signatures are over it)",
            WEBHOOK_PATH,
            STATUS_PATH,
        )
    for path in (WEBHOOK_PATH, STATUS_PATH):
        limit_body(app, path, MAX_BODY_BYTES)

    async def signed_form(request: Request, path: str) -> list[tuple[str, str]] | Response:
        signature = request.headers.get(HEADER)
        if not signature:
            return PlainTextResponse("forbidden", status_code=403)
        try:
            pairs = read_form(await request.body())
        except NotAForm as exc:
            logger.info("refused an SMS webhook: %s", exc)
            return PlainTextResponse("not a form", status_code=400)
        if not signature_ok(validator, f"{base}{path}" if base else None, pairs, signature):
            return PlainTextResponse("forbidden", status_code=403)
        return pairs

    @app.post(WEBHOOK_PATH, include_in_schema=False)
    async def receive(request: Request) -> Response:
        pairs = await signed_form(request, WEBHOOK_PATH)
        if isinstance(pairs, Response):
            return pairs
        try:
            message = parse_inbound(dict(first_values(pairs)))
        except NotAnSms as exc:
            logger.info("refused an SMS webhook: %s", exc)
            return PlainTextResponse("not an inbound message", status_code=400)
        try:
            # A text Twilio delivered again, handled (or being handled) already, is simply passed over.
            await inbound.handle(SOURCE, message.sid, lambda: bot.on_message(message))
        except Exception:
            logger.exception("SMS %s failed", message.sid)
            return PlainTextResponse("internal", status_code=500)
        return Response(EMPTY_TWIML, media_type="text/xml")

    @app.post(STATUS_PATH, include_in_schema=False)
    async def status(request: Request) -> Response:
        pairs = await signed_form(request, STATUS_PATH)
        if isinstance(pairs, Response):
            return pairs
        form = first_values(pairs)
        sid, to, state = form.get("MessageSid", ""), form.get("To", ""), form.get("MessageStatus", "")
        if not SID.fullmatch(sid) or not PHONE.fullmatch(to) or not state.isascii() or len(state) > 20:
            return PlainTextResponse("not a status callback", status_code=400)
        try:
            await bot.on_status(sid, to, state, form.get("ErrorCode"))
        except Exception:  # statuses are idempotent: Twilio's retry simply applies it again
            logger.exception("recording an SMS status failed")
            return PlainTextResponse("internal", status_code=500)
        return Response(EMPTY_TWIML, media_type="text/xml")
