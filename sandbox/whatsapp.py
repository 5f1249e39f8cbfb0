"""A local WhatsApp Cloud API: the Graph endpoints Lookout calls, with Meta's answers and limits.

``POST /{version}/{phone-number-id}/messages`` takes the same JSON as Meta
(text, interactive button/list/location request, template, location, image,
replies via ``context.message_id``, and read receipts) and answers
``{"messaging_product": "whatsapp", "contacts": [...], "messages": [{"id": "wamid..."}]}``
or a Graph error ``{"error": {"message", "type", "code", "error_data", "fbtrace_id"}}``
with the HTTP status Meta uses. It enforces what Meta enforces and what
Lookout must cope with: the 24-hour customer-service window (131047),
throughput per number (130429, default 80/s), the pair rate to one user
(131056, about one message per 6 s), the business portfolio's messaging limit
(unique people reached outside their service window per rolling 24 hours,
answered 131048 when full; off unless set), unreachable users (131026), registered
templates only (132001, 132000, 132018), interactive limits (131009) and
malformed requests (100). Media can be uploaded, looked up and downloaded.

Simulated users (``sandbox.whatsapp_users``) send signed webhooks
(``X-Hub-Signature-256``, ``sandbox.whatsapp_webhooks``) to the app's callback
URL exactly as Meta does, and each inbound message opens that user's 24-hour
window; the stand-in's clock can be moved forward to age windows. Beside this
module: the checks of what the app sends (``sandbox.whatsapp_payloads``), Graph's
error answers (``sandbox.whatsapp_errors``) and the bookkeeping of Meta's limits
(``sandbox.whatsapp_limits``). This module holds the Graph routes themselves,
their records, and the inspection and control routes under ``/_sandbox``.

    with WhatsAppStandIn(callback_url="http://127.0.0.1:8000/whatsapp/webhook") as wa:
        alice = wa.user("447700900123", name="Alice")
        await alice.sends_text("hello")             # signed webhook to the app
        # the app calls f"{wa.api_base}/{wa.phone_number_id}/messages" ...
        wa.texts_to("447700900123")

Run alone: ``python -m sandbox.whatsapp --port 8083``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import random
import string
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.faults import FaultInjector
from sandbox.server import BackgroundServer, ServedStandIn, public_base_url
from sandbox.whatsapp_errors import GraphError, invalid, no_such_object, unauthorized, webhook_error
from sandbox.whatsapp_limits import LimitLedger, WhatsAppLimits
from sandbox.whatsapp_payloads import POLICE_ALERT, POLICE_ALERT_PHOTO, Template, recipient, validate_message
from sandbox.whatsapp_users import SimulatedUser, act_as_user
from sandbox.whatsapp_webhooks import WebhookDelivery, envelope, post_signed

# What a test or the console builds a stand-in with, or reads back from it. WhatsAppLimits and Template
# are the stand-in's settings, so they are offered here too; the rest lives in the modules named above.
__all__ = [
    "POLICE_ALERT",
    "POLICE_ALERT_PHOTO",
    "InboundMessage",
    "Media",
    "Rejection",
    "SentMessage",
    "Template",
    "WhatsAppFaults",
    "WhatsAppLimits",
    "WhatsAppStandIn",
]

_STATUSES = ("sent", "delivered", "read", "failed")


# --- configuration ------------------------------------------------------------------------


@dataclass
class WhatsAppFaults:
    latency_seconds: float = 0.0
    server_error_share: float = 0.0  # 0..1 of Graph calls answered 500 (131000)
    unreachable_users: set[str] = field(default_factory=set)  # wa_ids answered 131026
    # Meta often accepts a send (200 and a wamid) and reports 131047 / 131026 only later, in a
    # "failed" status webhook. On: the stand-in does the same instead of answering 400.
    asynchronous_failures: bool = False


# --- records -------------------------------------------------------------------------------


@dataclass
class SentMessage:
    id: str
    to: str  # wa_id
    type: str
    content: dict[str, Any]  # the type's object as the app sent it, e.g. {"body": "..."}
    text: str  # what the resident reads: body, interactive body, rendered template, caption
    reply_to: str | None
    request: dict[str, Any]
    at: float


@dataclass
class Rejection:
    to: str | None
    code: int
    http_status: int  # 200 when the failure was reported by webhook instead
    details: str | None
    request: dict[str, Any] | None
    at: float
    message_id: str | None = None


@dataclass
class InboundMessage:
    id: str
    wa_id: str
    type: str
    message: dict[str, Any]  # exactly the entry of ``messages[]`` that was delivered
    at: float


@dataclass
class Media:
    id: str
    content: bytes
    mime_type: str
    filename: str | None

    @property
    def sha256_hex(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def sha256_b64(self) -> str:
        return base64.b64encode(hashlib.sha256(self.content).digest()).decode()


# --- the stand-in --------------------------------------------------------------------------


class WhatsAppStandIn(ServedStandIn):
    def __init__(
        self,
        access_token: str = "sandbox-token",
        phone_number_id: str = "100000000000001",
        app_secret: str = "sandbox-app-secret",
        *,
        limits: WhatsAppLimits | None = None,
        faults: WhatsAppFaults | None = None,
        version: str = "v21.0",
        callback_url: str | None = None,
        display_phone_number: str = "447700900000",
        waba_id: str = "200000000000001",
        templates: tuple[Template, ...] = (POLICE_ALERT, POLICE_ALERT_PHOTO),
        clock: Callable[[], float] = time.time,
        seed: int = 0,
    ) -> None:
        self.access_token = access_token
        self.phone_number_id = phone_number_id
        self.app_secret = app_secret
        self._ledger = LimitLedger(limits or WhatsAppLimits())
        self.faults = faults or WhatsAppFaults()
        self.version = version
        self.callback_url = callback_url
        self.display_phone_number = display_phone_number
        self.waba_id = waba_id
        self.templates: dict[str, Template] = {t.name: t for t in templates}
        self.sent: list[SentMessage] = []
        self.rejected: list[Rejection] = []
        self.inbound: list[InboundMessage] = []
        self.webhooks: list[WebhookDelivery] = []
        self.webhook_failures: list[str] = []
        self.read_receipts: list[str] = []
        self.media: dict[str, Media] = {}
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._clock = clock  # a fixed clock makes bursts deterministic, however slow the machine
        self._clock_offset = 0.0
        self._recipients: dict[str, str] = {}  # every wamid issued -> wa_id
        self._next_media_id = 1_037_543_291_543_636
        self.app = FaultInjector(
            Starlette(
                routes=[
                    # Inspection and control first: "/_sandbox/stats" would otherwise match "/{version}/{media_id}".
                    Route("/_sandbox/stats", self._stats_route),
                    Route("/_sandbox/messages", self._messages_route),
                    Route("/_sandbox/rejected", self._rejected_route),
                    Route("/_sandbox/inbound", self._inbound_route),
                    Route("/_sandbox/windows", self._windows_route),
                    Route("/_sandbox/clock", self._clock_route, methods=["POST"]),
                    Route("/_sandbox/users/{wa_id}/messages", self._user_message_route, methods=["POST"]),
                    Route("/_sandbox/statuses", self._status_route, methods=["POST"]),
                    Route("/whatsapp_business/attachments/", self._download_media),
                    Route("/{version}/{phone_number_id}/messages", self._messages_endpoint, methods=["POST"]),
                    Route("/{version}/{phone_number_id}/media", self._upload_endpoint, methods=["POST"]),
                    Route("/{version}/{media_id}", self._media_endpoint, methods=["GET", "DELETE"]),
                ]
            )
        )  # latency, resets and 5xx bursts on the wire: sandbox.faults
        self._server = BackgroundServer(self.app, "WhatsApp stand-in")

    @property
    def limits(self) -> WhatsAppLimits:
        return self._ledger.limits

    @limits.setter
    def limits(self, limits: WhatsAppLimits) -> None:
        with self._lock:
            self._ledger.limits = limits

    @property
    def api_base(self) -> str:
        """What ``WHATSAPP_API_BASE`` should be: the Graph base with its version."""
        return f"{self.base_url}/{self.version}"

    # --- clock and windows -------------------------------------------------------------

    def now(self) -> float:
        """Unix time as the stand-in sees it: its clock, moved forward by ``advance``."""
        return self._clock() + self._clock_offset

    def advance(self, seconds: float) -> None:
        """Move the clock on: ages every customer-service window and pair limit at once."""
        with self._lock:
            self._clock_offset += seconds

    def open_window(self, wa_id: str, *, seconds_ago: float = 0.0) -> None:
        """As if ``wa_id`` wrote ``seconds_ago`` seconds ago, without a webhook."""
        with self._lock:
            self._ledger.note_inbound(wa_id, self.now() - seconds_ago)

    def window_open(self, wa_id: str) -> bool:
        with self._lock:
            return self._ledger.window_open(wa_id, self.now())

    def register_template(self, template: Template) -> None:
        with self._lock:
            self.templates[template.name] = template

    # --- what tests read ----------------------------------------------------------------

    def sent_to(self, wa_id: str) -> list[SentMessage]:
        with self._lock:
            return [m for m in self.sent if m.to == wa_id]

    def texts_to(self, wa_id: str) -> list[str]:
        return [m.text for m in self.sent_to(wa_id)]

    def message(self, message_id: str) -> SentMessage:
        with self._lock:
            for record in self.sent:
                if record.id == message_id:
                    return record
        raise KeyError(f"no message {message_id} was sent")

    def rejected_codes(self, wa_id: str | None = None) -> list[int]:
        with self._lock:
            return [r.code for r in self.rejected if wa_id is None or r.to == wa_id]

    def sent_count(self) -> int:
        with self._lock:
            return len(self.sent)

    # --- simulated users ------------------------------------------------------------------

    def user(self, wa_id: str, name: str = "Resident") -> SimulatedUser:
        return SimulatedUser(self, wa_id, name)

    async def receive_from_user(
        self, wa_id: str, name: str, kind: str, content: dict[str, Any], *, context: dict[str, Any] | None = None
    ) -> WebhookDelivery:
        """One message from a resident's phone: opens their window, then Meta's webhook to the app."""
        callback_url = self._callback_url()
        message: dict[str, Any] = {} if context is None else {"context": context}
        with self._lock:
            now = self.now()
            message.update(
                {"from": wa_id, "id": self._new_wamid(wa_id), "timestamp": str(int(now)), "type": kind, kind: content}
            )
            # The window opens when the user writes, whether or not the app's webhook is up.
            self._ledger.note_inbound(wa_id, now)
            self.inbound.append(InboundMessage(message["id"], wa_id, kind, message, now))
        value = {"contacts": [{"profile": {"name": name}, "wa_id": wa_id}], "messages": [message]}
        return await self._post_signed(callback_url, self._envelope(value))

    async def report_status(self, message_id: str, status: str, *, error_code: int | None = None) -> WebhookDelivery:
        """Meta's status webhook for a message the app sent: sent, delivered, read or failed."""
        if status not in _STATUSES:
            raise ValueError(f"status must be one of {_STATUSES}, not {status!r}")
        with self._lock:
            recipient = self._recipients.get(message_id)
        if recipient is None:
            raise KeyError(f"no message {message_id} was sent, so Meta would report no status for it")
        entry: dict[str, Any] = {
            "id": message_id,
            "status": status,
            "timestamp": str(int(self.now())),
            "recipient_id": recipient,
        }
        if status == "failed":
            entry["errors"] = [webhook_error(error_code or 131026)]
        else:
            entry.update(self._conversation_and_pricing(message_id))
        return await self.deliver(self._envelope({"statuses": [entry]}))

    async def deliver(self, payload: dict[str, Any]) -> WebhookDelivery:
        """POST a webhook to the callback URL, signed with the app secret over the exact bytes sent."""
        return await self._post_signed(self._callback_url(), payload)

    async def _post_signed(self, callback_url: str, payload: dict[str, Any]) -> WebhookDelivery:
        delivery = await post_signed(callback_url, payload, self.app_secret)
        with self._lock:
            self.webhooks.append(delivery)
        return delivery

    async def verify_subscription(self, verify_token: str, *, challenge: str | None = None) -> httpx.Response:
        """Meta's subscription handshake: the app must echo ``hub.challenge`` for the right token."""
        callback_url = self._callback_url()
        if challenge is None:
            with self._lock:
                challenge = str(self._rng.randrange(10**9, 10**10))
        params = {"hub.mode": "subscribe", "hub.verify_token": verify_token, "hub.challenge": challenge}
        async with httpx.AsyncClient(timeout=10.0) as client:
            return await client.get(callback_url, params=params, headers={"User-Agent": "facebookplatform/1.0"})

    def _callback_url(self) -> str:
        if not self.callback_url:
            raise RuntimeError("no callback_url: set WhatsAppStandIn.callback_url to the app's webhook URL")
        return self.callback_url

    def _envelope(self, value: dict[str, Any]) -> dict[str, Any]:
        return envelope(
            value,
            display_phone_number=self.display_phone_number,
            phone_number_id=self.phone_number_id,
            waba_id=self.waba_id,
        )

    def _conversation_and_pricing(self, message_id: str) -> dict[str, Any]:
        category = "service"
        with self._lock:
            record = next((m for m in self.sent if m.id == message_id), None)
            if record is not None and record.type == "template":
                category = self.templates[record.content["name"]].category.lower()
        conversation = {"id": hashlib.sha256(message_id.encode()).hexdigest()[:32], "origin": {"type": category}}
        return {
            "conversation": conversation,
            "pricing": {"billable": True, "pricing_model": "CBP", "category": category},
        }

    async def _report_failure_later(self, message_id: str, code: int) -> None:
        if not self.callback_url:
            return
        try:
            await self.report_status(message_id, "failed", error_code=code)
        except httpx.TransportError as exc:
            # Meta would retry for days; the stand-in notes it so a test can see the app was down.
            with self._lock:
                self.webhook_failures.append(f"{message_id}: {exc!r}")

    # --- the Graph door: sending ---------------------------------------------------------

    async def _messages_endpoint(self, request: Request) -> Response:
        return await self._graph_call(request, self._send_or_mark_read, phone_number_scoped=True)

    async def _graph_call(
        self, request: Request, handler: Callable[[Request], Awaitable[Response]], *, phone_number_scoped: bool = False
    ) -> Response:
        """Everything Graph checks before the endpoint itself: token, object id, latency, 5xx share."""
        try:
            self._authorize(request)
            if phone_number_scoped and request.path_params["phone_number_id"] != self.phone_number_id:
                raise no_such_object(request.path_params["phone_number_id"], request.method.lower())
            if self.faults.latency_seconds:
                await asyncio.sleep(self.faults.latency_seconds)
            with self._lock:
                if self.faults.server_error_share and self._rng.random() < self.faults.server_error_share:
                    raise GraphError(131000)
            return await handler(request)
        except GraphError as error:
            return self._reject(error)

    def _authorize(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        token = header[len("Bearer ") :] if header.startswith("Bearer ") else request.query_params.get("access_token")
        # Bytes, not str: compare_digest refuses non-ASCII str, which would turn a bad token into a 500.
        if not token or not hmac.compare_digest(token.encode(), self.access_token.encode()):
            raise unauthorized()

    async def _send_or_mark_read(self, request: Request) -> Response:
        body = await _json_object(request)
        if body.get("status") == "read":
            return self._mark_read(body)
        to = recipient(body)
        try:
            kind, content, shown = self._validate_message(body)
            message_id, failure = self._admit(to, kind, content, shown, body)
        except GraphError as error:
            error.to, error.request = to, body
            raise
        answer = _accepted(body["to"], to, message_id, template=kind == "template")
        if failure is None:
            return JSONResponse(answer)
        # Accepted now, failed later: the app hears of it only through the status webhook.
        return JSONResponse(answer, background=BackgroundTask(self._report_failure_later, message_id, failure.code))

    def _admit(
        self, to: str, kind: str, content: dict[str, Any], shown: str, body: dict[str, Any]
    ) -> tuple[str, GraphError | None]:
        """Apply Meta's limits and record the send; raises, or returns a failure Meta reports later."""
        with self._lock:
            now = self.now()
            failure = self._admission_failure(to, kind, now)
            if failure is not None and not self._reported_later(failure):
                raise failure
            message_id = self._new_wamid(to)
            self._recipients[message_id] = to
            self._ledger.consume_rate(to, now)
            if failure is None:
                self._ledger.count_for_messaging_limit(to, now)
                reply_to = (body.get("context") or {}).get("message_id")
                self.sent.append(SentMessage(message_id, to, kind, content, shown, reply_to, body, now))
            else:
                self.rejected.append(Rejection(to, failure.code, 200, failure.details, body, now, message_id))
        return message_id, failure

    def _mark_read(self, body: dict[str, Any]) -> Response:
        message_id = body.get("message_id")
        if not isinstance(message_id, str) or not message_id:
            raise invalid("The parameter message_id is required.")
        with self._lock:
            self.read_receipts.append(message_id)
        return JSONResponse({"success": True})

    def _validate_message(self, body: dict[str, Any]) -> tuple[str, dict[str, Any], str]:
        """The message's type, its object, and the text the resident would read; raises GraphError."""
        return validate_message(body, self._template_named, self._media_exists)

    def _template_named(self, name: str) -> Template | None:
        with self._lock:
            return self.templates.get(name)

    def _media_exists(self, media_id: str) -> bool:
        with self._lock:
            return media_id in self.media

    def _admission_failure(self, to: str, kind: str, now: float) -> GraphError | None:
        """The first limit this send breaks, in the order Meta applies them; None if it may go.

        Nothing is consumed here, so a refused send costs no throughput or pair quota.
        """
        if self._ledger.throughput_exceeded(now):
            return GraphError(130429)
        if self._ledger.pair_wait(to, now) > 0:
            return GraphError(131056)
        if to in self.faults.unreachable_users:
            return GraphError(131026)
        if kind != "template" and not self._ledger.window_open(to, now):
            return GraphError(131047)
        if self._ledger.over_messaging_limit(to, now):
            return GraphError(131048)
        return None

    def _reported_later(self, failure: GraphError) -> bool:
        return self.faults.asynchronous_failures and failure.code in (131026, 131047)

    def limit_counted(self) -> int:
        """People counted against the messaging limit in the last 24 hours (tests, the console)."""
        with self._lock:
            return self._ledger.limit_counted(self.now())

    def _reject(self, error: GraphError) -> JSONResponse:
        with self._lock:
            self.rejected.append(
                Rejection(error.to, error.code, error.http_status, error.details, error.request, self.now())
            )
            trace = "".join(self._rng.choice(string.ascii_letters + string.digits + "-_") for _ in range(23))
        return JSONResponse(error.answer(trace), status_code=error.http_status)

    def _new_wamid(self, wa_id: str) -> str:
        # Real wamids are base64 with "=" and "+" in them: an app must treat them as opaque text.
        with_randomness = f"{wa_id}:{self._rng.getrandbits(64):016X}".encode()
        return "wamid." + base64.b64encode(b"\x15\x02\x00\x11\x18\x12" + with_randomness).decode()

    # --- the Graph door: media -------------------------------------------------------------

    async def _upload_endpoint(self, request: Request) -> Response:
        return await self._graph_call(request, self._upload_media, phone_number_scoped=True)

    async def _upload_media(self, request: Request) -> Response:
        if "multipart/form-data" not in request.headers.get("content-type", ""):
            raise invalid("The parameter file is required.")
        form = await request.form()
        if form.get("messaging_product") != "whatsapp":
            raise invalid("The parameter messaging_product is required.")
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise invalid("The parameter file is required.")
        content = await upload.read()
        mime_type = str(form.get("type") or upload.content_type or "application/octet-stream")
        media = self.add_media(content, mime_type, filename=upload.filename)
        return JSONResponse({"id": media.id})

    def add_media(self, content: bytes, mime_type: str, *, filename: str | None = None) -> Media:
        """Store bytes as Meta would after an upload (or a user's photo) and give them a media id."""
        with self._lock:
            media = Media(str(self._next_media_id), content, mime_type, filename)
            self._next_media_id += 1
            self.media[media.id] = media
        return media

    async def _media_endpoint(self, request: Request) -> Response:
        return await self._graph_call(request, self._media_object)

    async def _media_object(self, request: Request) -> Response:
        media_id = request.path_params["media_id"]
        with self._lock:
            media = self.media.get(media_id)
            if media is not None and request.method == "DELETE":
                del self.media[media_id]
        if media is None:
            raise no_such_object(media_id, request.method.lower())
        if request.method == "DELETE":
            return JSONResponse({"success": True})
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "url": self._media_url(media, public_base_url(request)),
                "mime_type": media.mime_type,
                "sha256": media.sha256_hex,
                "file_size": len(media.content),
                "id": media.id,
            }
        )

    def _media_url(self, media: Media, base_url: str) -> str:
        # Shaped like Meta's lookaside.fbsbx.com links, but on this server (run in-process or alone).
        digest = hashlib.sha256(f"{media.id}:{self.app_secret}".encode()).hexdigest()[:16]
        return f"{base_url}/whatsapp_business/attachments/?mid={media.id}&ext={int(self.now())}&hash={digest}"

    async def _download_media(self, request: Request) -> Response:
        try:
            self._authorize(request)  # Meta's media URLs need the same bearer token
        except GraphError as error:
            return self._reject(error)
        with self._lock:
            media = self.media.get(request.query_params.get("mid", ""))
        if media is None:
            return Response(status_code=404)
        return Response(media.content, media_type=media.mime_type)

    # --- inspection and control --------------------------------------------------------------

    async def _stats_route(self, request: Request) -> JSONResponse:
        with self._lock:
            per_user = Counter(m.to for m in self.sent)
            return JSONResponse(
                {
                    "sent": len(self.sent),
                    "rejected": {str(code): n for code, n in Counter(r.code for r in self.rejected).items()},
                    "users": len(per_user),
                    "inbound": len(self.inbound),
                    "webhooks": len(self.webhooks),
                    "media": len(self.media),
                    "first_at": self.sent[0].at if self.sent else None,
                    "last_at": self.sent[-1].at if self.sent else None,
                }
            )

    async def _messages_route(self, request: Request) -> JSONResponse:
        to = request.query_params.get("to")
        with self._lock:
            records = [m for m in self.sent if to is None or m.to == to]
        return JSONResponse([_sent_json(m) for m in records])

    async def _rejected_route(self, request: Request) -> JSONResponse:
        with self._lock:
            records = list(self.rejected)
        return JSONResponse([_rejection_json(r) for r in records])

    async def _inbound_route(self, request: Request) -> JSONResponse:
        with self._lock:
            records = list(self.inbound)
        return JSONResponse(
            [{"id": m.id, "wa_id": m.wa_id, "type": m.type, "message": m.message, "at": m.at} for m in records]
        )

    async def _windows_route(self, request: Request) -> JSONResponse:
        with self._lock:
            return JSONResponse(self._ledger.windows(self.now()))

    async def _clock_route(self, request: Request) -> JSONResponse:
        data = await _json_or_empty(request)
        seconds = data.get("advance")
        if not isinstance(seconds, (int, float)) or seconds < 0:
            return JSONResponse({"error": "advance must be a number of seconds >= 0"}, status_code=400)
        self.advance(seconds)
        return JSONResponse({"now": self.now()})

    async def _user_message_route(self, request: Request) -> JSONResponse:
        """Lets the browser console (or a test in another process) play a resident."""
        data = await _json_or_empty(request)
        user = self.user(request.path_params["wa_id"], str(data.get("name") or "Resident"))
        try:
            delivery = await act_as_user(user, data)
        except (KeyError, ValueError, TypeError, RuntimeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except httpx.TransportError as exc:
            return JSONResponse({"error": f"the app's webhook is unreachable: {exc!r}"}, status_code=502)
        return JSONResponse({"message_id": delivery.message_id, "status_code": delivery.status_code})

    async def _status_route(self, request: Request) -> JSONResponse:
        data = await _json_or_empty(request)
        try:
            delivery = await self.report_status(
                str(data.get("id")), str(data.get("status")), error_code=data.get("error_code")
            )
        except (KeyError, ValueError, RuntimeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except httpx.TransportError as exc:
            return JSONResponse({"error": f"the app's webhook is unreachable: {exc!r}"}, status_code=502)
        return JSONResponse({"status_code": delivery.status_code})


# --- wire helpers --------------------------------------------------------------------------------


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.body() or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise invalid("Invalid parameter: the request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise invalid("The parameter messaging_product is required.")
    return data


async def _json_or_empty(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.body() or b"{}")
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def _accepted(given_to: str, wa_id: str, message_id: str, *, template: bool) -> dict[str, Any]:
    message: dict[str, Any] = {"id": message_id}
    if template:
        message["message_status"] = "accepted"
    return {"messaging_product": "whatsapp", "contacts": [{"input": given_to, "wa_id": wa_id}], "messages": [message]}


def _rejection_json(record: Rejection) -> dict[str, Any]:
    return {
        "to": record.to,
        "code": record.code,
        "http_status": record.http_status,
        "details": record.details,
        "message_id": record.message_id,
        "at": record.at,
    }


def _sent_json(record: SentMessage) -> dict[str, Any]:
    return {
        "id": record.id,
        "to": record.to,
        "type": record.type,
        "content": record.content,
        "text": record.text,
        "reply_to": record.reply_to,
        "at": record.at,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="A local WhatsApp Cloud API stand-in.")
    parser.add_argument("--port", type=int, default=8083)
    parser.add_argument("--token", default="sandbox-token")
    parser.add_argument("--phone-number-id", default="100000000000001")
    parser.add_argument("--app-secret", default="sandbox-app-secret")
    parser.add_argument(
        "--callback-url", default=None, help="the app's webhook, e.g. http://127.0.0.1:8000/whatsapp/webhook"
    )
    parser.add_argument("--rate", type=float, default=80.0, help="messages/s per number; 0 = unlimited")
    parser.add_argument(
        "--pair-interval", type=float, default=6.0, help="seconds between messages to one user; 0 = none"
    )
    parser.add_argument(
        "--messaging-limit",
        type=int,
        default=0,
        help="unique people outside their service window per rolling 24 h (250, 2000, …); 0 = unlimited",
    )
    args = parser.parse_args()
    import uvicorn

    stand_in = WhatsAppStandIn(
        args.token,
        args.phone_number_id,
        args.app_secret,
        limits=WhatsAppLimits(
            per_number_per_second=args.rate or None,
            per_user_interval=args.pair_interval or None,
            messaging_limit=args.messaging_limit or None,
        ),
        callback_url=args.callback_url,
    )
    uvicorn.run(stand_in.app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
