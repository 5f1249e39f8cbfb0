"""The SMS ``ChannelAdapter``: alerts and officers' replies to residents, as texts through Twilio's Messages resource.

An alert arrives as labelled parts and is cut here to the force's segment
budget (``SMS_MAX_SEGMENTS``, core/sms_alerts.py), with a link to its public
page when it had to be shortened. Twilio's answers become what the delivery
engine understands (docs/sms.md, "Delivery").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import ClassVar

import httpx

from bots.sms.twilio_api import GONE_CODES, UNREACHABLE_CODES, TwilioApi, TwilioError
from core.channels import PUBLISHED_LIMITS, ChannelLimits
from core.model import Address, Channel
from core.outbound import DeliveryResult, OutboundMessage
from core.sms_alerts import alert_sms
from core.sms_segments import gsm_friendly

logger = logging.getLogger("lookout.sms")

# Twilio's request limit (429 / 20429) carries no Retry-After worth trusting: a short pause of the channel clears it.
TOO_MANY_PAUSE_S = 1.0

AlertLink = Callable[[str], str | None]  # an alert's reference → its public page, or None (no public URL)


class SmsAdapter:
    channel: ClassVar[Channel] = Channel.SMS
    limits: ClassVar[ChannelLimits] = PUBLISHED_LIMITS[Channel.SMS]

    def __init__(self, api: TwilioApi, *, force_name: str, max_segments: int, alert_link: AlertLink) -> None:
        self.api = api
        self.force_name = force_name
        self.max_segments = max_segments
        self._alert_link = alert_link

    def text_of(self, message: OutboundMessage) -> str:
        """What the resident's phone shows: an alert cut to the segment budget, anything else as rendered."""
        parts = message.parts
        if parts is None:
            return gsm_friendly(message.text)
        link = self._alert_link(parts.reference) if parts.reference else None
        return alert_sms(parts, self.force_name, self.max_segments, link=link, photo=message.photo_url is not None)

    async def send(self, to: Address, message: OutboundMessage) -> DeliveryResult:
        try:
            sent = await self.api.send(to.id, self.text_of(message))
        except TwilioError as exc:
            return result_for(exc)
        except httpx.HTTPError as exc:  # network trouble, timeouts
            return DeliveryResult.retry(f"{type(exc).__name__}: {exc}")
        return DeliveryResult.sent(sent.sid)

    async def aclose(self) -> None:
        await self.api.aclose()


def result_for(error: TwilioError) -> DeliveryResult:
    """Twilio's refusal as the delivery engine understands it."""
    reason = error.describe()
    if error.http_status == 429 or error.code == 20429:
        return DeliveryResult.retry(reason, after=TOO_MANY_PAUSE_S)
    if error.code in GONE_CODES:
        return DeliveryResult.permanent(reason, recipient_gone=True)
    if error.code in UNREACHABLE_CODES:
        # The handset may come back: this resident waits for the retries, everyone else keeps getting theirs.
        return DeliveryResult.retry(reason, pause_channel=False)
    if error.transient:
        return DeliveryResult.retry(reason)
    return DeliveryResult.permanent(reason)
