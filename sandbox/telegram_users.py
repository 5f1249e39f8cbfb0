"""Simulated Telegram users: they act by posting Update JSON to the bot's webhook, as Telegram does.

The webhook is whatever the bot registered with ``setWebhook`` on the
stand-in (URL and ``secret_token``); every update carries a fresh
``update_id`` and, when a secret was set, ``X-Telegram-Bot-Api-Secret-Token``.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any

import httpx

from sandbox.telegram import TelegramStandIn

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass(frozen=True)
class SimulatedUser:
    id: int
    first_name: str = "Sam"
    username: str | None = None
    language_code: str = "en"

    def as_json(self) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": self.id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": self.language_code,
        }
        if self.username:
            user["username"] = self.username
        return user

    def chat(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.username:
            chat["username"] = self.username
        return chat


class TelegramUsers:
    """Drives users against the webhook registered on ``stand_in``."""

    def __init__(self, stand_in: TelegramStandIn, *, first_update_id: int = 100_000) -> None:
        self._stand_in = stand_in
        self._update_ids = itertools.count(first_update_id)
        self._message_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self.last_update: dict[str, Any] | None = None

    # --- what a user does --------------------------------------------------------------

    def sends_text(self, user: SimulatedUser, text: str, *, reply_to: int | None = None) -> httpx.Response:
        message = self._message(user, text=text)
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        if reply_to is not None:
            message["reply_to_message"] = self._bot_message(user, reply_to)
        return self.post({"message": message})

    def shares_location(
        self, user: SimulatedUser, lat: float, lon: float, *, live_period: int | None = None
    ) -> httpx.Response:
        location: dict[str, Any] = {"latitude": lat, "longitude": lon}
        if live_period is not None:
            location["live_period"] = live_period
        return self.post({"message": self._message(user, location=location)})

    def sends_photo(
        self, user: SimulatedUser, content: bytes, *, caption: str | None = None, reply_to: int | None = None
    ) -> httpx.Response:
        stored = self._stand_in.add_file(content, "photo.jpg")
        photo = [
            {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_id[-12:],
                "width": 800,
                "height": 600,
                "file_size": len(content),
            }
        ]
        message = self._message(user, photo=photo)
        if caption:
            message["caption"] = caption
        if reply_to is not None:
            message["reply_to_message"] = self._bot_message(user, reply_to)
        return self.post({"message": message})

    def presses_button(self, user: SimulatedUser, message_id: int, data: str) -> httpx.Response:
        callback = {
            "id": str(next(self._callback_ids)),
            "from": user.as_json(),
            "chat_instance": str(user.id * 7),
            "data": data,
            "message": self._bot_message(user, message_id),
        }
        return self.post({"callback_query": callback})

    def blocks_bot(self, user: SimulatedUser) -> httpx.Response:
        """From now on sends to this user fail with 403, and the bot hears about it."""
        self._stand_in.faults.blocked_chats.add(user.id)
        bot = self._stand_in.bot_user()
        update = {
            "my_chat_member": {
                "chat": user.chat(),
                "from": user.as_json(),
                "date": int(time.time()),
                "old_chat_member": {"status": "member", "user": bot},
                "new_chat_member": {"status": "kicked", "user": bot, "until_date": 0},
            }
        }
        return self.post(update)

    # --- the wire ----------------------------------------------------------------------

    def post(
        self, update: dict[str, Any], *, secret: str | None = None, update_id: int | None = None
    ) -> httpx.Response:
        """Deliver one update to the registered webhook (``secret`` overrides the registered one)."""
        webhook = self._stand_in.webhook
        if not webhook.get("url"):
            raise RuntimeError("no webhook is registered on the Telegram stand-in (call setWebhook first)")
        body = {"update_id": next(self._update_ids) if update_id is None else update_id, **update}
        self.last_update = body
        headers = {}
        token = secret if secret is not None else webhook.get("secret_token")
        if token:
            headers[SECRET_HEADER] = token
        return httpx.post(webhook["url"], json=body, headers=headers, timeout=10)

    def _message(self, user: SimulatedUser, **content: Any) -> dict[str, Any]:
        return {
            "message_id": next(self._message_ids),
            "from": user.as_json(),
            "chat": user.chat(),
            "date": int(time.time()),
            **content,
        }

    def _bot_message(self, user: SimulatedUser, message_id: int) -> dict[str, Any]:
        """The bot's earlier message as Telegram embeds it in a reply or a callback."""
        record = next((m for m in self._stand_in.messages_to(user.id) if m.message_id == message_id), None)
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": self._stand_in.bot_user(),
            "chat": user.chat(),
            "date": int(time.time()),
        }
        if record is not None and record.kind == "text":
            message["text"] = record.visible
        if record is not None and record.reply_markup and "inline_keyboard" in record.reply_markup:
            message["reply_markup"] = record.reply_markup
        return message
