"""Playing Telegram for ``lookout bench faults``: residents' updates posted to the bot's webhook, retried as Telegram retries.

Telegram delivers each update to the webhook the bot registered with
``setWebhook`` (URL and ``secret_token``, read from the stand-in) and, when the
answer is not 2xx or never comes, delivers the same update again later — for a
while. So does this. What the bot says back is read from the Telegram
stand-in's record in this process. Every answer is counted by status; a retry
answered "already handled" is counted apart, because it means an update that
failed was never handled (a resident left in silence).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from sandbox.telegram import SentRecord, TelegramStandIn
from sandbox.telegram_users import SECRET_HEADER

# Telegram retries an update it could not deliver with growing pauses, for a minute or two.
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 15.0, 15.0, 15.0, 30.0)
ANSWER_TIMEOUT_S = 30.0
LOCKED = "database is locked"


@dataclass
class WebhookAnswers:
    """Every answer the webhook gave (``"200"``, ``"500"``, ``"transport error"``, …) and what they add up to."""

    statuses: Counter[str] = field(default_factory=Counter)
    updates: int = 0
    retried: int = 0  # updates that needed more than one delivery
    gave_up: int = 0  # updates never answered 2xx: Telegram would drop them
    failed_then_ignored: int = 0  # a retry answered "already handled" though no attempt had succeeded
    locked: int = 0  # answers that said "database is locked"
    log: list[tuple[float, str]] = field(
        default_factory=list
    )  # (time.monotonic() at the answer, status) of every answer


class TelegramSide:
    def __init__(self, stand_in: TelegramStandIn, client: httpx.AsyncClient) -> None:
        self.stand_in = stand_in
        self.client = client
        self.answers = WebhookAnswers()
        self._update_ids = itertools.count(500_000)
        self._ids = itertools.count(1)

    async def deliver(self, update: dict[str, Any]) -> bool:
        """Post one update until it is answered 2xx (True) or Telegram would give up (False)."""
        webhook = self.stand_in.webhook
        body = {"update_id": next(self._update_ids), **update}
        headers = {SECRET_HEADER: webhook.get("secret_token") or ""}
        self.answers.updates += 1
        for attempt, pause in enumerate((0.0, *RETRY_DELAYS)):
            if pause:
                await asyncio.sleep(pause)
            try:
                answer = await self.client.post(webhook["url"], json=body, headers=headers, timeout=ANSWER_TIMEOUT_S)
            except httpx.HTTPError:
                self.answers.statuses["transport error"] += 1
                self.answers.log.append((time.monotonic(), "transport error"))
                continue
            self.answers.statuses[str(answer.status_code)] += 1
            self.answers.log.append((time.monotonic(), str(answer.status_code)))
            if LOCKED in answer.text:
                self.answers.locked += 1
            if 200 <= answer.status_code < 300:
                if attempt:
                    self.answers.retried += 1
                    if _said_duplicate(answer):
                        self.answers.failed_then_ignored += 1
                return True
        self.answers.gave_up += 1
        return False

    def next_id(self) -> int:
        """A fresh message or callback query id."""
        return next(self._ids)


def _said_duplicate(answer: httpx.Response) -> bool:
    try:
        return bool(answer.json().get("duplicate"))
    except ValueError:
        return False


class Resident:
    """One person in a private chat with the bot."""

    def __init__(self, side: TelegramSide, chat_id: int, name: str = "Resident") -> None:
        self.side = side
        self.chat_id = chat_id
        self.user = {"id": chat_id, "is_bot": False, "first_name": name, "language_code": "en"}
        self.chat = {"id": chat_id, "type": "private", "first_name": name}

    def messages(self) -> list[SentRecord]:
        return self.side.stand_in.messages_to(self.chat_id)

    async def says(self, text: str) -> bool:
        message: dict[str, Any] = {
            "message_id": self.side.next_id(),
            "from": self.user,
            "chat": self.chat,
            "date": int(time.time()),
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return await self.side.deliver({"message": message})

    async def presses(self, label: str) -> bool:
        """Tap the newest inline button whose text contains ``label``; False if there is none, or it never got through."""
        for record in reversed(self.messages()):
            for row in (record.reply_markup or {}).get("inline_keyboard", []):
                for button in row:
                    if label in button.get("text", "") and "callback_data" in button:
                        return await self.side.deliver(
                            {
                                "callback_query": {
                                    "id": str(self.side.next_id()),
                                    "from": self.user,
                                    "chat_instance": str(self.chat_id * 7),
                                    "data": button["callback_data"],
                                    "message": self._bot_message(record),
                                }
                            }
                        )
        return False

    async def sees(self, fragment: str, *, after: int, timeout: float = 10.0) -> SentRecord | None:
        """The first message since the ``after``-th that contains ``fragment`` (None if it does not come)."""
        deadline = time.monotonic() + timeout
        while True:
            found = next((m for m in self.messages()[after:] if fragment in m.visible), None)
            if found is not None or time.monotonic() > deadline:
                return found
            await asyncio.sleep(0.1)

    def _bot_message(self, record: SentRecord) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": record.message_id,
            "from": self.side.stand_in.bot_user(),
            "chat": self.chat,
            "date": int(time.time()),
        }
        if record.kind == "text":
            message["text"] = record.visible
        if record.reply_markup and "inline_keyboard" in record.reply_markup:
            message["reply_markup"] = record.reply_markup
        return message
