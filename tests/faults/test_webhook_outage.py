"""A Telegram update failed by a database restart is handled when Telegram delivers it again, not dropped as a duplicate."""
from __future__ import annotations

import asyncio

import httpx
from aiogram import Bot
from aiogram.types import Update
from fastapi import FastAPI

from bots.telegram.webhook import SECRET_HEADER, WEBHOOK_PATH, add_telegram_webhook
from core.outages import StorageUnavailable
from storage.conversations import SqlConversationStore
from tests.support.outages import RefusedStatements, eventually

SECRET = "webhook-outage-secret"
UPDATE = {"update_id": 7001, "message": {"message_id": 1, "date": 1_700_000_000, "text": "I saw the van again",
                                         "chat": {"id": 42, "type": "private", "first_name": "Sam"},
                                         "from": {"id": 42, "is_bot": False, "first_name": "Sam"}}}


async def test_the_retry_of_an_update_the_database_failed_is_handled(engine, uow_factory, clock) -> None:
    handled: list[str] = []
    with RefusedStatements().installed(engine) as outage:

        class Note:
            async def on_update(self, update: Update) -> None:
                handled.append(update.message.text or "")  # type: ignore[union-attr]
                if len(handled) == 1:  # the database goes away while the first delivery is being handled
                    outage.on = True
                    raise StorageUnavailable("OperationalError: terminating connection due to administrator command")

        app = FastAPI()
        add_telegram_webhook(app, bot=Bot("123456:OUTAGE"), handler=Note(), conversations=SqlConversationStore(engine, clock=clock),
                             secret=SECRET, uow=uow_factory)
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
