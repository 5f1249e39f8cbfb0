"""A local Telegram Bot API: the methods Lookout calls, with Telegram's answers and limits.

``POST /bot<token>/<method>`` with a form-encoded, multipart or JSON body
(aiogram sends forms with JSON-encoded fields, and multipart for files),
answered ``{"ok": true, "result": …}`` or ``{"ok": false, "error_code": …,
"description": …, "parameters": {…}}`` as Telegram does. Files are served at
``/file/bot<token>/<file_path>``. It keeps a record of every message, enforces
Telegram's published limits (about 30 messages/s per bot, 1/s per chat) with
the real 429 shape, checks HTML / MarkdownV2 markup as Telegram does, and can
be told to add latency, fail a share of calls with 5xx, or behave as if a user
blocked the bot. Simulated users (``sandbox.telegram_users``) post updates to
the webhook registered with ``setWebhook``.

Run alone: ``python -m sandbox.telegram --port 8081``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.faults import FaultInjector
from sandbox.server import BackgroundServer, ServedStandIn
from sandbox.telegram_markup import EntityError, visible_text

# Fields Telegram takes as JSON-serialised objects inside a form.
_JSON_FIELDS = {
    "reply_markup",
    "reply_parameters",
    "link_preview_options",
    "entities",
    "allowed_updates",
    "commands",
    "caption_entities",
}
MAX_TEXT = 4096
MAX_CAPTION = 1024
DELETE_WINDOW_S = 48 * 3600  # deleteMessage: a bot's own message in a private chat, for 48 hours
MAX_CALLBACK_DATA = 64


@dataclass
class TelegramLimits:
    per_bot_per_second: float | None = 30.0  # None: unlimited (benchmarks of the engine itself)
    per_chat_interval: float | None = 1.0
    # "We may allow short bursts that go over this limit" (Bot FAQ): a conversation's
    # two-message answer passes, a steady stream faster than one a second does not.
    per_chat_burst: int = 3
    # Paid broadcasts (``allow_paid_broadcast``): up to this many messages/s; each one beyond the free
    # rate costs PAID_BROADCAST_STARS from the bot's balance (None: a balance that never runs out).
    paid_per_second: float | None = 1000.0
    stars_balance: float | None = None


PAID_BROADCAST_STARS = 0.1
# Telegram's published documents give no wording for a paid broadcast refused for want of Stars;
# this is the stand-in's own, and the adapter recognises such a refusal by PAID_REFUSAL_WORDS.
NOT_ENOUGH_STARS = "Bad Request: not enough Stars on the bot's balance for a paid broadcast"


@dataclass
class TelegramFaults:
    latency_seconds: float = 0.0
    server_error_share: float = 0.0  # 0..1 of calls answered 502
    blocked_chats: set[int] = field(default_factory=set)


@dataclass
class SentRecord:
    """A message the bot put into a chat (edits update it in place)."""

    chat_id: int
    message_id: int
    text: str  # as the bot sent it (markup included)
    params: dict[str, Any]
    at: float
    kind: str = "text"  # text | photo | document | location
    visible: str = ""  # what the user sees, after Telegram parsed the markup
    reply_markup: dict[str, Any] | None = None
    deleted: bool = False
    edits: int = 0
    file_id: str | None = None  # the photo or document sent, for showing it


@dataclass
class ChatAction:
    """A ``sendChatAction`` ("typing", "upload_photo", …); Telegram shows it for about 5 s or until the next message."""

    chat_id: int
    action: str
    at: float  # time.monotonic()


@dataclass
class StoredFile:
    file_id: str
    file_path: str
    content: bytes
    name: str


class _ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


class TelegramStandIn(ServedStandIn):
    def __init__(
        self,
        token: str = "123456:TEST",
        *,
        limits: TelegramLimits | None = None,
        faults: TelegramFaults | None = None,
        seed: int = 0,
    ) -> None:
        self.token = token
        self.limits = limits or TelegramLimits()
        self.faults = faults or TelegramFaults()
        self.sent: list[SentRecord] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.callback_answers: list[dict[str, Any]] = []
        self.commands: list[dict[str, Any]] = []
        self.commands_by_language: dict[str, list[dict[str, Any]]] = {}
        self.chat_actions: list[ChatAction] = []
        self.webhook: dict[str, Any] = {}
        self.files: dict[str, StoredFile] = {}
        self.rate_limited = 0
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._recent: deque[float] = deque()
        self._paid_recent: deque[float] = deque()
        self.stars_spent = 0.0
        self._chat_tokens: dict[int, tuple[float, float]] = {}  # chat → (tokens, when counted)
        self._message_ids: dict[int, int] = defaultdict(int)
        self._by_id: dict[tuple[int, int], SentRecord] = {}
        self.app = FaultInjector(
            Starlette(
                routes=[
                    Route("/bot{token}/{method}", self._dispatch, methods=["GET", "POST"]),
                    Route("/file/bot{token}/{path:path}", self._download),
                    Route("/_sandbox/stats", self._stats),  # for benchmarks and tests in another process
                    Route("/_sandbox/arrivals", self._arrivals),
                ]
            )
        )  # latency, resets and 5xx bursts on the wire: sandbox.faults
        self._server = BackgroundServer(self.app, "Telegram stand-in")

    # --- what tests read -----------------------------------------------------------------

    def texts_to(self, chat_id: int) -> list[str]:
        with self._lock:
            return [s.text for s in self.sent if s.chat_id == chat_id and not s.deleted]

    def messages_to(self, chat_id: int) -> list[SentRecord]:
        with self._lock:
            return [s for s in self.sent if s.chat_id == chat_id and not s.deleted]

    def sent_count(self) -> int:
        with self._lock:
            return len(self.sent)

    def last_chat_action(self, chat_id: int) -> ChatAction | None:
        with self._lock:
            return next((a for a in reversed(self.chat_actions) if a.chat_id == chat_id), None)

    def file(self, file_id: str) -> StoredFile | None:
        with self._lock:
            return self.files.get(file_id)

    def add_file(self, content: bytes, name: str = "photo.jpg") -> StoredFile:
        """Store a file as if a user had uploaded it (for simulated photos)."""
        with self._lock:
            return self._store_file(content, name)

    # --- the HTTP doors ------------------------------------------------------------------

    async def _dispatch(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        params = await _params(request)
        method = request.path_params["method"].lower()
        if self.faults.latency_seconds:
            await asyncio.sleep(self.faults.latency_seconds)
        handler = _METHODS.get(method)
        with self._lock:
            self.calls.append((method, {k: v for k, v in params.items() if not isinstance(v, UploadFile)}))
            if self.faults.server_error_share and self._rng.random() < self.faults.server_error_share:
                return _error(502, "Bad Gateway")
            if handler is None:
                return _error(404, "Not Found: method not found")
            try:
                return _ok(handler(self, params))
            except _ApiError as exc:
                if exc.code == 429:
                    self.rate_limited += 1
                return _error(exc.code, exc.description, retry_after=exc.retry_after)

    async def _download(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return Response(status_code=401)
        path = request.path_params["path"]
        with self._lock:
            stored = next((f for f in self.files.values() if f.file_path == path), None)
        if stored is None:
            return Response(status_code=404)
        return Response(stored.content, media_type="application/octet-stream")

    async def _arrivals(self, request: Request) -> JSONResponse:
        """[chat id, seconds on the stand-in's clock] of every message, in the order they arrived."""
        with self._lock:
            return JSONResponse([[r.chat_id, r.at] for r in self.sent])

    async def _stats(self, request: Request) -> JSONResponse:
        with self._lock:
            per_chat: dict[int, int] = defaultdict(int)
            for record in self.sent:
                per_chat[record.chat_id] += 1
            return JSONResponse(
                {
                    "sent": len(self.sent),
                    "rate_limited": self.rate_limited,
                    "stars_spent": round(self.stars_spent, 1),
                    "chats": len(per_chat),
                    "duplicates": sum(n - 1 for n in per_chat.values() if n > 1),
                    "first_at": self.sent[0].at if self.sent else None,
                    "last_at": self.sent[-1].at if self.sent else None,
                }
            )

    # --- methods (called with the lock held) ------------------------------------------------

    def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.bot_user()

    def _set_webhook(self, params: dict[str, Any]) -> bool:
        url = str(params.get("url", ""))
        if url and not url.startswith(("http://", "https://")):
            raise _ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook = {
            "url": url,
            "secret_token": params.get("secret_token"),
            "allowed_updates": params.get("allowed_updates"),
            "max_connections": int(params.get("max_connections", 40)),
        }
        return True

    def _delete_webhook(self, params: dict[str, Any]) -> bool:
        self.webhook = {}
        return True

    def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": 0,
        }
        if self.webhook.get("url"):
            info["max_connections"] = self.webhook["max_connections"]
            if self.webhook.get("allowed_updates"):
                info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        text = str(params.get("text", ""))
        visible = self._checked_text(text, params.get("parse_mode"), MAX_TEXT, "message text")
        record = self._record(params, "text", text, visible)
        return self._message_json(record)

    def _send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        caption = str(params.get("caption", ""))
        visible = self._checked_text(caption, params.get("parse_mode"), MAX_CAPTION, "caption", allow_empty=True)
        stored = self._file_param(params, "photo", "photo.jpg")
        record = self._record(params, "photo", caption, visible)
        record.file_id = stored.file_id
        return self._message_json(record)

    def _send_document(self, params: dict[str, Any]) -> dict[str, Any]:
        caption = str(params.get("caption", ""))
        visible = self._checked_text(caption, params.get("parse_mode"), MAX_CAPTION, "caption", allow_empty=True)
        stored = self._file_param(params, "document", "document")
        record = self._record(params, "document", caption, visible)
        record.file_id = stored.file_id
        result = self._message_json(record)
        result["document"] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_id[-12:],
            "file_name": stored.name,
            "file_size": len(stored.content),
        }
        return result

    def _send_location(self, params: dict[str, Any]) -> dict[str, Any]:
        try:
            lat, lon = float(params["latitude"]), float(params["longitude"])
        except (KeyError, ValueError):
            raise _ApiError(400, "Bad Request: latitude and longitude are required") from None
        record = self._record(params, "location", "", "")
        result = self._message_json(record)
        result["location"] = {"latitude": lat, "longitude": lon}
        return result

    def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        record = self._existing(params, "message to edit not found")
        if record.kind != "text":
            raise _ApiError(400, "Bad Request: there is no text in the message to edit")
        text = str(params.get("text", ""))
        visible = self._checked_text(text, params.get("parse_mode"), MAX_TEXT, "message text")
        markup = self._checked_markup(params.get("reply_markup"))
        if visible == record.visible and markup == record.reply_markup:
            raise _ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply markup are exactly the same",
            )
        record.text, record.visible, record.reply_markup, record.edits = text, visible, markup, record.edits + 1
        return self._message_json(record)

    def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        record = self._existing(params, "message to edit not found")
        markup = self._checked_markup(params.get("reply_markup"))
        if markup == record.reply_markup:
            raise _ApiError(400, "Bad Request: message is not modified")
        record.reply_markup, record.edits = markup, record.edits + 1
        return self._message_json(record)

    def _edit_message_caption(self, params: dict[str, Any]) -> dict[str, Any]:
        record = self._existing(params, "message to edit not found")
        if record.kind not in ("photo", "document"):
            raise _ApiError(400, "Bad Request: there is no caption in the message to edit")
        caption = str(params.get("caption", ""))
        visible = self._checked_text(caption, params.get("parse_mode"), MAX_CAPTION, "caption", allow_empty=True)
        markup = self._checked_markup(params.get("reply_markup"))
        if visible == record.visible and markup == record.reply_markup:
            raise _ApiError(400, "Bad Request: message is not modified")
        record.text, record.visible, record.reply_markup, record.edits = caption, visible, markup, record.edits + 1
        return self._message_json(record)

    def _delete_message(self, params: dict[str, Any]) -> bool:
        record = self._existing(params, "message to delete not found")
        if time.monotonic() - record.at > DELETE_WINDOW_S:
            # A bot may delete its own messages in a private chat only for 48 hours.
            raise _ApiError(400, "Bad Request: message can't be deleted for everyone")
        record.deleted = True
        return True

    def age_message(self, chat_id: int, message_id: int, seconds: float) -> None:
        """Make a message ``seconds`` older (to reach Telegram's 48-hour deletion limit without waiting)."""
        self._by_id[(chat_id, message_id)].at -= seconds

    def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        if not params.get("callback_query_id"):
            raise _ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        self.callback_answers.append(params)
        return True

    def _get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        stored = self.files.get(str(params.get("file_id", "")))
        if stored is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_id[-12:],
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }

    def _set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or not all(isinstance(c, dict) and c.get("command") for c in commands):
            raise _ApiError(400, "Bad Request: commands must be a list of BotCommand")
        language = str(params.get("language_code") or "")
        self.commands_by_language[language] = commands  # a menu per language, "" for everyone else
        if not language:
            self.commands = commands
        return True

    def _get_my_commands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self.commands_by_language.get(str(params.get("language_code") or ""), [])

    def _send_chat_action(self, params: dict[str, Any]) -> bool:
        self.chat_actions.append(ChatAction(_chat_id(params), str(params.get("action") or "typing"), time.monotonic()))
        return True

    # --- helpers -------------------------------------------------------------------------------

    def _check_send_allowed(self, params: dict[str, Any]) -> None:
        chat_id = _chat_id(params)
        if chat_id in self.faults.blocked_chats:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        paid = str(params.get("allow_paid_broadcast", "")).lower() in ("true", "1")
        wait = self._throttle(chat_id, time.monotonic(), paid=paid)
        if wait:
            raise _ApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)

    def _throttle(self, chat_id: int, now: float, *, paid: bool = False) -> int:
        """Seconds to wait (Telegram says whole seconds) if this send breaks a limit, else 0."""
        per_second = self.limits.per_bot_per_second
        charge = False
        if per_second is not None:
            while self._recent and self._recent[0] <= now - 1.0:
                self._recent.popleft()
            while self._paid_recent and self._paid_recent[0] <= now - 1.0:
                self._paid_recent.popleft()
            if len(self._recent) >= per_second:
                if not paid:
                    return 1
                # Beyond the free rate a paid broadcast goes on, up to its own ceiling, for Stars.
                paid_ceiling = self.limits.paid_per_second
                if paid_ceiling is not None and len(self._paid_recent) >= paid_ceiling:
                    return 1
                balance = self.limits.stars_balance
                if balance is not None and balance - self.stars_spent < PAID_BROADCAST_STARS:
                    raise _ApiError(400, NOT_ENOUGH_STARS)
                charge = True
        interval = self.limits.per_chat_interval
        burst = max(1, self.limits.per_chat_burst)
        tokens = float(burst)
        if interval is not None:
            # A bucket per chat: ``burst`` messages at once, refilled at one per ``interval``.
            held, since = self._chat_tokens.get(chat_id, (float(burst), now))
            tokens = min(float(burst), held + (now - since) / interval)
            if tokens < 1.0:
                self._chat_tokens[chat_id] = (tokens, now)
                return max(1, round((1.0 - tokens) * interval + 0.49))
        if charge:
            self._paid_recent.append(now)
            self.stars_spent += PAID_BROADCAST_STARS
        elif per_second is not None:
            self._recent.append(now)
        self._chat_tokens[chat_id] = (tokens - 1.0, now)
        return 0

    def _checked_text(self, text: str, parse_mode: Any, limit: int, what: str, *, allow_empty: bool = False) -> str:
        try:
            visible = visible_text(text, parse_mode if isinstance(parse_mode, str) else None)
        except EntityError as exc:
            raise _ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
        if not visible.strip() and not allow_empty:
            raise _ApiError(400, f"Bad Request: {what} is empty")
        if len(visible) > limit:
            raise _ApiError(400, f"Bad Request: {what} is too long")
        return visible

    def _checked_markup(self, markup: Any) -> dict[str, Any] | None:
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise _ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                    raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup

    def _record(self, params: dict[str, Any], kind: str, text: str, visible: str) -> SentRecord:
        """Put a checked message into its chat: bad requests first, then blocked, then rate limits, as Telegram does."""
        chat_id = _chat_id(params)
        markup = self._checked_markup(params.get("reply_markup"))
        self._check_send_allowed(params)
        self._message_ids[chat_id] += 1
        record = SentRecord(chat_id, self._message_ids[chat_id], text, params, time.monotonic(), kind, visible, markup)
        self.sent.append(record)
        self._by_id[(chat_id, record.message_id)] = record
        return record

    def _existing(self, params: dict[str, Any], missing: str) -> SentRecord:
        try:
            key = (_chat_id(params), int(params["message_id"]))
        except (KeyError, ValueError):
            raise _ApiError(400, "Bad Request: message_id is required") from None
        record = self._by_id.get(key)
        if record is None or record.deleted:
            raise _ApiError(400, f"Bad Request: {missing}")
        return record

    def _file_param(self, params: dict[str, Any], name: str, default_name: str) -> StoredFile:
        value = params.get(name)
        if isinstance(value, str) and value.startswith("attach://"):  # the file travels as another multipart part
            name = value.removeprefix("attach://")
            value = params.get(name)
        if isinstance(value, UploadFile):
            return self._store_file(params[f"__bytes_{name}"], value.filename or default_name)
        if isinstance(value, str) and value in self.files:
            return self.files[value]
        raise _ApiError(400, f"Bad Request: there is no {name} in the request")

    def _store_file(self, content: bytes, name: str) -> StoredFile:
        file_id = "AgAC" + hashlib.sha256(content + str(len(self.files)).encode()).hexdigest()[:40]
        stored = StoredFile(file_id, f"files/{file_id[-16:]}/{name}", content, name)
        self.files[file_id] = stored
        return stored

    def _message_json(self, record: SentRecord) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": record.message_id,
            "from": self.bot_user(),
            "chat": {"id": record.chat_id, "type": "private", "first_name": "Resident"},
            "date": int(time.time()),
        }
        if record.kind == "text":
            message["text"] = record.visible
        stored = self.files.get(record.file_id or "") if record.kind == "photo" else None
        if stored is not None:
            message["photo"] = [
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_id[-12:],
                    "width": 800,
                    "height": 600,
                    "file_size": len(stored.content),
                }
            ]
            if record.visible:
                message["caption"] = record.visible
        if record.edits:
            message["edit_date"] = int(time.time())
        if record.reply_markup and "inline_keyboard" in record.reply_markup:
            # Telegram echoes only inline keyboards in a Message; reply keyboards live on the user's screen.
            message["reply_markup"] = record.reply_markup
        return message

    def bot_user(self) -> dict[str, Any]:
        return {
            "id": int(self.token.split(":")[0]),
            "is_bot": True,
            "first_name": "Lookout",
            "username": "lookout_sandbox_bot",
        }


_METHODS = {
    "getme": TelegramStandIn._get_me,
    "setwebhook": TelegramStandIn._set_webhook,
    "deletewebhook": TelegramStandIn._delete_webhook,
    "getwebhookinfo": TelegramStandIn._get_webhook_info,
    "sendmessage": TelegramStandIn._send_message,
    "sendphoto": TelegramStandIn._send_photo,
    "senddocument": TelegramStandIn._send_document,
    "sendlocation": TelegramStandIn._send_location,
    "editmessagetext": TelegramStandIn._edit_message_text,
    "editmessagereplymarkup": TelegramStandIn._edit_message_reply_markup,
    "deletemessage": TelegramStandIn._delete_message,
    "editmessagecaption": TelegramStandIn._edit_message_caption,
    "answercallbackquery": TelegramStandIn._answer_callback_query,
    "getfile": TelegramStandIn._get_file,
    "setmycommands": TelegramStandIn._set_my_commands,
    "getmycommands": TelegramStandIn._get_my_commands,
    "sendchataction": TelegramStandIn._send_chat_action,
}


def _chat_id(params: dict[str, Any]) -> int:
    try:
        return int(params["chat_id"])
    except (KeyError, ValueError, TypeError):
        raise _ApiError(400, "Bad Request: chat not found") from None


async def _params(request: Request) -> dict[str, Any]:
    """The method's parameters from a JSON, form-encoded or multipart body (and the query string)."""
    content_type = request.headers.get("content-type", "")
    params: dict[str, Any] = dict(request.query_params)
    if "json" in content_type:
        try:
            data = json.loads(await request.body() or b"{}")
        except json.JSONDecodeError:
            return params
        return {**params, **data} if isinstance(data, dict) else params
    if "multipart/form-data" in content_type:
        form = await request.form()
        for key, value in form.multi_items():
            params[key] = value
            if isinstance(value, UploadFile):
                params[f"__bytes_{key}"] = await value.read()
    else:
        body = await request.body()
        params.update(parse_qsl(body.decode("utf-8", "replace")) if body else [])
    for name in _JSON_FIELDS & params.keys():
        if isinstance(params[name], str):
            try:
                params[name] = json.loads(params[name])
            except json.JSONDecodeError:
                pass
    return params


def _ok(result: Any) -> JSONResponse:
    return JSONResponse({"ok": True, "result": result})


def _error(code: int, description: str, *, retry_after: int | None = None) -> JSONResponse:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return JSONResponse(body, status_code=code)


def main() -> None:
    parser = argparse.ArgumentParser(description="A local Telegram Bot API stand-in.")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="123456:TEST")
    parser.add_argument("--rate", type=float, default=30.0, help="messages/s per bot; 0 = unlimited")
    parser.add_argument("--per-chat", type=float, default=1.0, help="seconds between messages to one chat; 0 = none")
    parser.add_argument("--paid-rate", type=float, default=1000.0, help="paid broadcast messages/s; 0 = unlimited")
    parser.add_argument(
        "--stars", type=float, default=None, help="the bot's Stars balance for paid broadcasts (default: endless)"
    )
    args = parser.parse_args()
    import uvicorn

    limits = TelegramLimits(
        args.rate or None, args.per_chat or None, paid_per_second=args.paid_rate or None, stars_balance=args.stars
    )
    stand_in = TelegramStandIn(args.token, limits=limits)
    uvicorn.run(stand_in.app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
