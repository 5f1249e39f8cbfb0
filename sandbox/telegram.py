"""A local Telegram Bot API: the methods Lookout calls, with Telegram's answers and limits.

``POST /bot<token>/<method>`` with a form-encoded or JSON body (aiogram sends
forms with JSON-encoded fields), answered ``{"ok": true, "result": …}`` or
``{"ok": false, "error_code": …, "description": …, "parameters": {…}}`` as
Telegram does. It keeps a record of every message sent, enforces Telegram's
published limits (about 30 messages/s per bot, 1/s per chat) with the real
429 shape, and can be told to add latency, fail a share of calls with 5xx, or
behave as if a user blocked the bot.

Run alone: ``python -m sandbox.telegram --port 8081``.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.server import BackgroundServer

# Fields Telegram takes as JSON-serialised objects inside a form.
_JSON_FIELDS = {"reply_markup", "reply_parameters", "link_preview_options", "entities", "allowed_updates", "commands"}


@dataclass
class TelegramLimits:
    per_bot_per_second: float | None = 30.0  # None: unlimited (benchmarks of the engine itself)
    per_chat_interval: float | None = 1.0


@dataclass
class TelegramFaults:
    latency_seconds: float = 0.0
    server_error_share: float = 0.0  # 0..1 of calls answered 502
    blocked_chats: set[int] = field(default_factory=set)


@dataclass
class SentRecord:
    chat_id: int
    message_id: int
    text: str
    params: dict[str, Any]
    at: float


class TelegramStandIn:
    def __init__(
        self, token: str = "123456:TEST", *, limits: TelegramLimits | None = None, faults: TelegramFaults | None = None, seed: int = 0
    ) -> None:
        self.token = token
        self.limits = limits or TelegramLimits()
        self.faults = faults or TelegramFaults()
        self.sent: list[SentRecord] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.rate_limited = 0
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._recent: deque[float] = deque()
        self._last_to_chat: dict[int, float] = {}
        self._message_ids: dict[int, int] = defaultdict(int)
        self.app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._dispatch, methods=["GET", "POST"]),
                Route("/_sandbox/stats", self._stats),  # for benchmarks and tests in another process
            ]
        )
        self._server = BackgroundServer(self.app, "Telegram stand-in")

    # --- running ---------------------------------------------------------------------

    def start(self) -> TelegramStandIn:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> TelegramStandIn:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return self._server.base_url

    # --- what tests read -----------------------------------------------------------------

    def texts_to(self, chat_id: int) -> list[str]:
        with self._lock:
            return [s.text for s in self.sent if s.chat_id == chat_id]

    def sent_count(self) -> int:
        with self._lock:
            return len(self.sent)

    # --- the HTTP door ---------------------------------------------------------------------

    async def _dispatch(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        params = await _params(request)
        method = request.path_params["method"]
        if self.faults.latency_seconds:
            await asyncio.sleep(self.faults.latency_seconds)
        with self._lock:
            self.calls.append((method, params))
            if self.faults.server_error_share and self._rng.random() < self.faults.server_error_share:
                return _error(502, "Bad Gateway")
        handler = _METHODS.get(method.lower())
        if handler is None:
            return _error(404, "Not Found: method not found")
        return handler(self, params)

    async def _stats(self, request: Request) -> JSONResponse:
        with self._lock:
            per_chat: dict[int, int] = defaultdict(int)
            for record in self.sent:
                per_chat[record.chat_id] += 1
            first = self.sent[0].at if self.sent else None
            last = self.sent[-1].at if self.sent else None
            return JSONResponse(
                {
                    "sent": len(self.sent),
                    "rate_limited": self.rate_limited,
                    "chats": len(per_chat),
                    "duplicates": sum(n - 1 for n in per_chat.values() if n > 1),
                    "first_at": first,
                    "last_at": last,
                }
            )

    def _get_me(self, params: dict[str, Any]) -> JSONResponse:
        return _ok(self._bot_user())

    def _send_message(self, params: dict[str, Any]) -> JSONResponse:
        try:
            chat_id = int(params["chat_id"])
            text = str(params["text"])
        except (KeyError, ValueError):
            return _error(400, "Bad Request: chat_id and text are required")
        if not 1 <= len(text) <= 4096:
            return _error(400, "Bad Request: message text is empty" if not text else "Bad Request: message is too long")
        now = time.monotonic()
        with self._lock:
            if chat_id in self.faults.blocked_chats:
                return _error(403, "Forbidden: bot was blocked by the user")
            throttled = self._throttle(chat_id, now)
            if throttled:
                self.rate_limited += 1
                return _error(429, f"Too Many Requests: retry after {throttled}", retry_after=throttled)
            self._message_ids[chat_id] += 1
            message_id = self._message_ids[chat_id]
            self.sent.append(SentRecord(chat_id, message_id, text, params, now))
        return _ok(
            {
                "message_id": message_id,
                "from": self._bot_user(),
                "chat": {"id": chat_id, "type": "private", "first_name": "Resident"},
                "date": int(time.time()),
                "text": text,
            }
        )

    def _throttle(self, chat_id: int, now: float) -> int:
        """Seconds to wait (Telegram says whole seconds) if this send breaks a limit, else 0."""
        per_second = self.limits.per_bot_per_second
        if per_second is not None:
            while self._recent and self._recent[0] <= now - 1.0:
                self._recent.popleft()
            if len(self._recent) >= per_second:
                return 1
        interval = self.limits.per_chat_interval
        if interval is not None and now - self._last_to_chat.get(chat_id, -1e9) < interval:
            return max(1, round(interval))
        if per_second is not None:
            self._recent.append(now)
        self._last_to_chat[chat_id] = now
        return 0

    def _bot_user(self) -> dict[str, Any]:
        return {"id": int(self.token.split(":")[0]), "is_bot": True, "first_name": "Lookout", "username": "lookout_sandbox_bot"}


_METHODS = {"getme": TelegramStandIn._get_me, "sendmessage": TelegramStandIn._send_message}


async def _params(request: Request) -> dict[str, Any]:
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    if "json" in content_type:
        try:
            data = json.loads(body or b"{}")
        except json.JSONDecodeError:
            return {}
        return data if isinstance(data, dict) else {}
    params: dict[str, Any] = dict(parse_qsl(body.decode("utf-8", "replace"))) if body else {}
    params.update(request.query_params)
    for name in _JSON_FIELDS & params.keys():
        try:
            params[name] = json.loads(params[name])
        except (json.JSONDecodeError, TypeError):
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
    args = parser.parse_args()
    import uvicorn

    stand_in = TelegramStandIn(
        args.token, limits=TelegramLimits(args.rate or None, args.per_chat or None)
    )
    uvicorn.run(stand_in.app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
