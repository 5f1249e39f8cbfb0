"""The console's Telegram phone: one resident acting through Telegram's own door, and what the bot showed them.

Every action is an Update posted by ``TelegramUsers`` to the webhook the app
registered with ``setWebhook``, with its secret header, exactly as Telegram
posts it. The chat the page draws is the stand-in's record of what the bot
sent this user (edits applied, deleted messages gone) interleaved with what
the resident did. **New resident** puts a fresh simulated user on the phone;
**Reset** clears what the phone shows (the stand-in keeps its record).
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from sandbox.console.inputs import AppUnreachable, BadInput, NotReady
from sandbox.console.people import new_telegram_resident
from sandbox.console.telegram_html import message_nodes
from sandbox.telegram import SentRecord, TelegramStandIn
from sandbox.telegram_users import SimulatedUser, TelegramUsers

TYPING_SECONDS = 5.0  # Telegram shows a chat action for about five seconds, or until the next message
MAX_TEXT = 4096
# Update ids must grow across restarts too: the app ignores an update_id it has already handled.
_UPDATE_ID_EPOCH = 1_700_000_000


@dataclass
class ResidentAction:
    """Something the resident did, and how the app answered the webhook call."""

    at: float  # time.monotonic(), the stand-in's clock for what the bot sent
    kind: str  # text | location | photo | button
    text: str = ""
    status: int | None = None
    error: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    file_id: str | None = None
    callback_id: str | None = None
    on_message: int | None = None  # the bot message a reply or button press refers to
    keyboard_message: int | None = None  # the bot message whose reply keyboard sent this text


class TelegramPhone:
    def __init__(self, stand_in: TelegramStandIn, user: SimulatedUser, *, rng: random.Random | None = None) -> None:
        self.stand_in = stand_in
        self.user = user
        self._users = TelegramUsers(stand_in, first_update_id=(int(time.time()) - _UPDATE_ID_EPOCH) * 10)
        self._actions: list[ResidentAction] = []
        self._hidden_through = 0  # the bot's messages up to this message_id were cleared from the view by Reset
        self._residents: list[SimulatedUser] = [user]  # everyone who has been on this phone
        self._rng = rng or random.Random()
        self._log_lock = threading.Lock()
        self._one_at_a_time = asyncio.Lock()  # a phone does one thing at a time; updates arrive in order

    # --- the phone itself ------------------------------------------------------------------------

    async def new_resident(self) -> dict[str, Any]:
        """A fresh simulated user on this phone, unknown to the app, with an empty chat."""
        async with self._one_at_a_time:  # what the last resident was doing finishes first
            taken = {r.chat_id for r in list(self.stand_in.sent)} | {r.id for r in self._residents}
            user = new_telegram_resident(len(self._residents) - 1, taken, self._rng)
            with self._log_lock:
                self.user, self._hidden_through = user, 0
                self._residents.append(user)
                self._actions.clear()
        return {"user": user.as_json()}

    async def reset(self) -> dict[str, Any]:
        """Clear the chat on the phone: the bot's messages so far and the resident's actions leave the view."""
        async with self._one_at_a_time:
            shown = self.stand_in.messages_to(self.user.id)
            with self._log_lock:
                self._hidden_through = max((r.message_id for r in shown), default=self._hidden_through)
                self._actions.clear()
        return {"user": self.user.as_json()}

    # --- what the resident does ------------------------------------------------------------

    async def send_text(
        self, text: str, *, reply_to: int | None = None, keyboard_message: int | None = None
    ) -> ResidentAction:
        if len(text) > MAX_TEXT:
            raise BadInput(f"text: at most {MAX_TEXT} characters, as in Telegram")
        if reply_to is not None:
            self._bot_message(reply_to)
        action = ResidentAction(time.monotonic(), "text", text, on_message=reply_to, keyboard_message=keyboard_message)
        return await self._deliver(action, lambda: self._users.sends_text(self.user, text, reply_to=reply_to))

    async def share_location(
        self, latitude: float, longitude: float, *, keyboard_message: int | None = None
    ) -> ResidentAction:
        action = ResidentAction(
            time.monotonic(), "location", latitude=latitude, longitude=longitude, keyboard_message=keyboard_message
        )
        return await self._deliver(action, lambda: self._users.shares_location(self.user, latitude, longitude))

    async def send_photo(self, content: bytes, caption: str | None) -> ResidentAction:
        action = ResidentAction(time.monotonic(), "photo", caption or "")

        def post() -> httpx.Response:
            answer = self._users.sends_photo(self.user, content, caption=caption)
            action.file_id = (self._users.last_update or {}).get("message", {}).get("photo", [{}])[0].get("file_id")
            return answer

        return await self._deliver(action, post)

    async def press_button(self, message_id: int, data: str) -> ResidentAction:
        """Press an inline button: only one the bot's message really has, as on a phone."""
        record = self._bot_message(message_id)
        buttons = [
            b for row in (record.reply_markup or {}).get("inline_keyboard", []) for b in row if isinstance(b, dict)
        ]
        button = next((b for b in buttons if b.get("callback_data") == data), None)
        if button is None:
            raise BadInput(f"data: message {message_id} has no button with that callback data")
        action = ResidentAction(time.monotonic(), "button", str(button.get("text", "")), on_message=message_id)

        def post() -> httpx.Response:
            answer = self._users.presses_button(self.user, message_id, data)
            action.callback_id = (self._users.last_update or {}).get("callback_query", {}).get("id")
            return answer

        return await self._deliver(action, post)

    async def _deliver(self, action: ResidentAction, post: Callable[[], httpx.Response]) -> ResidentAction:
        if not self.stand_in.webhook.get("url"):
            raise NotReady(
                "the app has not registered a Telegram webhook yet (setWebhook); is it running with "
                "this sandbox's TELEGRAM_API_BASE?"
            )
        async with self._one_at_a_time:
            try:
                # TelegramUsers posts synchronously; in a thread, so the app can call this server while it answers.
                answer = await asyncio.to_thread(post)
                action.status = answer.status_code
            except RuntimeError as exc:  # the webhook was deleted a moment ago
                raise NotReady(str(exc)) from None
            except httpx.HTTPError as exc:
                action.error = f"the app's webhook did not answer: {type(exc).__name__}"
                self._log(action)
                raise AppUnreachable(f"{action.error} ({self.stand_in.webhook['url']})") from None
        self._log(action)
        return action

    def _log(self, action: ResidentAction) -> None:
        with self._log_lock:
            self._actions.append(action)

    def _bot_message(self, message_id: int) -> SentRecord:
        record = next((m for m in self.stand_in.messages_to(self.user.id) if m.message_id == message_id), None)
        if record is None:
            raise BadInput(f"message_id: the bot has no message {message_id} in this chat")
        return record

    # --- what the page shows -------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        with self._log_lock:
            user, hidden_through, actions = self.user, self._hidden_through, list(self._actions)
        records = [r for r in self.stand_in.messages_to(user.id) if r.message_id > hidden_through]
        answers = {a.get("callback_query_id"): a for a in list(self.stand_in.callback_answers)}
        timeline = [_bot_bubble(r, self.stand_in) for r in records]
        timeline += [_resident_entry(a, answers.get(a.callback_id)) for a in actions]
        timeline.sort(key=lambda item: item["at"])
        webhook = self.stand_in.webhook
        return {
            "user": user.as_json(),
            "bot": self.stand_in.bot_user(),
            "now": time.monotonic(),  # the clock of every "at" here, so the page can show wall-clock times
            "webhook": {
                "registered": bool(webhook.get("url")),
                "url": webhook.get("url", ""),
                "allowed_updates": webhook.get("allowed_updates") or [],
            },
            "timeline": timeline,
            "typing": self._typing(user, records),
            "keyboard": _reply_keyboard(records, actions),
            "force_reply": _force_reply(records, actions),
        }

    def _typing(self, user: SimulatedUser, records: list[SentRecord]) -> str | None:
        action = self.stand_in.last_chat_action(user.id)
        if action is None or time.monotonic() - action.at > TYPING_SECONDS:
            return None
        if any(r.at > action.at for r in records):  # a message ends the chat action
            return None
        return action.action


def _bot_bubble(record: SentRecord, stand_in: TelegramStandIn) -> dict[str, Any]:
    params = record.params
    bubble: dict[str, Any] = {
        "from": "bot",
        "at": record.at,
        "id": record.message_id,
        "kind": record.kind,
        "edited": record.edits > 0,
        "nodes": message_nodes(record.text, record.visible, params.get("parse_mode")),
    }
    reply_to = _reply_to(params)
    if reply_to is not None:
        bubble["reply_to"] = reply_to
    markup = record.reply_markup or {}
    if isinstance(markup.get("inline_keyboard"), list):
        bubble["buttons"] = [
            [_inline_button(b) for b in row if isinstance(b, dict)]
            for row in markup["inline_keyboard"]
            if isinstance(row, list)
        ]
    if record.kind == "location":
        bubble["location"] = {"latitude": _float(params.get("latitude")), "longitude": _float(params.get("longitude"))}
    if record.file_id:
        stored = stand_in.file(record.file_id)
        bubble["file"] = {
            "url": f"/_console/api/telegram/files/{record.file_id}",
            "name": stored.name if stored else "",
        }
    return bubble


def _resident_entry(action: ResidentAction, answer: dict[str, Any] | None) -> dict[str, Any]:
    entry = {"from": "resident", **asdict(action)}
    if action.file_id:
        entry["file"] = {"url": f"/_console/api/telegram/files/{action.file_id}", "name": "photo.jpg"}
    if action.kind == "button":
        entry["answered"] = answer is not None
        entry["answer_text"] = str(answer.get("text") or "") if answer else ""
        entry["show_alert"] = bool(answer and str(answer.get("show_alert")).lower() in {"true", "1"})
    return entry


def _inline_button(button: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {"text": str(button.get("text", ""))}
    if button.get("callback_data") is not None:
        shown["data"] = str(button["callback_data"])
    elif str(button.get("url", "")).lower().startswith(("http://", "https://")):
        shown["url"] = str(button["url"])
    else:
        shown["unsupported"] = True  # switch_inline_query, web_app, …: not simulated
    return shown


def _reply_keyboard(records: list[SentRecord], actions: list[ResidentAction]) -> dict[str, Any] | None:
    """The reply keyboard the resident sees: set by the latest message that sets or removes one."""
    current: dict[str, Any] | None = None
    for record in records:
        markup = record.reply_markup or {}
        if isinstance(markup.get("keyboard"), list):
            rows = [[_keyboard_button(b) for b in row] for row in markup["keyboard"] if isinstance(row, list)]
            current = {
                "message_id": record.message_id,
                "rows": rows,
                "one_time": bool(markup.get("one_time_keyboard")),
                "placeholder": str(markup.get("input_field_placeholder") or ""),
            }
        elif markup.get("remove_keyboard"):
            current = None
    if current is not None:
        current["used"] = current["one_time"] and any(a.keyboard_message == current["message_id"] for a in actions)
    return current


def _keyboard_button(button: Any) -> dict[str, Any]:
    if isinstance(button, str):
        return {"text": button}
    if not isinstance(button, dict):
        return {"text": str(button)}
    return {
        "text": str(button.get("text", "")),
        "request_location": bool(button.get("request_location")),
        "unsupported": any(
            button.get(k) for k in ("request_contact", "request_poll", "web_app", "request_users", "request_chat")
        ),
    }


def _force_reply(records: list[SentRecord], actions: list[ResidentAction]) -> dict[str, Any] | None:
    """A ForceReply on the bot's latest message makes the next message a reply to it."""
    if not records:
        return None
    last = records[-1]
    markup = last.reply_markup or {}
    if not markup.get("force_reply") or any(a.at > last.at for a in actions):
        return None
    return {"message_id": last.message_id, "placeholder": str(markup.get("input_field_placeholder") or "")}


def _reply_to(params: dict[str, Any]) -> int | None:
    reply = params.get("reply_parameters")
    value = reply.get("message_id") if isinstance(reply, dict) else params.get("reply_to_message_id")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
