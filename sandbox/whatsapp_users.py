"""Simulated WhatsApp users: residents' phones, each action the signed webhook Meta would send the app.

A ``SimulatedUser`` writes, shares a location or a photo, taps a reply button,
picks a list row or taps a template's quick reply; taps must match a button the
app's message really had, as on a phone. ``act_as_user`` plays one such action
from JSON, for the stand-in's ``/_sandbox/users/{wa_id}/messages`` route (the
browser console, or a test in another process).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sandbox.whatsapp_payloads import quick_reply_payloads
from sandbox.whatsapp_webhooks import WebhookDelivery

if TYPE_CHECKING:  # the stand-in hands out its users, so it imports this module
    from sandbox.whatsapp import SentMessage, WhatsAppStandIn


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
        return await self._tap(
            on, {"type": "button_reply", "button_reply": {"id": reply["id"], "title": reply["title"]}}
        )

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
        payload = quick_reply_payloads(record.content.get("components") or []).get(index, text)
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


async def act_as_user(user: SimulatedUser, data: Mapping[str, Any]) -> WebhookDelivery:
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
