"""The console's feature phone: one resident texting the app through Twilio's signed webhook, and the texts they got.

A page of its own (``/_console/sms``) so the main console is untouched: a
plain screen of texts in and out, and a box to type one. What the resident
types goes to the app exactly as Twilio would post it (``X-Twilio-Signature``);
what the app sends is read from the SMS stand-in's record.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.console.inputs import AppUnreachable, BadInput, ConsoleError, json_object
from sandbox.sms import MAX_BODY, SmsStandIn

SMS_RESIDENT = "+447700900124"  # Ofcom's drama range: never a real number
STATIC = Path(__file__).parent / "static"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'"
)


@dataclass
class Text:
    at: float
    direction: str  # "in": the resident sent it; "out": the app sent it
    body: str
    status: int | str | None = None  # how the app answered the webhook (in), the delivery status (out)
    segments: int | None = None


class SmsPhonePane:
    def __init__(self, stand_in: SmsStandIn, number: str = SMS_RESIDENT) -> None:
        self.stand_in = stand_in
        self.number = number
        self._sent: list[Text] = []
        self._lock = threading.Lock()

    async def send_text(self, body: str) -> Text:
        if not body.strip():
            raise BadInput("text: type something to send")
        if len(body) > MAX_BODY:
            raise BadInput(f"text: at most {MAX_BODY} characters, as Twilio takes")
        text = Text(time.time(), "in", body)
        with self._lock:
            self._sent.append(text)
        try:
            call = await self.stand_in.phone(self.number).texts(body)
        except (httpx.HTTPError, RuntimeError) as exc:
            text.status = "not delivered"
            raise AppUnreachable(f"the app did not answer the webhook: {exc}") from None
        text.status = call.status_code
        return text

    def snapshot(self) -> dict[str, Any]:
        received = [Text(t.at, "out", t.body, t.status, t.num_segments) for t in self.stand_in.sent_to(self.number)]
        with self._lock:
            texts = sorted([*self._sent, *received], key=lambda t: t.at)
        return {
            "number": self.number,
            "opted_out": self.number in self.stand_in.opted_out,
            "texts": [asdict(t) for t in texts],
        }

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/_console/sms", self._page),
            Route("/_console/api/sms/state", self._state),
            Route("/_console/api/sms/text", self._text, methods=["POST"]),
        ]

    async def _page(self, request: Request) -> Response:
        return FileResponse(
            STATIC / "sms.html",
            headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-store"},
        )

    async def _state(self, request: Request) -> Response:
        return JSONResponse(self.snapshot(), headers={"Cache-Control": "no-store"})

    async def _text(self, request: Request) -> Response:
        try:
            body = await json_object(request)
            text = body.get("text")
            if not isinstance(text, str):
                raise BadInput("text: a string")
            return JSONResponse(asdict(await self.send_text(text)))
        except ConsoleError as error:
            return error.response()
