"""The WhatsApp ``ChannelAdapter``: alerts and officers' replies to residents, through the Cloud API.

Inside the 24-hour window an alert is free-form text with an "I have
information" reply button; outside it, the approved alert template (the
worker decides from the resident's last message, and marks the message
``template_only``). If Meta says the window has closed after all (131047),
the same alert goes again at once as the template.

An appeal's photo goes by its public address (Meta fetches it): as the header of the alert's reply-button message
when the alert fits one (1,024 characters), else as a picture before the text; outside the window, as the IMAGE
header of the ``<WHATSAPP_ALERT_TEMPLATE>_photo`` template. WhatsApp lets a business take back nothing it sent,
so a resolution asks people to delete the photo.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import ClassVar

import httpx

from bots.whatsapp.graph import PAIR_RATE, SPAM_RATE, THROUGHPUT, UNDELIVERABLE, WINDOW_CLOSED, CloudApi, GraphError
from bots.whatsapp.messages import (
    MAX_BODY,
    MAX_BUTTONS,
    buttons_message,
    image_message,
    template_message,
    text_message,
)
from core.channels import PUBLISHED_LIMITS, ChannelLimits
from core.model import Address, Channel
from core.outbound import DeliveryResult, OutboundMessage

logger = logging.getLogger("lookout.whatsapp")

# 130429 carries no Retry-After; Meta's throughput is counted per second, so a short pause of the channel clears it.
THROUGHPUT_PAUSE_S = 2.0
# Said under an alert too long for an interactive body (1,024 characters), which therefore has no button.
REPLY_TO_TIP = "Reply to this message to tell officers what you saw."


class WhatsAppAdapter:
    channel: ClassVar[Channel] = Channel.WHATSAPP
    limits: ClassVar[ChannelLimits] = PUBLISHED_LIMITS[Channel.WHATSAPP]

    def __init__(self, api: CloudApi) -> None:
        self.api = api

    async def send(self, to: Address, message: OutboundMessage) -> DeliveryResult:
        try:
            if message.template is not None and message.template_only:
                return DeliveryResult.sent(await self.api.send(to.id, template_message(message.template)))
            try:
                if message.photo_url and not _photo_in_header(message):
                    # Too long to go under the picture: the picture first, then the alert with its button.
                    await self.api.send(to.id, image_message(message.photo_url, reply_to=message.reply_to))
                wamid = await self.api.send(to.id, free_form(message))
            except GraphError as exc:
                if exc.code != WINDOW_CLOSED or message.template is None:
                    raise
                logger.info("the 24-hour window had closed; sending the alert as the template instead")
                wamid = await self.api.send(to.id, template_message(message.template))
            return DeliveryResult.sent(wamid)
        except GraphError as exc:
            return result_for(exc, self.limits)
        except httpx.HTTPError as exc:  # network trouble, timeouts
            return DeliveryResult.retry(f"{type(exc).__name__}: {exc}")

    async def aclose(self) -> None:
        await self.api.aclose()


def _photo_in_header(message: OutboundMessage) -> bool:
    """Whether an appeal goes as one message: its picture as the header of its reply-button message."""
    return bool(message.buttons) and len(message.buttons) <= MAX_BUTTONS and len(message.text) <= MAX_BODY


def free_form(message: OutboundMessage) -> dict:
    """Text with its buttons as reply buttons when they fit (an appeal's picture as their header); otherwise plain
    text that says how to answer."""
    buttons = message.buttons
    if _photo_in_header(message):
        return buttons_message(
            message.text,
            [(b.data, b.label) for b in buttons],
            reply_to=message.reply_to,
            header_image=message.photo_url,
        )
    text = message.text
    if any(b.data.startswith("tip:") for b in buttons):
        text = f"{text}\n\n{REPLY_TO_TIP}"  # replying to an alert starts a tip, button or not
    return text_message(text, reply_to=message.reply_to)


def result_for(error: GraphError, limits: ChannelLimits) -> DeliveryResult:
    """Meta's answer as the delivery engine understands it."""
    reason = error.describe()
    if error.code == THROUGHPUT:
        return DeliveryResult.retry(reason, after=THROUGHPUT_PAUSE_S)
    if error.code == PAIR_RATE:
        # One resident had too many messages in a short time: wait for them, keep sending to everyone else.
        return DeliveryResult.retry(reason, after=limits.per_chat_interval, pause_channel=False)
    if error.code == SPAM_RATE:
        # The messaging limit (people per rolling 24 hours): this resident waits for a place; others in their
        # service window may still be reached, so the channel keeps going.
        return replace(DeliveryResult.retry(reason, pause_channel=False), over_daily_limit=True)
    if error.code == UNDELIVERABLE:
        return DeliveryResult.permanent(reason, recipient_gone=True)
    if error.code == WINDOW_CLOSED:
        return DeliveryResult.permanent(
            f"{reason} (only an approved template may reach them, and this message has none)"
        )
    if error.transient:
        return DeliveryResult.retry(reason)
    return DeliveryResult.permanent(reason)
