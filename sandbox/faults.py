"""Faults on the wire for any stand-in: added latency, connection resets and bursts of 5xx, switchable while it runs.

``FaultInjector`` wraps a stand-in's ASGI app. Before a call reaches the
stand-in it may be delayed, have its connection reset (closed with a TCP RST,
nothing answered, so the client cannot know whether anything happened — and
here nothing did), or be answered 500/502/503 with the HTML a failing front-end
proxy sends. The stand-in's own record never sees a call that was reset or
failed, so counting what it received counts what really got through.

A latency longer than the client's timeout is a timeout (the Nominatim
stand-in "timing out" is a latency of, say, 8 s against the geocoder's 5 s).

Sandbox only. Switched in code (``injector.set(latency_seconds=0.3)``) or over
HTTP on the stand-in itself, for stand-ins in another process::

    GET    <stand-in base>/_faults    the faults on now and how many were injected
    POST   <stand-in base>/_faults    JSON with any ``WireFaults`` fields to change
    DELETE <stand-in base>/_faults    no faults from now on (the counts stay)

``/_faults`` and ``/_sandbox/…`` (inspection) are never faulted.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import random
import socket
import struct
import threading
from collections import Counter
from collections.abc import MutableMapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

logger = logging.getLogger("sandbox.faults")

CONTROL_PATH = "/_faults"
_UNFAULTED_PREFIXES = (CONTROL_PATH, "/_sandbox")
_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
# The connection of the request being handled, found by the outermost injector: a stand-in
# mounted inside another app (the one-port sandbox) sees only wrapped ``send`` callables.
_CONNECTION: contextvars.ContextVar[Any] = contextvars.ContextVar("sandbox_fault_connection", default=None)


@dataclass(frozen=True)
class WireFaults:
    """What to do to the calls a stand-in receives. Shares are of calls, 0..1; ``*_next`` take the next N calls."""

    latency_seconds: float = 0.0
    reset_share: float = 0.0
    resets_next: int = 0
    error_share: float = 0.0
    errors_next: int = 0
    error_statuses: tuple[int, ...] = (500, 502, 503)  # taken in turn

    def __post_init__(self) -> None:
        if not 0.0 <= self.latency_seconds <= 300:
            raise ValueError("latency_seconds must be between 0 and 300")
        for share in (self.reset_share, self.error_share):
            if not 0.0 <= share <= 1.0:
                raise ValueError("shares must be between 0 and 1")
        if self.resets_next < 0 or self.errors_next < 0:
            raise ValueError("resets_next and errors_next must not be negative")
        if not self.error_statuses or any(not 500 <= s <= 599 for s in self.error_statuses):
            raise ValueError("error_statuses must be 5xx codes")

    @property
    def on(self) -> bool:
        return bool(
            self.latency_seconds or self.reset_share or self.resets_next or self.error_share or self.errors_next
        )


class FaultInjector:
    """An ASGI app: ``app`` behind the faults in ``faults`` (none by default)."""

    def __init__(self, app: Any, faults: WireFaults | None = None, *, seed: int = 0) -> None:
        self.app = app
        self._faults = faults or WireFaults()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()  # set from test threads, read on the server's loop
        self._injected: Counter[str] = Counter()
        self._next_status = 0

    # --- switching, and what was done --------------------------------------------------

    @property
    def faults(self) -> WireFaults:
        with self._lock:
            return self._faults

    def set(self, **changes: Any) -> WireFaults:
        """Change some faults, keep the rest (``set(latency_seconds=0.5)``); raises ValueError on a bad value."""
        known = {f.name for f in fields(WireFaults)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(unknown)}")
        if "error_statuses" in changes:
            changes["error_statuses"] = tuple(int(s) for s in changes["error_statuses"])
        with self._lock:
            self._faults = replace(self._faults, **changes)
            return self._faults

    def clear(self) -> None:
        with self._lock:
            self._faults = WireFaults()

    def injected(self) -> dict[str, int]:
        """How many calls were delayed, reset, and answered each 5xx status, since the start."""
        with self._lock:
            return dict(self._injected)

    # --- the wire -------------------------------------------------------------------------

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        connection = _connection_of(send) or _CONNECTION.get()
        token = _CONNECTION.set(connection)
        try:
            path = _path_below_mount(scope)
            if path == CONTROL_PATH:
                await self._control(scope, receive, send)
            elif path.startswith(_UNFAULTED_PREFIXES):
                await self.app(scope, receive, send)
            else:
                await self._faulted(scope, receive, send, connection)
        finally:
            _CONNECTION.reset(token)

    async def _faulted(self, scope: MutableMapping[str, Any], receive: Any, send: Any, connection: Any) -> None:
        # Decided on arrival, so "the next N calls" are the next N to arrive, whatever the latency.
        action, status, latency = self._decide()
        if action == "reset" and connection is None:
            logger.warning(
                "cannot reach this call's connection to reset it (not served by uvicorn?); answering 502 instead"
            )
            action, status = "error", 502
        self._count("reset" if action == "reset" else str(status) if action == "error" else None, latency)
        if action == "reset":
            await _reset(connection)
            return
        if latency:
            await asyncio.sleep(latency)
        if action == "error":
            await _proxy_error(send, status)
            return
        await self.app(scope, receive, send)

    def _decide(self) -> tuple[str, int, float]:
        with self._lock:
            faults = self._faults
            if faults.resets_next or (faults.reset_share and self._rng.random() < faults.reset_share):
                if faults.resets_next:
                    self._faults = replace(faults, resets_next=faults.resets_next - 1)
                return "reset", 0, 0.0
            if faults.errors_next or (faults.error_share and self._rng.random() < faults.error_share):
                if faults.errors_next:
                    self._faults = replace(faults, errors_next=faults.errors_next - 1)
                status = faults.error_statuses[self._next_status % len(faults.error_statuses)]
                self._next_status += 1
                return "error", status, faults.latency_seconds
            return "pass", 0, faults.latency_seconds

    def _count(self, fault: str | None, latency: float) -> None:
        with self._lock:
            if fault is not None:
                self._injected[fault] += 1
            if latency and fault != "reset":
                self._injected["latency"] += 1

    async def _control(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        method = scope["method"]
        if method == "POST":
            try:
                changes = json.loads(await _body(receive) or b"{}")
                if not isinstance(changes, dict):
                    raise ValueError("send a JSON object of fault settings")
                self.set(**changes)
            except (ValueError, TypeError) as exc:
                await _json(send, 400, {"error": str(exc)})
                return
        elif method == "DELETE":
            self.clear()
        elif method != "GET":
            await _json(send, 405, {"error": "use GET, POST or DELETE"})
            return
        faults = asdict(self.faults)
        faults["error_statuses"] = list(faults["error_statuses"])
        await _json(send, 200, {"faults": faults, "injected": self.injected()})


def _connection_of(send: Any) -> Any:
    """The TCP connection behind uvicorn's own ``send`` (a bound method of its request cycle)."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    # Duck-typed: uvloop's transports are not asyncio.BaseTransport subclasses.
    return (
        transport
        if callable(getattr(transport, "abort", None)) and callable(getattr(transport, "get_extra_info", None))
        else None
    )


async def _reset(connection: Any) -> None:
    """Close the connection with a TCP RST and answer nothing, as a dropped proxy or a crashed peer does."""
    sock = connection.get_extra_info("socket")
    if sock is not None:
        # Linger on, zero seconds: close() sends RST instead of FIN, so the client sees "connection reset".
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.abort()
    # Let the server notice the connection is gone before this call returns, so it does
    # not try to answer "500: the app returned without a response" into a closed socket.
    for _ in range(3):
        await asyncio.sleep(0)


def _path_below_mount(scope: MutableMapping[str, Any]) -> str:
    path, root = scope.get("path", ""), scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


async def _body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _proxy_error(send: Any, status: int) -> None:
    reason = _REASONS.get(status, "Server Error")
    body = (
        f"<html><head><title>{status} {reason}</title></head><body><h1>{status} {reason}</h1></body></html>\n".encode()
    )
    await _answer(send, status, body, b"text/html")


async def _json(send: Any, status: int, content: dict[str, Any]) -> None:
    await _answer(send, status, json.dumps(content).encode(), b"application/json")


async def _answer(send: Any, status: int, body: bytes, content_type: bytes) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
