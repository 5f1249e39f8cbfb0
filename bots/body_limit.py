"""A ceiling on every request body, enforced before a byte of it is buffered.

One ASGI middleware in front of every route: a declared ``Content-Length`` over
the route's limit is refused (413) without reading the body; a streamed
(chunked) body is refused the moment it passes the limit. So no request, signed
or not, can make a process hold more than its route's limit: the doors check
signatures only after reading, and an unauthenticated 300 MB POST once took a
serve process from 305 MB to 876 MB.

Each door names its own limit (``limit_body``); every other route gets
``DEFAULT_LIMIT`` (the pages' forms are a few KB).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_LIMIT = 64 * 1024  # forms and anything not named: the longest form (a tip) is a few KB


class BodyTooLarge(Exception):
    """Raised from ``receive`` when the body passes its limit (caught by the middleware, never by a route)."""


def limit_body(app: FastAPI, path: str, limit: int) -> None:
    """Let requests to ``path`` carry up to ``limit`` bytes (a webhook's own ceiling)."""
    app.state.body_limits = {**getattr(app.state, "body_limits", {}), path: limit}


def add_body_limit(app: FastAPI) -> None:
    """Put the ceiling in front of every route of ``app`` (limits named later with ``limit_body`` apply too)."""
    app.add_middleware(BodyLimit, limits=lambda path: getattr(app.state, "body_limits", {}).get(path, DEFAULT_LIMIT))


class BodyLimit:
    def __init__(self, app: ASGIApp, limits: Callable[[str], int]) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(send, limit)  # refused before reading a byte of it
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:
            if not started:
                await _too_large(send, limit)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({"ok": False, "error": f"request body over {limit} bytes"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
