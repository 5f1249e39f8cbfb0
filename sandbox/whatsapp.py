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

Simulated users send signed webhooks (``X-Hub-Signature-256``) to the app's
callback URL exactly as Meta does, and each inbound message opens that user's
24-hour window; the stand-in's clock can be moved forward to age windows.

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
import math
import random
import re
import string
import threading
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping
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

WINDOW_SECONDS = 24 * 3600
ERROR_CODES_HREF = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"

# Meta's published limits for one message (characters).
MAX_TEXT = 4096
MAX_INTERACTIVE_BODY = 1024
MAX_CAPTION = 1024
MAX_REPLY_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_LIST_ROWS = 10
MAX_LIST_SECTIONS = 10
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72

# code -> (HTTP status, title). The message Meta sends is "(#code) title".
_ERRORS: dict[int, tuple[int, str]] = {
    100: (400, "Invalid parameter"),
    190: (401, "Invalid OAuth access token - Cannot parse access token"),
    130429: (400, "Rate limit hit"),
    131000: (500, "Something went wrong"),
    131008: (400, "Required parameter is missing"),
    131009: (400, "Parameter value is not valid"),
    131026: (400, "Message undeliverable"),
    131047: (400, "Re-engagement message"),
    131048: (400, "Spam rate limit hit"),
    131056: (400, "(Business Account, Consumer Account) pair rate limit hit"),
    132000: (400, "Number of parameters does not match the expected number of params"),
    132001: (404, "Template name does not exist in the translation"),
    132018: (400, "There was an issue with the parameters in your template."),
}
_DETAILS: dict[int, str] = {
    130429: (
        "Message failed to send because there were too many messages sent from this phone number "
        "in a short period of time"
    ),
    131000: "Message failed to send due to an unknown error.",
    131026: "Message Undeliverable.",
    131047: "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
    131048: (
        "Message failed to send because there are restrictions on how many messages can be sent from this phone "
        "number. This may be because too many previous messages were blocked or flagged as spam."
    ),
    131056: (
        "Message failed to send because there were too many messages sent from this phone number "
        "to the same phone number in a short period of time."
    ),
}
# Graph only still sends a subcode for a few errors; this one is in Meta's own 130429 sample.
_SUBCODES = {130429: 2494055}

_MESSAGE_TYPES = ("text", "interactive", "template", "location", "image")
_INTERACTIVE_TYPES = ("button", "list", "location_request_message")
_STATUSES = ("sent", "delivered", "read", "failed")
# Template parameters may not carry line breaks, tabs or more than four spaces in a row.
_BAD_PARAMETER_TEXT = re.compile(r"[\n\t]| {5,}")
_PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")


# --- configuration ------------------------------------------------------------------------


@dataclass
class WhatsAppLimits:
    per_number_per_second: float | None = 80.0  # None: unlimited (benchmarks of the engine itself)
    per_user_interval: float | None = 6.0  # seconds between messages to one user; None: no pair limit
    # Meta lets a burst of up to 45 messages "borrow" future pair quota; 1 keeps the strict
    # one-per-interval reading, so an app that passes here also passes against Meta.
    per_user_burst: int = 1
    window_seconds: float = WINDOW_SECONDS
    # The portfolio's messaging limit: unique people reached outside their service window in any moving
    # 24 hours (Meta's tiers 250, 2,000, 10,000, 100,000); None: unlimited. Over it: 131048.
    messaging_limit: int | None = None
    messaging_limit_seconds: float = WINDOW_SECONDS


@dataclass
class WhatsAppFaults:
    latency_seconds: float = 0.0
    server_error_share: float = 0.0  # 0..1 of Graph calls answered 500 (131000)
    unreachable_users: set[str] = field(default_factory=set)  # wa_ids answered 131026
    # Meta often accepts a send (200 and a wamid) and reports 131047 / 131026 only later, in a
    # "failed" status webhook. On: the stand-in does the same instead of answering 400.
    asynchronous_failures: bool = False


@dataclass(frozen=True)
class Template:
    """An approved message template, as registered in WhatsApp Manager.

    ``body`` uses Meta's ``{{1}}``, ``{{2}}`` placeholders; ``quick_replies``
    are the titles of its quick-reply buttons, in order.
    """

    name: str
    body: str
    languages: frozenset[str] = frozenset({"en", "en_GB"})
    quick_replies: tuple[str, ...] = ()
    category: str = "UTILITY"

    @property
    def body_parameters(self) -> int:
        # Meta numbers placeholders from {{1}} without gaps, so the highest one is the count.
        return max((int(n) for n in _PLACEHOLDER.findall(self.body)), default=0)

    def render(self, parameters: list[str]) -> str:
        return _PLACEHOLDER.sub(lambda match: parameters[int(match.group(1)) - 1], self.body)


POLICE_ALERT = Template(
    name="police_alert",
    body="{{1}} alert for {{2}}:\n\n{{3}}\n\n{{4}}",
    quick_replies=("Send information", "Stop alerts"),
)


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
class WebhookDelivery:
    payload: dict[str, Any]
    body: bytes
    signature: str
    status_code: int
    response_text: str

    @property
    def message_id(self) -> str | None:
        messages = self.payload["entry"][0]["changes"][0]["value"].get("messages") or [{}]
        return messages[0].get("id")


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


class GraphError(Exception):
    """A Graph API error answer: ``code`` picks the title and HTTP status, ``details`` says why."""

    def __init__(self, code: int, details: str | None = None, *, message: str | None = None) -> None:
        status, title = _ERRORS[code]
        self.code = code
        self.http_status = status
        self.details = details if details is not None else _DETAILS.get(code)
        self.message = message or f"(#{code}) {title}"
        self.subcode = _SUBCODES.get(code)
        self.to: str | None = None
        self.request: dict[str, Any] | None = None
        super().__init__(self.message)


def _invalid(details: str) -> GraphError:
    """Graph's code 100 names the offending parameter in the message itself."""
    return GraphError(100, details, message=f"(#100) {details}")


def _unauthorized() -> GraphError:
    """Graph's token error carries its title alone as the message, and no details."""
    error = GraphError(190, message=_ERRORS[190][1])
    error.details = None
    return error


def _no_such_object(object_id: str, method: str) -> GraphError:
    error = GraphError(
        100,
        message=(
            f"Unsupported {method} request. Object with ID '{object_id}' does not exist, cannot be loaded due to "
            "missing permissions, or does not support this operation. Please read the Graph API documentation "
            "at https://developers.facebook.com/docs/graph-api"
        ),
    )
    error.details, error.subcode = None, 33
    return error


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
        templates: tuple[Template, ...] = (POLICE_ALERT,),
        clock: Callable[[], float] = time.time,
        seed: int = 0,
    ) -> None:
        self.access_token = access_token
        self.phone_number_id = phone_number_id
        self.app_secret = app_secret
        self.limits = limits or WhatsAppLimits()
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
        self._recent_sends: deque[float] = deque()
        self._pair_due: dict[str, float] = {}  # wa_id -> theoretical time the next message is due
        self._last_inbound: dict[str, float] = {}
        # The messaging limit's count: who was reached outside their window, and when (oldest first).
        self._limit_counted: dict[str, float] = {}
        self._limit_order: deque[tuple[float, str]] = deque()
        self._recipients: dict[str, str] = {}  # every wamid issued -> wa_id
        self._next_media_id = 1_037_543_291_543_636
        self.app = FaultInjector(Starlette(
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
        ))  # latency, resets and 5xx bursts on the wire: sandbox.faults
        self._server = BackgroundServer(self.app, "WhatsApp stand-in")

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
            self._last_inbound[wa_id] = self.now() - seconds_ago

    def window_open(self, wa_id: str) -> bool:
        with self._lock:
            return self._window_open(wa_id, self.now())

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
            message.update({"from": wa_id, "id": self._new_wamid(wa_id), "timestamp": str(int(now)), "type": kind, kind: content})
            # The window opens when the user writes, whether or not the app's webhook is up.
            self._last_inbound[wa_id] = now
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
            entry["errors"] = [_webhook_error(error_code or 131026)]
        else:
            entry.update(self._conversation_and_pricing(message_id))
        return await self.deliver(self._envelope({"statuses": [entry]}))

    async def deliver(self, payload: dict[str, Any]) -> WebhookDelivery:
        """POST a webhook to the callback URL, signed with the app secret over the exact bytes sent."""
        return await self._post_signed(self._callback_url(), payload)

    async def _post_signed(self, callback_url: str, payload: dict[str, Any]) -> WebhookDelivery:
        body = _meta_json(payload)
        signature = "sha256=" + hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature, "User-Agent": "facebookexternalua"}
        async with httpx.AsyncClient(timeout=10.0) as client:
            response = await client.post(callback_url, content=body, headers=headers)
        delivery = WebhookDelivery(payload, body, signature, response.status_code, response.text)
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
        metadata = {"display_phone_number": self.display_phone_number, "phone_number_id": self.phone_number_id}
        change = {"value": {"messaging_product": "whatsapp", "metadata": metadata, **value}, "field": "messages"}
        return {"object": "whatsapp_business_account", "entry": [{"id": self.waba_id, "changes": [change]}]}

    def _conversation_and_pricing(self, message_id: str) -> dict[str, Any]:
        category = "service"
        with self._lock:
            record = next((m for m in self.sent if m.id == message_id), None)
            if record is not None and record.type == "template":
                category = self.templates[record.content["name"]].category.lower()
        conversation = {"id": hashlib.sha256(message_id.encode()).hexdigest()[:32], "origin": {"type": category}}
        return {"conversation": conversation, "pricing": {"billable": True, "pricing_model": "CBP", "category": category}}

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
                raise _no_such_object(request.path_params["phone_number_id"], request.method.lower())
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
        token = header[len("Bearer "):] if header.startswith("Bearer ") else request.query_params.get("access_token")
        # Bytes, not str: compare_digest refuses non-ASCII str, which would turn a bad token into a 500.
        if not token or not hmac.compare_digest(token.encode(), self.access_token.encode()):
            raise _unauthorized()

    async def _send_or_mark_read(self, request: Request) -> Response:
        body = await _json_object(request)
        if body.get("status") == "read":
            return self._mark_read(body)
        to = _recipient(body)
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
            self._consume_rate(to, now)
            if failure is None:
                self._count_for_messaging_limit(to, now)
                reply_to = (body.get("context") or {}).get("message_id")
                self.sent.append(SentMessage(message_id, to, kind, content, shown, reply_to, body, now))
            else:
                self.rejected.append(Rejection(to, failure.code, 200, failure.details, body, now, message_id))
        return message_id, failure

    def _mark_read(self, body: dict[str, Any]) -> Response:
        message_id = body.get("message_id")
        if not isinstance(message_id, str) or not message_id:
            raise _invalid("The parameter message_id is required.")
        with self._lock:
            self.read_receipts.append(message_id)
        return JSONResponse({"success": True})

    def _validate_message(self, body: dict[str, Any]) -> tuple[str, dict[str, Any], str]:
        """The message's type, its object, and the text the resident would read; raises GraphError."""
        kind = body.get("type", "text")
        if kind not in _MESSAGE_TYPES:
            choices = ", ".join(t.upper() for t in _MESSAGE_TYPES)
            raise _invalid(f'Param type must be one of {{{choices}}} - got "{kind}".')
        content = body.get(kind)
        if not isinstance(content, dict):
            raise _invalid(f"The parameter {kind} is required.")
        shown = {
            "text": _text_shown,
            "interactive": _interactive_shown,
            "template": self._template_shown,
            "location": _location_shown,
            "image": self._image_shown,
        }[kind](content)
        return kind, content, shown

    def _template_shown(self, content: dict[str, Any]) -> str:
        name = content.get("name")
        language = (content.get("language") or {}).get("code")
        if not isinstance(name, str) or not name:
            raise _invalid("The parameter template['name'] is required.")
        if not isinstance(language, str) or not language:
            raise _invalid("The parameter template['language']['code'] is required.")
        with self._lock:
            template = self.templates.get(name)
        if template is None or language not in template.languages:
            raise GraphError(132001, f"template name ({name}) does not exist in {language}")
        components = content.get("components") or []
        if not isinstance(components, list):
            raise _invalid("Param template['components'] must be an array.")
        parameters = _body_parameters(components)
        if len(parameters) != template.body_parameters:
            raise GraphError(
                132000,
                f"body: number of localizable_params ({len(parameters)}) does not match the expected number "
                f"of params ({template.body_parameters})",
            )
        _check_quick_reply_buttons(components, template)
        return template.render(parameters)

    def _image_shown(self, content: dict[str, Any]) -> str:
        link, media_id = content.get("link"), content.get("id")
        if (link is None) == (media_id is None):
            raise _invalid("Param image must have exactly one of link or id.")
        if link is not None and not (isinstance(link, str) and link.startswith(("http://", "https://"))):
            raise _invalid("Param image['link'] is not a valid URL.")
        if media_id is not None:
            with self._lock:
                known = str(media_id) in self.media
            if not known:
                raise _invalid("Param image['id'] is not a valid whatsapp business account media attachment ID")
        caption = content.get("caption", "")
        if not isinstance(caption, str) or len(caption) > MAX_CAPTION:
            raise _invalid(f"Param image['caption'] must be at most {MAX_CAPTION} characters long.")
        return caption

    def _admission_failure(self, to: str, kind: str, now: float) -> GraphError | None:
        """The first limit this send breaks, in the order Meta applies them; None if it may go.

        Nothing is consumed here, so a refused send costs no throughput or pair quota.
        """
        if self._throughput_exceeded(now):
            return GraphError(130429)
        if self._pair_wait(to, now) > 0:
            return GraphError(131056)
        if to in self.faults.unreachable_users:
            return GraphError(131026)
        if kind != "template" and not self._window_open(to, now):
            return GraphError(131047)
        if self._over_messaging_limit(to, now):
            return GraphError(131048)
        return None

    def _reported_later(self, failure: GraphError) -> bool:
        return self.faults.asynchronous_failures and failure.code in (131026, 131047)

    def _throughput_exceeded(self, now: float) -> bool:
        per_second = self.limits.per_number_per_second
        if per_second is None:
            return False
        while self._recent_sends and self._recent_sends[0] <= now - 1.0:
            self._recent_sends.popleft()
        return len(self._recent_sends) >= per_second

    def _pair_wait(self, wa_id: str, now: float) -> float:
        """Seconds before ``wa_id`` may get another message; a burst borrows from future quota."""
        interval = self.limits.per_user_interval
        if interval is None:
            return 0.0
        due = max(self._pair_due.get(wa_id, now), now)
        return max(0.0, due - now - (self.limits.per_user_burst - 1) * interval)

    def _consume_rate(self, wa_id: str, now: float) -> None:
        if self.limits.per_number_per_second is not None:
            self._recent_sends.append(now)
        if self.limits.per_user_interval is not None:
            self._pair_due[wa_id] = max(self._pair_due.get(wa_id, now), now) + self.limits.per_user_interval

    def _over_messaging_limit(self, wa_id: str, now: float) -> bool:
        """A new person outside their service window when the portfolio has reached its limit for these 24 hours."""
        limit = self.limits.messaging_limit
        if limit is None or self._window_open(wa_id, now):
            return False
        self._forget_counted_before(now - self.limits.messaging_limit_seconds)
        return wa_id not in self._limit_counted and len(self._limit_counted) >= limit

    def _count_for_messaging_limit(self, wa_id: str, now: float) -> None:
        if self.limits.messaging_limit is None or self._window_open(wa_id, now) or wa_id in self._limit_counted:
            return
        self._limit_counted[wa_id] = now
        self._limit_order.append((now, wa_id))

    def _forget_counted_before(self, cutoff: float) -> None:
        while self._limit_order and self._limit_order[0][0] <= cutoff:
            at, wa_id = self._limit_order.popleft()
            if self._limit_counted.get(wa_id) == at:
                del self._limit_counted[wa_id]

    def limit_counted(self) -> int:
        """People counted against the messaging limit in the last 24 hours (tests, the console)."""
        with self._lock:
            self._forget_counted_before(self.now() - self.limits.messaging_limit_seconds)
            return len(self._limit_counted)

    def _window_open(self, wa_id: str, now: float) -> bool:
        last = self._last_inbound.get(wa_id)
        return last is not None and now - last < self.limits.window_seconds

    def _reject(self, error: GraphError) -> JSONResponse:
        with self._lock:
            self.rejected.append(Rejection(error.to, error.code, error.http_status, error.details, error.request, self.now()))
            trace = "".join(self._rng.choice(string.ascii_letters + string.digits + "-_") for _ in range(23))
        body: dict[str, Any] = {"message": error.message, "type": "OAuthException", "code": error.code}
        if error.details is not None:
            body["error_data"] = {"messaging_product": "whatsapp", "details": error.details}
        if error.subcode is not None:
            body["error_subcode"] = error.subcode
        body["fbtrace_id"] = trace
        return JSONResponse({"error": body}, status_code=error.http_status)

    def _new_wamid(self, wa_id: str) -> str:
        # Real wamids are base64 with "=" and "+" in them: an app must treat them as opaque text.
        with_randomness = f"{wa_id}:{self._rng.getrandbits(64):016X}".encode()
        return "wamid." + base64.b64encode(b"\x15\x02\x00\x11\x18\x12" + with_randomness).decode()

    # --- the Graph door: media -------------------------------------------------------------

    async def _upload_endpoint(self, request: Request) -> Response:
        return await self._graph_call(request, self._upload_media, phone_number_scoped=True)

    async def _upload_media(self, request: Request) -> Response:
        if "multipart/form-data" not in request.headers.get("content-type", ""):
            raise _invalid("The parameter file is required.")
        form = await request.form()
        if form.get("messaging_product") != "whatsapp":
            raise _invalid("The parameter messaging_product is required.")
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise _invalid("The parameter file is required.")
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
            raise _no_such_object(media_id, request.method.lower())
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
        return JSONResponse([{"id": m.id, "wa_id": m.wa_id, "type": m.type, "message": m.message, "at": m.at} for m in records])

    async def _windows_route(self, request: Request) -> JSONResponse:
        with self._lock:
            now = self.now()
            return JSONResponse(
                {
                    wa_id: {"last_inbound_at": last, "open": self._window_open(wa_id, now)}
                    for wa_id, last in self._last_inbound.items()
                }
            )

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
            delivery = await _act_as_user(user, data)
        except (KeyError, ValueError, TypeError, RuntimeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except httpx.TransportError as exc:
            return JSONResponse({"error": f"the app's webhook is unreachable: {exc!r}"}, status_code=502)
        return JSONResponse({"message_id": delivery.message_id, "status_code": delivery.status_code})

    async def _status_route(self, request: Request) -> JSONResponse:
        data = await _json_or_empty(request)
        try:
            delivery = await self.report_status(str(data.get("id")), str(data.get("status")), error_code=data.get("error_code"))
        except (KeyError, ValueError, RuntimeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except httpx.TransportError as exc:
            return JSONResponse({"error": f"the app's webhook is unreachable: {exc!r}"}, status_code=502)
        return JSONResponse({"status_code": delivery.status_code})


# --- simulated users -----------------------------------------------------------------------


class SimulatedUser:
    """A resident's phone: each action becomes the webhook Meta would send the app.

    Taps refer to a message the app sent (``on=`` its wamid) and must match a
    button that message really had, as on a phone.
    """

    def __init__(self, stand_in: WhatsAppStandIn, wa_id: str, name: str) -> None:
        self.stand_in = stand_in
        self.wa_id = wa_id
        self.name = name

    async def sends_text(self, body: str, *, reply_to: str | None = None) -> WebhookDelivery:
        return await self._send("text", {"body": body}, reply_to)

    async def sends_location(
        self,
        latitude: float,
        longitude: float,
        *,
        name: str | None = None,
        address: str | None = None,
        reply_to: str | None = None,
    ) -> WebhookDelivery:
        location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
        if name is not None:
            location["name"] = name
        if address is not None:
            location["address"] = address
        return await self._send("location", location, reply_to)

    async def sends_image(
        self, content: bytes, *, mime_type: str = "image/jpeg", caption: str | None = None, reply_to: str | None = None
    ) -> WebhookDelivery:
        media = self.stand_in.add_media(content, mime_type)
        image: dict[str, Any] = {"mime_type": mime_type, "sha256": media.sha256_b64, "id": media.id}
        if caption is not None:
            image["caption"] = caption
        return await self._send("image", image, reply_to)

    async def taps_button(self, button_id: str, *, on: str) -> WebhookDelivery:
        buttons = self._interactive(on, "button")["action"]["buttons"]
        reply = next((b["reply"] for b in buttons if b["reply"]["id"] == button_id), None)
        if reply is None:
            raise ValueError(f"message {on} has no reply button {button_id!r}")
        return await self._tap(on, {"type": "button_reply", "button_reply": {"id": reply["id"], "title": reply["title"]}})

    async def picks_list_row(self, row_id: str, *, on: str) -> WebhookDelivery:
        sections = self._interactive(on, "list")["action"]["sections"]
        row = next((r for s in sections for r in s.get("rows", []) if r["id"] == row_id), None)
        if row is None:
            raise ValueError(f"message {on} has no list row {row_id!r}")
        chosen = {"id": row["id"], "title": row["title"]}
        if "description" in row:
            chosen["description"] = row["description"]
        return await self._tap(on, {"type": "list_reply", "list_reply": chosen})

    async def taps_quick_reply(self, text: str, *, on: str) -> WebhookDelivery:
        record = self._own_message(on)
        if record.type != "template":
            raise ValueError(f"message {on} is a {record.type} message, not a template with quick replies")
        titles = self.stand_in.templates[record.content["name"]].quick_replies
        if text not in titles:
            raise ValueError(f"template {record.content['name']} has no quick reply {text!r}")
        index = titles.index(text)
        # Without a payload from the sender, Meta reports the button's text as the payload.
        payload = _quick_reply_payloads(record.content.get("components") or []).get(index, text)
        context = {"from": self.stand_in.display_phone_number, "id": on}
        return await self.stand_in.receive_from_user(
            self.wa_id, self.name, "button", {"payload": payload, "text": text}, context=context
        )

    def _own_message(self, message_id: str) -> SentMessage:
        record = self.stand_in.message(message_id)
        if record.to != self.wa_id:
            raise ValueError(f"message {message_id} went to {record.to}, not to {self.wa_id}")
        return record

    def _interactive(self, message_id: str, kind: str) -> dict[str, Any]:
        record = self._own_message(message_id)
        if record.type != "interactive" or record.content.get("type") != kind:
            raise ValueError(f"message {message_id} is not an interactive {kind} message")
        return record.content

    async def _tap(self, on: str, interactive: dict[str, Any]) -> WebhookDelivery:
        context = {"from": self.stand_in.display_phone_number, "id": on}
        return await self.stand_in.receive_from_user(self.wa_id, self.name, "interactive", interactive, context=context)

    async def _send(self, kind: str, content: dict[str, Any], reply_to: str | None) -> WebhookDelivery:
        context = {"from": self.stand_in.display_phone_number, "id": reply_to} if reply_to else None
        return await self.stand_in.receive_from_user(self.wa_id, self.name, kind, content, context=context)


async def _act_as_user(user: SimulatedUser, data: Mapping[str, Any]) -> WebhookDelivery:
    kind = data.get("type")
    if kind == "text":
        return await user.sends_text(str(data["body"]), reply_to=data.get("reply_to"))
    if kind == "location":
        return await user.sends_location(
            float(data["latitude"]), float(data["longitude"]), name=data.get("name"), address=data.get("address")
        )
    if kind == "button_reply":
        return await user.taps_button(str(data["id"]), on=str(data["on"]))
    if kind == "list_reply":
        return await user.picks_list_row(str(data["id"]), on=str(data["on"]))
    if kind == "quick_reply":
        return await user.taps_quick_reply(str(data["text"]), on=str(data["on"]))
    raise ValueError("type must be text, location, button_reply, list_reply or quick_reply")


# --- validation of what the app sends ----------------------------------------------------------


def _recipient(body: dict[str, Any]) -> str:
    if body.get("messaging_product") != "whatsapp":
        raise _invalid("The parameter messaging_product is required.")
    if body.get("recipient_type", "individual") != "individual":
        raise _invalid(f"Param recipient_type must be one of {{INDIVIDUAL}} - got \"{body.get('recipient_type')}\".")
    to = body.get("to")
    if not isinstance(to, str) or not to:
        raise _invalid("The parameter to is required.")
    wa_id = re.sub(r"[\s()+-]", "", to)
    if not wa_id.isdigit() or not 7 <= len(wa_id) <= 15:
        raise _invalid(f"Param to must be a phone number in international format - got \"{to}\".")
    return wa_id


def _text_shown(text: dict[str, Any]) -> str:
    body = text.get("body")
    if not isinstance(body, str) or not body:
        raise _invalid("Param text['body'] is required.")
    if len(body) > MAX_TEXT:
        raise _invalid(f"Param text['body'] must be at most {MAX_TEXT} characters long.")
    if not isinstance(text.get("preview_url", False), bool):
        raise _invalid("Param text['preview_url'] must be a boolean.")
    return body


def _location_shown(location: dict[str, Any]) -> str:
    for key, bound in (("latitude", 90), ("longitude", 180)):
        value = location.get(key)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or abs(value) > bound:
            raise _invalid(f"The parameter location['{key}'] is required and must be a number within ±{bound}.")
    return location.get("name") or location.get("address") or f"{location['latitude']},{location['longitude']}"


def _interactive_shown(interactive: dict[str, Any]) -> str:
    kind = interactive.get("type")
    if kind not in _INTERACTIVE_TYPES:
        choices = ", ".join(t.upper() for t in _INTERACTIVE_TYPES)
        raise _invalid(f'Param interactive[\'type\'] must be one of {{{choices}}} - got "{kind}".')
    text = (interactive.get("body") or {}).get("text")
    if not isinstance(text, str) or not text:
        raise _invalid("The parameter interactive['body']['text'] is required.")
    if len(text) > MAX_INTERACTIVE_BODY:
        raise _invalid(f"Param interactive['body']['text'] must be at most {MAX_INTERACTIVE_BODY} characters long.")
    action = interactive.get("action")
    if not isinstance(action, dict):
        raise _invalid("The parameter interactive['action'] is required.")
    {"button": _check_reply_buttons, "list": _check_list, "location_request_message": _check_location_request}[kind](action)
    return text


def _check_reply_buttons(action: dict[str, Any]) -> None:
    buttons = action.get("buttons")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_REPLY_BUTTONS:
        raise GraphError(131009, f"Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: {MAX_REPLY_BUTTONS}")
    for index, button in enumerate(buttons):
        where = f"interactive['action']['buttons'][{index}]"
        if not isinstance(button, dict) or button.get("type") != "reply" or not isinstance(button.get("reply"), dict):
            raise _invalid(f"Param {where}['type'] must be one of {{REPLY}}.")
        reply = button["reply"]
        if not isinstance(reply.get("id"), str) or not reply["id"]:
            raise _invalid(f"The parameter {where}['reply']['id'] is required.")
        if not isinstance(reply.get("title"), str):
            raise _invalid(f"The parameter {where}['reply']['title'] is required.")
        if not 1 <= len(reply["title"]) <= MAX_BUTTON_TITLE:
            raise GraphError(131009, f"Button title length invalid. Min length: 1, Max length: {MAX_BUTTON_TITLE}")


def _check_list(action: dict[str, Any]) -> None:
    label = action.get("button")
    if not isinstance(label, str) or not label:
        raise _invalid("The parameter interactive['action']['button'] is required.")
    if len(label) > MAX_BUTTON_TITLE:
        raise GraphError(131009, f"Button title length invalid. Min length: 1, Max length: {MAX_BUTTON_TITLE}")
    sections = action.get("sections")
    if not isinstance(sections, list) or not 1 <= len(sections) <= MAX_LIST_SECTIONS:
        raise GraphError(131009, f"Invalid sections count. Min allowed sections: 1, Max allowed sections: {MAX_LIST_SECTIONS}")
    if len(sections) > 1 and not all(isinstance(s, dict) and s.get("title") for s in sections):
        raise _invalid("The parameter interactive['action']['sections'][]['title'] is required when there are several sections.")
    rows = [row for section in sections if isinstance(section, dict) for row in section.get("rows") or []]
    if len(rows) > MAX_LIST_ROWS:
        raise GraphError(131009, f"Total row count exceed max allowed count: {MAX_LIST_ROWS}")
    for row in rows:
        _check_list_row(row)


def _check_list_row(row: Any) -> None:
    if not isinstance(row, dict) or not isinstance(row.get("id"), str) or not row["id"]:
        raise _invalid("The parameter interactive['action']['sections'][]['rows'][]['id'] is required.")
    if not isinstance(row.get("title"), str) or not row["title"]:
        raise _invalid("The parameter interactive['action']['sections'][]['rows'][]['title'] is required.")
    if len(row["title"]) > MAX_ROW_TITLE:
        raise GraphError(131009, f"Row title is too long. Max length is {MAX_ROW_TITLE}")
    if len(row.get("description", "")) > MAX_ROW_DESCRIPTION:
        raise GraphError(131009, f"Row description is too long. Max length is {MAX_ROW_DESCRIPTION}")


def _check_location_request(action: dict[str, Any]) -> None:
    if action.get("name") != "send_location":
        raise _invalid("Param interactive['action']['name'] must be one of {SEND_LOCATION}.")


def _body_parameters(components: list[Any]) -> list[str]:
    texts: list[str] = []
    for component in components:
        if isinstance(component, dict) and component.get("type") == "body":
            texts.extend(_parameter_text(p) for p in component.get("parameters") or [])
    return texts


def _parameter_text(parameter: Any) -> str:
    if not isinstance(parameter, dict) or parameter.get("type") != "text":
        raise _invalid("Param template['components'][]['parameters'][]['type'] must be one of {TEXT}.")
    text = parameter.get("text")
    if not isinstance(text, str) or not text.strip():
        raise _invalid("Param template['components'][]['parameters'][]['text'] is required.")
    if _BAD_PARAMETER_TEXT.search(text):
        raise GraphError(132018, "Param text cannot have new-line/tab characters or more than 4 consecutive spaces")
    return text


def _check_quick_reply_buttons(components: list[Any], template: Template) -> None:
    for component in components:
        if not isinstance(component, dict) or component.get("type") != "button":
            continue
        if component.get("sub_type") != "quick_reply":
            raise _invalid("Param template['components'][]['sub_type'] must be one of {QUICK_REPLY}.")
        index = component.get("index")
        if not str(index).isdigit() or int(index) >= len(template.quick_replies):
            raise GraphError(131009, f"Button at index {index} is not a quick reply button of template {template.name}")


def _quick_reply_payloads(components: list[Any]) -> dict[int, str]:
    payloads: dict[int, str] = {}
    for component in components:
        if isinstance(component, dict) and component.get("sub_type") == "quick_reply":
            for parameter in component.get("parameters") or []:
                if parameter.get("type") == "payload":
                    payloads[int(component["index"])] = parameter["payload"]
    return payloads


# --- wire helpers --------------------------------------------------------------------------------


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.body() or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise _invalid("Invalid parameter: the request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise _invalid("The parameter messaging_product is required.")
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


def _webhook_error(code: int) -> dict[str, Any]:
    title = _ERRORS.get(code, (400, "Message failed to send"))[1]
    details = _DETAILS.get(code, title)
    return {"code": code, "title": title, "message": title, "error_data": {"details": details}, "href": ERROR_CODES_HREF}


def _meta_json(payload: dict[str, Any]) -> bytes:
    # Meta sends compact JSON with non-ASCII as \uXXXX and "/" as "\/": an app that re-serialises
    # the parsed body before checking the signature fails here just as it would in production.
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/").encode()


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
    parser.add_argument("--callback-url", default=None, help="the app's webhook, e.g. http://127.0.0.1:8000/whatsapp/webhook")
    parser.add_argument("--rate", type=float, default=80.0, help="messages/s per number; 0 = unlimited")
    parser.add_argument("--pair-interval", type=float, default=6.0, help="seconds between messages to one user; 0 = none")
    parser.add_argument("--messaging-limit", type=int, default=0,
                        help="unique people outside their service window per rolling 24 h (250, 2000, …); 0 = unlimited")
    args = parser.parse_args()
    import uvicorn

    stand_in = WhatsAppStandIn(
        args.token,
        args.phone_number_id,
        args.app_secret,
        limits=WhatsAppLimits(per_number_per_second=args.rate or None, per_user_interval=args.pair_interval or None,
                              messaging_limit=args.messaging_limit or None),
        callback_url=args.callback_url,
    )
    uvicorn.run(stand_in.app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
