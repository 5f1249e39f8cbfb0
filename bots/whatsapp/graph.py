"""A thin client for the parts of the WhatsApp Cloud API Lookout uses: messages and media.

Not pywa: pywa fixes the Graph host (``https://graph.facebook.com``) inside
its client, so it cannot be pointed at ``WHATSAPP_API_BASE`` (the sandbox in
tests and the demo) without rewriting requests in a custom transport, and
Lookout needs only three endpoints. Errors come back as ``GraphError`` with
Meta's code, so callers decide what each one means; a network failure is a
``NETWORK_ERRORS`` exception.

aiohttp rather than httpx: at a broadcast's hundreds of sends in flight, httpx
(httpcore) spent about 2.5 ms of CPU per message in its connection pool, over
ten times aiohttp's ~0.2 ms on the same two-core machine: the delivery worker
spent more time in its HTTP client than anywhere else (``lookout bench reach``).
"""
from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

REQUEST_TIMEOUT_S = 15.0
MAX_MEDIA_BYTES = 16 * 1024 * 1024  # Meta's largest media (video); photos are at most 5 MB

# Meta's error codes Lookout treats specially (developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes).
INVALID_PARAMETER = 100
ACCESS_TOKEN = 190
THROUGHPUT = 130429  # too many messages from this number in a short time
UNKNOWN_ERROR = 131000
UNDELIVERABLE = 131026  # the number is not on WhatsApp, or cannot receive this
WINDOW_CLOSED = 131047  # more than 24 hours since the user last wrote: only a template may go
SPAM_RATE = 131048
PAIR_RATE = 131056  # too many messages to this one user in a short time
TRANSIENT_CODES = frozenset({ACCESS_TOKEN, THROUGHPUT, UNKNOWN_ERROR, SPAM_RATE, PAIR_RATE})
# Connections kept open to the Graph API: enough for every send the worker has in flight at 1,000 messages/s.
MAX_CONNECTIONS = 256
# What a call raises when it never got Meta's answer (refused connection, reset, timeout): worth trying again.
NETWORK_ERRORS: tuple[type[BaseException], ...] = (aiohttp.ClientError, asyncio.TimeoutError)


class GraphError(Exception):
    """A Graph API refusal: the HTTP status, Meta's code (None if the answer was not Graph's), and why."""

    def __init__(self, http_status: int, code: int | None, message: str, details: str | None = None) -> None:
        self.http_status = http_status
        self.code = code
        self.message = message
        self.details = details
        super().__init__(self.describe())

    def describe(self) -> str:
        said = f"{self.message}: {self.details}" if self.details else self.message
        return f"WhatsApp {self.code or self.http_status}: {said}"

    @property
    def transient(self) -> bool:
        """Worth trying again later: Meta's server errors and limits, not a refusal of this message."""
        return self.http_status >= 500 or self.code in TRANSIENT_CODES


class CloudApi:
    def __init__(self, token: str, phone_number_id: str, api_base: str, *, timeout: float = REQUEST_TIMEOUT_S) -> None:
        self.phone_number_id = phone_number_id
        self._base = api_base.rstrip("/") + "/"
        self._headers = {"Authorization": f"Bearer {token}"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        # Made on first use, inside the event loop that sends (the composition root builds this before the loop runs).
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers=self._headers, timeout=self._timeout, connector=aiohttp.TCPConnector(limit=MAX_CONNECTIONS)
            )
        return self._session

    async def send(self, to: str, message: dict[str, Any]) -> str:
        """Send one message object (``{"type": "text", "text": {...}}`` …) to ``to``; returns its wamid."""
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, **message}
        async with self._client().post(f"{self._base}{self.phone_number_id}/messages", json=body) as response:
            answer = _graph_json(response.status, await response.read())
        try:
            return str(answer["messages"][0]["id"])
        except (KeyError, IndexError, TypeError):
            raise GraphError(502, None, "the answer named no message id") from None

    async def upload(self, data: bytes, mime_type: str, filename: str) -> str:
        """Upload a file for sending; returns its media id."""
        form = aiohttp.FormData()
        form.add_field("file", data, filename=filename, content_type=mime_type)
        form.add_field("messaging_product", "whatsapp")
        form.add_field("type", mime_type)
        async with self._client().post(f"{self._base}{self.phone_number_id}/media", data=form) as response:
            answer = _graph_json(response.status, await response.read())
        return str(answer["id"])

    async def download(self, media_id: str) -> tuple[bytes, str]:
        """A user's photo (or other media) by its id: the bytes and their MIME type."""
        async with self._client().get(f"{self._base}{media_id}") as response:
            info = _graph_json(response.status, await response.read())
        url, mime_type = info.get("url"), str(info.get("mime_type") or "application/octet-stream")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise GraphError(502, None, f"media {media_id} has no download URL")
        if int(info.get("file_size") or 0) > MAX_MEDIA_BYTES:
            raise GraphError(413, None, f"media {media_id} is too large to fetch")
        # Meta's media URLs need the same bearer token as the API itself.
        async with self._client().get(url) as response:
            if response.status >= 400:
                raise GraphError(response.status, None, f"downloading media {media_id} failed")
            return await response.read(), mime_type

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


def _graph_json(status: int, body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if status >= 400 or not isinstance(data, dict):
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict):
            error_data = error.get("error_data")
            details = error_data.get("details") if isinstance(error_data, dict) else None
            code = error.get("code")
            raise GraphError(status, code if isinstance(code, int) else None, str(error.get("message") or "error"), details)
        raise GraphError(status if status >= 400 else 502, None, body[:200].decode("utf-8", "replace") or "no answer")
    return data
