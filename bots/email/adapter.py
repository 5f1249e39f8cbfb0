"""The email ``ChannelAdapter``: alerts, updates, cancellations and officers' replies, through the force's SMTP relay.

What the relay says becomes what the delivery engine understands:

- accepted → sent, with the email's Message-ID as the provider id (updates then thread under it);
- 4xx, or the relay unreachable → retry with backoff (greylisting, a full queue, a restart);
- 5xx for this recipient or message (RCPT, DATA) → this email is dead, and the address's
  bounce count goes up; at ``LOOKOUT_EMAIL_BOUNCE_LIMIT`` in a row the recipient is gone, and
  the engine makes the resident inactive exactly as for a Telegram user who blocked the bot;
- 5xx for us (login, sender address) → retry: every email would fail alike until the
  configuration is fixed, and no resident's address is to blame.

The pace is the relay's allowance (``LOOKOUT_EMAIL_PER_SECOND``), enforced by the engine's pacer.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import ClassVar

from bots.email.links import LinkSigner
from bots.email.mailer import Mailer, MailError
from bots.email.messages import email_for
from core.channels import PUBLISHED_LIMITS, ChannelLimits
from core.model import Address, Channel
from core.outbound import DeliveryResult, OutboundMessage
from core.ports import BounceCounts

logger = logging.getLogger("lookout.email")

MAX_PROVIDER_ID = 128  # deliveries.provider_message_id


class EmailAdapter:
    channel: ClassVar[Channel] = Channel.EMAIL
    # Per deployment, not per class: the relay's allowance. The worker reads ``adapter.limits``.
    limits: ChannelLimits

    def __init__(
        self,
        mailer: Mailer,
        links: LinkSigner,
        bounces: BounceCounts,
        *,
        sender: str,
        force_name: str,
        per_second: float,
        bounce_limit: int,
    ) -> None:
        self.mailer = mailer
        self.links = links
        self.limits = replace(PUBLISHED_LIMITS[Channel.EMAIL], messages_per_second=per_second)
        self._bounces = bounces
        self._sender = sender
        self._force_name = force_name
        self._bounce_limit = bounce_limit

    async def send(self, to: Address, message: OutboundMessage) -> DeliveryResult:
        email = email_for(message, to.id, sender=self._sender, force_name=self._force_name, links=self.links)
        try:
            await self.mailer.send(email)
        except MailError as error:
            return await self._refused(to, error)
        try:
            await self._bounces.delivered(to)
        except Exception:  # the email has gone: a failure to reset the count must not send it again
            logger.exception("could not reset the bounce count of an email address")
        message_id = str(email["Message-ID"] or "")
        return DeliveryResult.sent(message_id if 0 < len(message_id) <= MAX_PROVIDER_ID else None)

    async def _refused(self, to: Address, error: MailError) -> DeliveryResult:
        reason = f"SMTP {error.code}: {error}" if error.code else str(error)
        if not error.permanent:
            return DeliveryResult.retry(reason)
        if not error.about_recipient:
            logger.error("the mail relay refused us (check LOOKOUT_SMTP_URL and LOOKOUT_EMAIL_FROM): %s", reason)
            return DeliveryResult.retry(f"the relay refused the sender: {reason}")
        try:
            count = await self._bounces.bounced(to)
        except Exception:  # still refused for good; the count catches up on the next bounce
            logger.exception("could not count a bounce")
            return DeliveryResult.permanent(reason)
        gone = count >= self._bounce_limit
        return DeliveryResult.permanent(
            f"{reason} (bounce {count} of {self._bounce_limit} in a row)", recipient_gone=gone
        )

    async def aclose(self) -> None:
        await self.mailer.aclose()
