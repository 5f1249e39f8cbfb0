"""A resident's WhatsApp phone in tests: what they do is a signed webhook from the stand-in, what the bot sent is read back from it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from sandbox.whatsapp import SentMessage, WhatsAppStandIn
from sandbox.whatsapp_webhooks import WebhookDelivery

MORE = "page:"  # the row that shows the next page of a long list


class WhatsAppPhone:
    def __init__(self, wa: WhatsAppStandIn, wa_id: str, name: str = "Resident") -> None:
        self.wa = wa
        self.wa_id = wa_id
        self.user = wa.user(wa_id, name)

    # --- doing ------------------------------------------------------------------------

    async def send(self, text: str, *, reply_to: str | None = None) -> WebhookDelivery:
        return self._ok(await self.user.sends_text(text, reply_to=reply_to))

    async def share_location(self, lat: float, lon: float, **named: str) -> WebhookDelivery:
        return self._ok(await self.user.sends_location(lat, lon, **named))

    async def send_image(self, content: bytes, *, caption: str | None = None) -> WebhookDelivery:
        return self._ok(await self.user.sends_image(content, caption=caption))

    async def tap(self, label: str) -> WebhookDelivery:
        """Tap the newest reply button or list row whose title contains ``label``, paging through a long list as a person would."""
        for record in reversed(self.messages()):
            if record.type != "interactive":
                continue
            for _ in range(10):
                found = _choice(record, label)
                if found is not None:
                    kind, choice_id = found
                    if kind == "button":
                        return self._ok(await self.user.taps_button(choice_id, on=record.id))
                    return self._ok(await self.user.picks_list_row(choice_id, on=record.id))
                more = next((row["id"] for row in _rows(record) if row["id"].startswith(MORE)), None)
                if more is None:
                    break
                self._ok(await self.user.picks_list_row(more, on=record.id))
                record = self.last()
        raise AssertionError(f"no choice {label!r} on the screen; the chat shows:\n{self.transcript()}")

    async def quick_reply(self, label: str) -> WebhookDelivery:
        """Tap a quick-reply button on the newest template message."""
        template = next(m for m in reversed(self.messages()) if m.type == "template")
        return self._ok(await self.user.taps_quick_reply(label, on=template.id))

    # --- seeing -----------------------------------------------------------------------

    def messages(self) -> list[SentMessage]:
        return self.wa.sent_to(self.wa_id)

    def last(self) -> SentMessage:
        return self.messages()[-1]

    def texts(self) -> list[str]:
        return [m.text for m in self.messages()]

    def transcript(self) -> str:
        return "\n---\n".join(self.texts()[-6:])

    async def wait_for(self, check: Callable[[], Any], timeout: float = 20) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = check()
            if found:
                return found
            await asyncio.sleep(0.05)
        raise AssertionError(f"gave up waiting; the chat shows:\n{self.transcript()}")

    async def wait_for_text(self, fragment: str, timeout: float = 20) -> SentMessage:
        return await self.wait_for(
            lambda: next((m for m in reversed(self.messages()) if fragment in m.text), None), timeout
        )

    @staticmethod
    def _ok(delivery: WebhookDelivery) -> WebhookDelivery:
        assert delivery.status_code == 200, delivery.response_text
        return delivery


def _rows(record: SentMessage) -> list[dict[str, str]]:
    return [row for section in record.content.get("action", {}).get("sections", []) for row in section.get("rows", [])]


def _choice(record: SentMessage, label: str) -> tuple[str, str] | None:
    for button in record.content.get("action", {}).get("buttons", []):
        if label in button["reply"]["title"]:
            return "button", button["reply"]["id"]
    for row in _rows(record):
        if label in row["title"] and not row["id"].startswith(MORE):
            return "row", row["id"]
    return None
