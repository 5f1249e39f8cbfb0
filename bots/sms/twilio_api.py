"""A thin client for the part of Twilio's REST API Lookout uses: sending a message, fetching a resident's picture.

httpx rather than the ``twilio`` library's client: that client builds every URL
from Twilio's own host names (``https://api.twilio.com``, rewritten for edges
and regions), so it cannot be pointed at ``SMS_API_BASE`` (the sandbox in the
tests and the demo) without replacing an undocumented attribute; Lookout needs
one endpoint and media downloads. The ``twilio`` library is used for what it
is for here: checking webhook signatures (``bots/sms/signature.py``).
httpx sends through aiohttp's pool, as the WhatsApp client does, for the same
reason (docs/delivery-performance.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from httpx_aiohttp import AiohttpTransport

REQUEST_TIMEOUT_S = 15.0
CONNECTIONS = 128
MAX_MEDIA_BYTES = 5 * 1024 * 1024  # Twilio's largest inbound MMS picture

# Twilio's error codes Lookout treats specially (docs/platforms.md).
TOO_MANY_REQUESTS = 20429
UNSUBSCRIBED = 21610  # the recipient replied STOP: nothing more may go until they send START
INVALID_NUMBER = 21211
NOT_MOBILE = 21614
UNREACHABLE = 30003
UNKNOWN_DESTINATION = 30005
LANDLINE = 30006
# The number cannot take our texts, for good: the resident is made inactive.
GONE_CODES = frozenset({UNSUBSCRIBED, INVALID_NUMBER, NOT_MOBILE, LANDLINE})
# The handset is off or out of reach: worth the delivery engine's retries, then dead with the reason.
UNREACHABLE_CODES = frozenset({UNREACHABLE, UNKNOWN_DESTINATION})


class TwilioError(Exception):
    """A refusal: the HTTP status, Twilio's code (None if the answer was not Twilio's), and its message."""

    def __init__(self, http_status: int, code: int | None, message: str) -> None:
        self.http_status = http_status
        self.code = code
        self.message = message
        super().__init__(self.describe())

    def describe(self) -> str:
        return f"SMS {self.code or self.http_status}: {self.message}"

    @property
    def transient(self) -> bool:
        """Worth trying again: Twilio's server errors and its request limit, not a refusal of this message."""
        return self.http_status >= 500 or self.http_status == 429 or self.code == TOO_MANY_REQUESTS


@dataclass(frozen=True)
class SentSms:
    sid: str
    segments: int | None


@dataclass(frozen=True)
class Sender:
    """Who the texts come from: a number or an alphanumeric name (``From``), or a messaging service's SID."""

    from_: str | None = None
    messaging_service_sid: str | None = None

    def fields(self) -> dict[str, str]:
        if self.messaging_service_sid:
            return {"MessagingServiceSid": self.messaging_service_sid}
        if self.from_:
            return {"From": self.from_}
        raise ValueError("an SMS sender needs SMS_FROM or SMS_MESSAGING_SERVICE_SID")


class TwilioApi:
    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        api_base: str,
        sender: Sender,
        *,
        status_callback: str | None = None,
        timeout: float = REQUEST_TIMEOUT_S,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.account_sid = account_sid
        self.api_base = api_base.rstrip("/")
        self._sender = sender
        self._status_callback = status_callback
        self._client = httpx.AsyncClient(
            auth=(account_sid, auth_token),
            timeout=timeout,
            transport=transport
            or AiohttpTransport(
                limits=httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
            ),
        )

    @property
    def messages_url(self) -> str:
        return f"{self.api_base}/2010-04-01/Accounts/{self.account_sid}/Messages.json"

    async def send(self, to: str, body: str) -> SentSms:
        """One text to ``to`` (E.164); Twilio splits it into segments and says how many."""
        form = {"To": to, "Body": body, **self._sender.fields()}
        if self._status_callback:
            form["StatusCallback"] = self._status_callback
        answer = _twilio_json(await self._client.post(self.messages_url, data=form))
        sid = answer.get("sid")
        if not isinstance(sid, str) or not sid:
            raise TwilioError(502, None, "the answer named no message sid")
        segments = answer.get("num_segments")
        return SentSms(sid, int(segments) if isinstance(segments, str | int) and str(segments).isdigit() else None)

    def owns(self, url: str) -> bool:
        """Whether ``url`` is on the provider's API (only there do our credentials go with a download)."""
        return url.startswith(f"{self.api_base}/2010-04-01/Accounts/{self.account_sid}/")

    async def download(self, url: str) -> tuple[bytes, str]:
        """A picture a resident sent (``MediaUrl0``…): its bytes and MIME type, fetched with the account's credentials."""
        if not self.owns(url):
            raise TwilioError(400, None, "a media URL outside the provider's API is never fetched")
        async with self._client.stream("GET", url, follow_redirects=True) as response:
            if response.status_code >= 400:
                raise TwilioError(response.status_code, None, "downloading a picture failed")
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data.extend(chunk)
                if len(data) > MAX_MEDIA_BYTES:
                    raise TwilioError(413, None, "the picture is too large to fetch")
            return bytes(data), response.headers.get("content-type", "application/octet-stream").split(";")[0]

    async def aclose(self) -> None:
        await self._client.aclose()


def _twilio_json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.status_code >= 400 or not isinstance(data, dict):
        status = response.status_code if response.status_code >= 400 else 502
        if isinstance(data, dict):
            code = data.get("code")
            raise TwilioError(status, code if isinstance(code, int) else None, str(data.get("message") or "error"))
        raise TwilioError(status, None, response.text[:200] or "no answer")
    return data
