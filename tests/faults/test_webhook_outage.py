"""An update failed by a database restart is handled when the platform delivers it again, not dropped as a duplicate.

Every door hands its updates to the one inbound-once service (core/services/inbound_once.py), whose
"forget" is retried through the outage; Telegram and WhatsApp here, each through its real webhook.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json

import httpx
from aiogram import Bot
from aiogram.types import Update
from fastapi import FastAPI
from sqlalchemy import event

from bots.telegram.webhook import SECRET_HEADER, WEBHOOK_PATH, add_telegram_webhook
from bots.whatsapp.webhook import WEBHOOK_PATH as WHATSAPP_PATH
from bots.whatsapp.webhook import add_whatsapp_webhook
from core.outages import StorageUnavailable
from core.replies import ReplyQueue
from core.services.inbound_once import InboundOnce
from storage.conversations import SqlConversationStore
from tests.support.outages import RefusedStatements, eventually

SECRET = "webhook-outage-secret"
UPDATE = {
    "update_id": 7001,
    "message": {
        "message_id": 1,
        "date": 1_700_000_000,
        "text": "I saw the van again",
        "chat": {"id": 42, "type": "private", "first_name": "Sam"},
        "from": {"id": 42, "is_bot": False, "first_name": "Sam"},
    },
}


async def test_the_retry_of_an_update_the_database_failed_is_handled(engine, uow_factory, clock) -> None:
    handled: list[str] = []
    with RefusedStatements().installed(engine) as outage:

        class Note:
            async def on_update(self, update: Update) -> None:
                handled.append(update.message.text or "")  # type: ignore[union-attr]
                if len(handled) == 1:  # the database goes away while the first delivery is being handled
                    outage.on = True
                    raise StorageUnavailable("OperationalError: terminating connection due to administrator command")
                return None  # nothing to reply

        app = FastAPI()
        add_telegram_webhook(
            app,
            bot=Bot("123456:OUTAGE"),
            handler=Note(),
            conversations=SqlConversationStore(engine, clock=clock),
            secret=SECRET,
            inbound=InboundOnce(uow_factory, clock=clock),
            replies=ReplyQueue("Telegram"),
        )
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://lookout") as telegram:

            async def restart_ends() -> None:
                await eventually(lambda: outage.refused >= 1, "the update's release to be refused")
                outage.on = False

            back = asyncio.create_task(restart_ends())
            first = await telegram.post(WEBHOOK_PATH, json=UPDATE, headers={SECRET_HEADER: SECRET})
            await back
            retry = await telegram.post(WEBHOOK_PATH, json=UPDATE, headers={SECRET_HEADER: SECRET})

    assert first.status_code == 500  # Telegram will deliver it again
    assert retry.status_code == 200 and not retry.json().get("duplicate")
    assert handled == ["I saw the van again", "I saw the van again"]


APP_SECRET = "webhook-outage-app-secret"
PHONE_NUMBER_ID = "100000000000042"
WAMID = "wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhgUM0VCMDRBQjQ1RkM0QUI5NkQ5MDQA"
MESSAGE = {
    "object": "whatsapp_business_account",
    "entry": [
        {
            "id": "1",
            "changes": [
                {
                    "field": "messages",
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": {"display_phone_number": "447700900000", "phone_number_id": PHONE_NUMBER_ID},
                        "contacts": [{"profile": {"name": "Sam"}, "wa_id": "447700900123"}],
                        "messages": [
                            {
                                "from": "447700900123",
                                "id": WAMID,
                                "timestamp": "1700000000",
                                "type": "text",
                                "text": {"body": "I saw the van again"},
                            }
                        ],
                    },
                }
            ],
        }
    ],
}


class _WhatsAppBot:
    """The resident bot's two entry points, the first message failing as the database goes away under it."""

    def __init__(self, outage: RefusedStatements) -> None:
        self.handled: list[str] = []
        self._outage = outage

    async def on_statuses(self, _reports: list) -> None:
        raise AssertionError("no statuses were sent")

    async def on_message(self, message) -> None:
        self.handled.append(message.content["body"])
        if len(self.handled) == 1:
            self._outage.on = True
            raise StorageUnavailable("OperationalError: terminating connection due to administrator command")


async def test_the_retry_of_a_whatsapp_message_the_database_failed_is_handled(uow_factory, engine, clock) -> None:
    body = json.dumps(MESSAGE).encode()
    signed = {
        "X-Hub-Signature-256": "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest(),
        "Content-Type": "application/json",
    }
    with RefusedStatements().installed(engine) as outage:
        bot = _WhatsAppBot(outage)
        app = FastAPI()
        add_whatsapp_webhook(
            app,
            bot=bot,
            app_secret=APP_SECRET,
            verify_token="verify",
            phone_number_id=PHONE_NUMBER_ID,  # type: ignore[arg-type]
            inbound=InboundOnce(uow_factory, clock=clock),
            clock=clock,
        )
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://lookout") as meta:

            async def restart_ends() -> None:
                await eventually(lambda: outage.refused >= 1, "the message's release to be refused")
                outage.on = False

            back = asyncio.create_task(restart_ends())
            first = await meta.post(WHATSAPP_PATH, content=body, headers=signed)
            await back
            retry = await meta.post(WHATSAPP_PATH, content=body, headers=signed)
            again = await meta.post(WHATSAPP_PATH, content=body, headers=signed)

    assert first.status_code == 500  # Meta will deliver it again
    assert retry.status_code == 200 and again.status_code == 200
    assert bot.handled == ["I saw the van again", "I saw the van again"]  # the retry handled; the third a duplicate


async def test_a_claim_whose_reads_fail_goes_with_them_so_the_retry_is_handled(engine, uow_factory, clock) -> None:
    """The database fails between claiming an update and reading the sender's conversation: the claim must not
    outlive the failure, or Telegram's retry would be dropped as a duplicate of an update nobody finished."""
    sqlalchemy_error = engine.sync_engine.dialect.loaded_dbapi.OperationalError
    reads_to_refuse = [1]

    def refuse_the_first_read(_conn, _cursor, statement: str, *_rest: object) -> None:
        if "FROM conversations" in statement and reads_to_refuse:
            reads_to_refuse.pop()
            raise sqlalchemy_error("server closed the connection unexpectedly")

    handled: list[str] = []

    class Note:
        async def on_update(self, update: Update) -> None:
            handled.append(update.message.text or "")  # type: ignore[union-attr]
            return None

    event.listen(engine.sync_engine, "before_cursor_execute", refuse_the_first_read)
    try:
        app = FastAPI()
        add_telegram_webhook(
            app,
            bot=Bot("123456:OUTAGE"),
            handler=Note(),
            conversations=SqlConversationStore(engine, clock=clock),
            secret=SECRET,
            inbound=InboundOnce(uow_factory, clock=clock),
            replies=ReplyQueue("Telegram"),
        )
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://lookout") as telegram:
            first = await telegram.post(WEBHOOK_PATH, json=UPDATE, headers={SECRET_HEADER: SECRET})
            retry = await telegram.post(WEBHOOK_PATH, json=UPDATE, headers={SECRET_HEADER: SECRET})
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", refuse_the_first_read)

    assert not reads_to_refuse  # the read was refused once
    assert first.status_code == 500  # Telegram will deliver it again
    assert retry.status_code == 200 and not retry.json().get("duplicate")
    assert handled == ["I saw the van again"]
