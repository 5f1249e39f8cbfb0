"""A local Twilio Programmable Messaging: the Messages resource, its errors, and signed webhooks towards the app.

``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` takes Twilio's form
(``To``, ``From`` or ``MessagingServiceSid``, ``Body``, ``StatusCallback``) with
HTTP Basic auth and answers as Twilio does: ``201`` and the message resource
(``sid``, ``status: queued``, ``num_segments``), or ``{code, message,
more_info, status}``: 20003 (authentication), 21602 (no body), 21617 (body over
1,600), 21211 (not a phone number), 21614 (not a mobile: the numbers in
``landlines``), 21610 (the recipient texted STOP: until START), 20429 (over the
request rate, when ``max_per_second`` is set). Then it posts the status callbacks,
signed: ``sent``, and ``delivered``, or ``undelivered`` with 30003/30005/30006
for numbers listed in ``unreachable``.

Simulated phones send inbound texts (and MMS pictures, served back with Basic
auth) to the app's webhook, signed with ``X-Twilio-Signature`` exactly as
Twilio signs them; STOP, START and their synonyms update the opted-out list.

    with SmsStandIn(ACCOUNT_SID, AUTH_TOKEN, webhook_url=".../sms/webhook") as sms:
        phone = sms.phone("+447700900123")
        await phone.texts("hello")              # signed form POST to the app
        sms.texts_to("+447700900123")           # what the app sent back
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import secrets
import threading
import time
from dataclasses import dataclass, field

import httpx
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from sandbox.server import BackgroundServer, ServedStandIn

MORE_INFO = "https://www.twilio.com/docs/errors/"
OPT_OUT = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit"})
OPT_IN = frozenset({"start", "unstop", "yes"})
MAX_BODY = 1600
# GSM 03.38, counted here on its own (not with the product's code) so the stand-in checks what the app says.
_GSM = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXT = set("^{}\\[~]|€\f")


def num_segments(body: str) -> int:
    """Twilio's ``num_segments``: 160/153 GSM-7 septets (extension characters two), else 70/67 UTF-16 units."""
    if all(ch in _GSM or ch in _GSM_EXT for ch in body):
        widths, single, part = [2 if ch in _GSM_EXT else 1 for ch in body], 160, 153
    else:
        widths, single, part = [len(ch.encode("utf-16-le")) // 2 for ch in body], 70, 67
    if sum(widths) <= single:
        return 1
    count, used = 1, 0
    for width in widths:
        if used + width > part:
            count, used = count + 1, 0
        used += width
    return count


@dataclass
class SentText:
    sid: str
    to: str
    body: str
    num_segments: int
    status: str = "queued"
    error_code: int | None = None
    at: float = field(default_factory=time.time)


@dataclass
class WebhookCall:
    status_code: int
    response_text: str
    form: dict[str, str] = field(default_factory=dict)


def _sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


class SmsStandIn(ServedStandIn):
    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        webhook_url: str | None = None,
        number: str = "+447700900000",
        max_per_second: float | None = None,
        report_after: float = 0.2,
        port: int = 0,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.webhook_url = webhook_url
        self.number = number
        self.max_per_second = max_per_second
        # Carriers report seconds later, never before the sender has Twilio's answer in hand: so here too.
        self.report_after = report_after
        self.landlines: set[str] = set()
        self.unreachable: dict[str, int] = {}  # number → 30003, 30005 or 30006, reported undelivered
        self.opted_out: set[str] = set()
        self.sent: list[SentText] = []
        self.rejected: list[tuple[str, int]] = []
        self.media: dict[str, tuple[bytes, str]] = {}
        self._lock = threading.Lock()
        self._window: list[float] = []
        self._validator = RequestValidator(auth_token)
        base = f"/2010-04-01/Accounts/{account_sid}"
        self.app = Starlette(
            routes=[
                Route(f"{base}/Messages.json", self._create_message, methods=["POST"]),
                Route(f"{base}/Messages/{{message}}/Media/{{media}}", self._get_media, methods=["GET"]),
                Route("/_sandbox/stats", self._stats),  # for benchmarks in another process
            ]
        )
        self._server = BackgroundServer(self.app, "SMS stand-in", port)

    @property
    def api_base(self) -> str:
        """``SMS_API_BASE``: the part before ``/2010-04-01``."""
        return self.base_url

    # --- inspection -----------------------------------------------------------------------------

    def sent_to(self, number: str) -> list[SentText]:
        with self._lock:
            return [t for t in self.sent if t.to == number]

    def texts_to(self, number: str) -> list[str]:
        return [t.body for t in self.sent_to(number)]

    def phone(self, number: str) -> SimulatedPhone:
        return SimulatedPhone(self, number)

    async def _stats(self, request: Request) -> JSONResponse:
        with self._lock:
            sent = list(self.sent)
            rejected = len(self.rejected)
        return JSONResponse(
            {
                "sent": len(sent),
                "segments": sum(t.num_segments for t in sent),
                "rejected": rejected,
                "first_at": sent[0].at if sent else None,
                "last_at": sent[-1].at if sent else None,
            }
        )

    # --- the Messages resource --------------------------------------------------------------------

    def _authorized(self, request: Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return secrets.compare_digest(request.headers.get("authorization", ""), f"Basic {expected}")

    @staticmethod
    def _error(http_status: int, code: int, message: str) -> JSONResponse:
        return JSONResponse(
            {"code": code, "message": message, "more_info": f"{MORE_INFO}{code}", "status": http_status},
            status_code=http_status,
        )

    def _over_rate(self) -> bool:
        if self.max_per_second is None:
            return False
        now = time.monotonic()
        with self._lock:
            self._window = [t for t in self._window if now - t < 1.0]
            if len(self._window) >= self.max_per_second:
                return True
            self._window.append(now)
        return False

    async def _create_message(self, request: Request) -> Response:
        if not self._authorized(request):
            return self._error(401, 20003, "Authenticate")
        form = {k: str(v) for k, v in (await request.form()).items()}
        to, body = form.get("To", ""), form.get("Body", "")
        if not (form.get("From") or form.get("MessagingServiceSid")):
            return self._error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message")
        failure = None
        if self._over_rate():
            failure = (429, 20429, "Too Many Requests")
        elif not body:
            failure = (400, 21602, "Message body is required.")
        elif len(body) > MAX_BODY:
            failure = (400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        elif not (to.startswith("+") and to[1:].isdigit() and 7 <= len(to) <= 16):
            failure = (400, 21211, f"The 'To' number {to} is not a valid phone number.")
        elif to in self.landlines:
            failure = (400, 21614, f"'To' number {to} is not a valid mobile number")
        elif to in self.opted_out:
            failure = (400, 21610, "Attempt to send to unsubscribed recipient")
        if failure is not None:
            with self._lock:
                self.rejected.append((to, failure[1]))
            return self._error(*failure)
        text = SentText(_sid("SM"), to, body, num_segments(body))
        with self._lock:
            self.sent.append(text)
        resource = {
            "sid": text.sid,
            "account_sid": self.account_sid,
            "to": to,
            "from": form.get("From") or self.number,
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "body": body,
            "status": "queued",
            "num_segments": str(text.num_segments),
            "num_media": "0",
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{text.sid}.json",
        }
        callback = form.get("StatusCallback")
        task = BackgroundTask(self._report, text, callback) if callback else None
        return JSONResponse(resource, status_code=201, background=task)

    async def _report(self, text: SentText, callback: str) -> None:
        await asyncio.sleep(self.report_after)
        code = self.unreachable.get(text.to)
        steps = [("sent", None), ("undelivered", code)] if code else [("sent", None), ("delivered", None)]
        for status, error in steps:
            text.status, text.error_code = status, error
            form = {
                "MessageSid": text.sid,
                "SmsSid": text.sid,
                "AccountSid": self.account_sid,
                "From": self.number,
                "To": text.to,
                "MessageStatus": status,
                "SmsStatus": status,
            }
            if error:
                form["ErrorCode"] = str(error)
            try:
                await self.post_signed(callback, form)
            except httpx.HTTPError:  # the app is down: Twilio gives up on a status callback too, and says so in its log
                return

    async def _get_media(self, request: Request) -> Response:
        if not self._authorized(request):
            return self._error(401, 20003, "Authenticate")
        found = self.media.get(request.path_params["media"])
        if found is None:
            return self._error(404, 20404, "The requested resource was not found")
        return Response(found[0], media_type=found[1])

    # --- webhooks towards the app ----------------------------------------------------------------

    def sign(self, url: str, form: dict[str, str]) -> str:
        return self._validator.compute_signature(url, form)

    async def post_signed(self, url: str, form: dict[str, str], *, signature: str | None = None) -> WebhookCall:
        headers = {"X-Twilio-Signature": signature if signature is not None else self.sign(url, form)}
        async with httpx.AsyncClient(timeout=30) as client:
            response = await client.post(url, data=form, headers=headers)
        return WebhookCall(response.status_code, response.text, form)

    def add_media(self, message_sid: str, content: bytes, content_type: str) -> str:
        media_sid = _sid("ME")
        self.media[media_sid] = (content, content_type)
        return f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Messages/{message_sid}/Media/{media_sid}"


class SimulatedPhone:
    """A resident's phone: what they text reaches the app as Twilio would post it."""

    def __init__(self, stand_in: SmsStandIn, number: str) -> None:
        self.stand_in = stand_in
        self.number = number

    def inbound_form(
        self, body: str, *, pictures: tuple[tuple[bytes, str], ...] = (), sid: str | None = None
    ) -> dict[str, str]:
        sms = self.stand_in
        message_sid = sid or _sid("MM" if pictures else "SM")
        form = {
            "MessageSid": message_sid,
            "SmsMessageSid": message_sid,
            "SmsSid": message_sid,
            "AccountSid": sms.account_sid,
            "From": self.number,
            "To": sms.number,
            "Body": body,
            "NumSegments": str(num_segments(body)),
            "NumMedia": str(len(pictures)),
            "ApiVersion": "2010-04-01",
            "FromCountry": "GB",
            "ToCountry": "GB",
        }
        for index, (content, content_type) in enumerate(pictures):
            form[f"MediaUrl{index}"] = sms.add_media(message_sid, content, content_type)
            form[f"MediaContentType{index}"] = content_type
        return form

    async def texts(self, body: str, *, pictures: tuple[tuple[bytes, str], ...] = ()) -> WebhookCall:
        sms = self.stand_in
        word = body.strip().casefold()
        # The provider keeps its own opted-out list, whatever the app does with the keyword.
        if word in OPT_OUT:
            sms.opted_out.add(self.number)
        elif word in OPT_IN:
            sms.opted_out.discard(self.number)
        if sms.webhook_url is None:
            raise RuntimeError("the SMS stand-in has no webhook URL for the app")
        return await sms.post_signed(sms.webhook_url, self.inbound_form(body, pictures=pictures))

    def received(self) -> list[str]:
        return self.stand_in.texts_to(self.number)


def main() -> None:
    parser = argparse.ArgumentParser(description="A local Twilio Programmable Messaging stand-in.")
    parser.add_argument("--port", type=int, default=8084)
    parser.add_argument("--account", default="AC" + "0" * 32)
    parser.add_argument("--token", default="sandbox-sms-auth-token")
    parser.add_argument("--rate", type=float, default=0, help="API requests/s before 20429; 0 = unlimited")
    args = parser.parse_args()
    import uvicorn

    stand_in = SmsStandIn(args.account, args.token, max_per_second=args.rate or None)
    uvicorn.run(stand_in.app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
