"""A thin client for the parts of the WhatsApp Cloud API Lookout uses: messages and media.

httpx rather than pywa: pywa fixes the Graph host (``https://graph.facebook.com``)
inside its client, so it cannot be pointed at ``WHATSAPP_API_BASE`` (the
sandbox in tests and the demo) without rewriting requests in a custom
transport, and Lookout needs only three endpoints. Errors come back as
``GraphError`` with Meta's code, so callers decide what each one means.

httpx sends through aiohttp's connection pool (``httpx_aiohttp``, by httpx's
maintainer): with a broadcast's hundreds of sends in flight, httpx's own pool
(httpcore) spent 2–7 ms of CPU per request against 0.7 ms through aiohttp's, and
the delivery worker spent more time in its HTTP client than anywhere else
(docs/delivery-performance.md).
"""

from __future__ import annotations

from typing import Any

import httpx
from httpx_aiohttp import AiohttpTransport

REQUEST_TIMEOUT_S = 15.0
# A broadcast keeps hundreds of sends in flight; every connection the pool opens stays open for the
# next send (httpx's default keeps only 20 alive, so most sends paid a new connection and its teardown).
CONNECTIONS = 256
MAX_MEDIA_BYTES = 16 * 1024 * 1024  # Meta's largest media (video); photos are at most 5 MB

# Meta's error codes Lookout treats specially (developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes).
INVALID_PARAMETER = 100
ACCESS_TOKEN = 190
THROUGHPUT = 130429  # too many messages from this number in a short time
UNKNOWN_ERROR = 131000
UNDELIVERABLE = 131026  # the number is not on WhatsApp, or cannot receive this
WINDOW_CLOSED = 131047  # more than 24 hours since the user last wrote: only a template may go
# "Spam rate limit hit": a cap on how many people this number may message. Meta documents no code of its own
# for the portfolio's messaging limit (people per rolling 24 hours); this is the one it answers, see docs/platforms.md.
SPAM_RATE = 131048
PAIR_RATE = 131056  # too many messages to this one user in a short time
TRANSIENT_CODES = frozenset({ACCESS_TOKEN, THROUGHPUT, UNKNOWN_ERROR, SPAM_RATE, PAIR_RATE})


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
    def __init__(
        self,
        token: str,
        phone_number_id: str,
        api_base: str,
        *,
        timeout: float = REQUEST_TIMEOUT_S,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.phone_number_id = phone_number_id
        self._client = httpx.AsyncClient(
            base_url=api_base.rstrip("/") + "/",
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
            transport=transport
            or AiohttpTransport(
                limits=httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
            ),
        )

    async def send(self, to: str, message: dict[str, Any]) -> str:
        """Send one message object (``{"type": "text", "text": {...}}`` …) to ``to``; returns its wamid."""
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, **message}
        answer = _graph_json(await self._client.post(f"{self.phone_number_id}/messages", json=body))
        try:
            return str(answer["messages"][0]["id"])
        except (KeyError, IndexError, TypeError):
            raise GraphError(502, None, "the answer named no message id") from None

    async def upload(self, data: bytes, mime_type: str, filename: str) -> str:
        """Upload a file for sending; returns its media id."""
        files: dict[str, tuple[str | None, bytes | str] | tuple[str | None, bytes | str, str | None]] = {
            "file": (filename, data, mime_type),
            "messaging_product": (None, "whatsapp"),
            "type": (None, mime_type),
        }
        answer = _graph_json(await self._client.post(f"{self.phone_number_id}/media", files=files))
        return str(answer["id"])

    async def download(self, media_id: str) -> tuple[bytes, str]:
        """A user's photo (or other media) by its id: the bytes and their MIME type."""
        info = _graph_json(await self._client.get(media_id))
        url, mime_type = info.get("url"), str(info.get("mime_type") or "application/octet-stream")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise GraphError(502, None, f"media {media_id} has no download URL")
        if int(info.get("file_size") or 0) > MAX_MEDIA_BYTES:
            raise GraphError(413, None, f"media {media_id} is too large to fetch")
        # Meta's media URLs need the same bearer token as the API itself.
        response = await self._client.get(url)
        if response.status_code >= 400:
            raise GraphError(response.status_code, None, f"downloading media {media_id} failed")
        return response.content, mime_type

    async def aclose(self) -> None:
        await self._client.aclose()


def _graph_json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.status_code >= 400 or not isinstance(data, dict):
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict):
            error_data = error.get("error_data")
            details = error_data.get("details") if isinstance(error_data, dict) else None
            code = error.get("code")
            raise GraphError(
                response.status_code,
                code if isinstance(code, int) else None,
                str(error.get("message") or "error"),
                details,
            )
        raise GraphError(
            response.status_code if response.status_code >= 400 else 502, None, response.text[:200] or "no answer"
        )
    return data
