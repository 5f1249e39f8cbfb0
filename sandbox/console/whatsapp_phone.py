"""The console's WhatsApp phone: one resident acting through Meta's webhook, and what the business sent them.

Every action is a webhook signed with the app secret (``X-Hub-Signature-256``)
in the Cloud API's real payload shape, sent by the stand-in's simulated user:
text, location, interactive ``button_reply`` / ``list_reply``, and a template's
quick-reply ``button``. Taps must match a button the app's message really had.
**New resident** puts a fresh simulated user (a number the stand-in has not
seen) on the phone; **Reset** clears what the phone shows (the stand-in keeps
its record, and the resident's 24-hour window stays as it is).
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from sandbox.console.inputs import AppUnreachable, BadInput, NotReady
from sandbox.console.people import new_resident_name, new_whatsapp_number
from sandbox.whatsapp import Rejection, SentMessage, WhatsAppStandIn
from sandbox.whatsapp_payloads import MAX_TEXT
from sandbox.whatsapp_users import SimulatedUser
from sandbox.whatsapp_webhooks import WebhookDelivery


@dataclass
class ResidentMessage:
    """What the resident sent, and how the app answered Meta's webhook."""

    at: float  # the stand-in's clock (Unix seconds), as its records use
    kind: str  # text | location | button_reply | list_reply | quick_reply | image
    text: str = ""
    id: str | None = None  # the wamid Meta gave it
    status: int | None = None
    error: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    media_id: str | None = None
    on_message: str | None = None


class WhatsAppPhone:
    def __init__(self, stand_in: WhatsAppStandIn, wa_id: str, name: str, *, rng: random.Random | None = None) -> None:
        self.stand_in = stand_in
        self.wa_id = wa_id
        self.name = name
        self._messages: list[ResidentMessage] = []
        # Reset hides what came before: how many of the business's messages to this number, and of the refusals.
        self._hidden_sent = 0
        self._hidden_refusals = 0
        self._numbers: set[str] = {wa_id}  # everyone who has been on this phone
        self._rng = rng or random.Random()
        self._lock = threading.Lock()

    @property
    def _user(self) -> SimulatedUser:
        return self.stand_in.user(self.wa_id, self.name)

    # --- the phone itself ------------------------------------------------------------------------

    def new_resident(self) -> dict[str, str]:
        """A fresh simulated user on this phone: a number WhatsApp's stand-in has not seen, an empty chat."""
        taken = (
            {m.to for m in list(self.stand_in.sent)}
            | {m.wa_id for m in list(self.stand_in.inbound)}
            | {r.to for r in list(self.stand_in.rejected) if r.to}
            | self._numbers
        )
        try:
            wa_id = new_whatsapp_number(taken, self._rng)
        except ValueError as exc:
            raise NotReady(str(exc)) from None
        with self._lock:
            self.name = new_resident_name(len(self._numbers) - 1)
            self.wa_id = wa_id
            self._numbers.add(wa_id)
            self._hidden_sent = self._hidden_refusals = 0
            self._messages.clear()
        return {"wa_id": self.wa_id, "name": self.name}

    def reset(self) -> dict[str, str]:
        """Clear the chat on the phone: what the business sent so far and the resident's messages leave the view."""
        with self._lock:
            self._hidden_sent = len(self.stand_in.sent_to(self.wa_id))
            self._hidden_refusals = len(self._refusals(self.wa_id))
            self._messages.clear()
        return {"wa_id": self.wa_id, "name": self.name}

    def _refusals(self, wa_id: str) -> list[Rejection]:
        return [r for r in list(self.stand_in.rejected) if r.to == wa_id]

    # --- what the resident does -------------------------------------------------------------

    async def send_text(self, text: str) -> ResidentMessage:
        if len(text) > MAX_TEXT:
            raise BadInput(f"text: at most {MAX_TEXT} characters, as in WhatsApp")
        return await self._deliver(ResidentMessage(self.stand_in.now(), "text", text), self._user.sends_text(text))

    async def share_location(self, latitude: float, longitude: float, name: str | None) -> ResidentMessage:
        message = ResidentMessage(self.stand_in.now(), "location", name or "", latitude=latitude, longitude=longitude)
        return await self._deliver(message, self._user.sends_location(latitude, longitude, name=name))

    async def send_image(self, content: bytes, mime_type: str, caption: str | None) -> ResidentMessage:
        message = ResidentMessage(self.stand_in.now(), "image", caption or "")
        sent = await self._deliver(message, self._user.sends_image(content, mime_type=mime_type, caption=caption))
        inbound = next((m for m in reversed(self.stand_in.inbound) if m.id == sent.id), None)
        if inbound is not None:
            sent.media_id = str(inbound.message.get("image", {}).get("id") or "") or None
        return sent

    async def tap_button(self, message_id: str, button_id: str) -> ResidentMessage:
        title = self._title_of(message_id, "button", button_id)
        message = ResidentMessage(self.stand_in.now(), "button_reply", title, on_message=message_id)
        return await self._deliver(message, self._user.taps_button(button_id, on=message_id))

    async def pick_list_row(self, message_id: str, row_id: str) -> ResidentMessage:
        title = self._title_of(message_id, "list", row_id)
        message = ResidentMessage(self.stand_in.now(), "list_reply", title, on_message=message_id)
        return await self._deliver(message, self._user.picks_list_row(row_id, on=message_id))

    async def tap_quick_reply(self, message_id: str, text: str) -> ResidentMessage:
        self._own(message_id)
        message = ResidentMessage(self.stand_in.now(), "quick_reply", text, on_message=message_id)
        return await self._deliver(message, self._user.taps_quick_reply(text, on=message_id))

    async def _deliver(self, message: ResidentMessage, webhook: Any) -> ResidentMessage:
        if not self.stand_in.callback_url:
            webhook.close()  # the coroutine never runs
            raise NotReady(
                "the sandbox has no app URL, so there is no WhatsApp webhook to call (start it with --app-url)"
            )
        try:
            delivery: WebhookDelivery = await webhook
        except (KeyError, ValueError) as exc:  # a tap on something the message does not have
            raise BadInput(str(exc).strip("'\"")) from None
        except httpx.HTTPError as exc:
            message.error = f"the app's webhook did not answer: {type(exc).__name__}"
            self._log(message)
            raise AppUnreachable(f"{message.error} ({self.stand_in.callback_url})") from None
        message.id, message.status = delivery.message_id, delivery.status_code
        self._log(message)
        return message

    def _log(self, message: ResidentMessage) -> None:
        with self._lock:
            self._messages.append(message)

    def _own(self, message_id: str) -> SentMessage:
        record = next((m for m in self.stand_in.sent_to(self.wa_id) if m.id == message_id), None)
        if record is None:
            raise BadInput(f"message_id: the business sent no message {message_id!r} to this phone")
        return record

    def _title_of(self, message_id: str, kind: str, choice_id: str) -> str:
        content = self._own(message_id).content
        if kind == "button":
            choices = [b.get("reply", {}) for b in content.get("action", {}).get("buttons", [])]
        else:
            choices = [r for s in content.get("action", {}).get("sections", []) for r in s.get("rows", [])]
        chosen = next((c for c in choices if isinstance(c, dict) and c.get("id") == choice_id), None)
        if chosen is None:
            raise BadInput(f"id: message {message_id} has no {kind} choice {choice_id!r}")
        return str(chosen.get("title", ""))

    # --- what the page shows -------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            wa_id, name, mine = self.wa_id, self.name, list(self._messages)
            hidden_sent, hidden_refusals = self._hidden_sent, self._hidden_refusals
        # Both records only grow, so what Reset hid is a prefix of each.
        sent = self.stand_in.sent_to(wa_id)[hidden_sent:]
        timeline = [_business_bubble(m, self.stand_in) for m in sent]
        timeline += [
            {
                "from": "resident",
                **asdict(m),
                "image_url": f"/_console/api/whatsapp/media/{m.media_id}" if m.media_id else None,
            }
            for m in mine
        ]
        timeline += [
            {"from": "system", "at": r.at, "code": r.code, "text": r.details or f"error {r.code}"}
            for r in self._refusals(wa_id)[hidden_refusals:]
        ]
        timeline.sort(key=lambda item: item["at"])
        return {
            "wa_id": wa_id,
            "name": name,
            "business_number": self.stand_in.display_phone_number,
            "now": self.stand_in.now(),  # the clock of every "at" here (the stand-in's, which tests can move on)
            "webhook": self.stand_in.callback_url or "",
            "window_open": self.stand_in.window_open(wa_id),
            "timeline": timeline,
        }


def _business_bubble(message: SentMessage, stand_in: WhatsAppStandIn) -> dict[str, Any]:
    content = message.content
    bubble: dict[str, Any] = {
        "from": "business",
        "at": message.at,
        "id": message.id,
        "type": message.type,
        "text": message.text,
        "reply_to": message.reply_to,
    }
    if message.type == "interactive":
        kind = content.get("type")
        bubble["header"] = str((content.get("header") or {}).get("text") or "")
        bubble["footer"] = str((content.get("footer") or {}).get("text") or "")
        action = content.get("action") or {}
        if kind == "button":
            bubble["buttons"] = [
                {"id": b["reply"]["id"], "title": b["reply"]["title"]} for b in action.get("buttons", [])
            ]
        elif kind == "list":
            bubble["list"] = {
                "button": action.get("button", ""),
                "sections": [
                    {
                        "title": s.get("title", ""),
                        "rows": [
                            {"id": r["id"], "title": r["title"], "description": r.get("description", "")}
                            for r in s.get("rows", [])
                        ],
                    }
                    for s in action.get("sections", [])
                ],
            }
        elif kind == "location_request_message":
            bubble["location_request"] = True
    elif message.type == "template":
        template = stand_in.templates.get(str(content.get("name")))
        bubble["template"] = str(content.get("name"))
        bubble["quick_replies"] = list(template.quick_replies) if template else []
    elif message.type == "location":
        bubble["location"] = {k: content.get(k) for k in ("latitude", "longitude", "name", "address")}
    elif message.type == "image":
        media_id = content.get("id")
        bubble["image_url"] = f"/_console/api/whatsapp/media/{media_id}" if media_id else None
        bubble["image_link"] = content.get("link")
    return bubble
