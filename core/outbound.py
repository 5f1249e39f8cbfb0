"""The seam between the core and a platform: what goes out, and what came back.

``ChannelAdapter`` is the one protocol every platform implements (Telegram,
WhatsApp, Slack, …). Adapters hold their SDK client; they never decide policy:
retries, rate limits and skipping live in the delivery engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

from core.channels import ChannelLimits
from core.model import Address, Channel


@dataclass(frozen=True)
class Button:
    """A tappable choice. ``data`` comes back to the bot when it is pressed
    (≤ 64 bytes, Telegram's callback_data limit, the strictest)."""

    label: str
    data: str
    # Shown beside the button before it, where the platform lays buttons out in rows (a pair of answers).
    beside: bool = False

    def __post_init__(self) -> None:
        if len(self.data.encode()) > 64:
            raise ValueError(f"button data {self.data!r} is over 64 bytes")


@dataclass(frozen=True)
class TemplateCall:
    """A pre-approved message template (WhatsApp outside the 24-hour window)."""

    name: str
    language: str
    parameters: tuple[str, ...]
    quick_replies: tuple[Button, ...] = ()
    header_image: str | None = None  # a template with an IMAGE header: the picture's public address


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message (a tip's photo into the officers' thread)."""

    name: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class MessageParts:
    """A message as labelled parts, for a channel that lays a message out itself (email: a subject line,
    the incident number and contact up top, then the text, then links it makes for each recipient).

    Plain text throughout, nothing escaped: the channel escapes for its own markup. Platform-neutral, so
    the core says *what* a message holds and never how an email looks.
    """

    subject: str  # one line
    heading: str  # what kind of message: "Police alert", "Update", "Cancelled", "Reply from …"
    body: str  # what the officer wrote
    status: str = ""  # "EXERCISE" or "TEST" for practice alerts; empty for real ones
    headline: str | None = None
    incident_number: str | None = None
    contact: str | None = None
    area: str | None = None
    reference: str | None = None  # the alert's or the tip's reference (A-2026-000123, T-2026-000045)
    # The (original) alert a "reply with information" link answers; None: the message offers no such link.
    tip_alert_id: int | None = None
    # The alert a "Useful / Not useful" pair of links answers; None: the message asks for no feedback.
    feedback_alert_id: int | None = None
    closing: str | None = None  # a last line: how to answer, or what to do now


@dataclass(frozen=True)
class OutboundMessage:
    """A message already rendered for its channel (markup escaped, length checked)."""

    text: str
    buttons: tuple[Button, ...] = ()
    reply_to: str | None = None  # provider message id (Telegram/WhatsApp) or thread ts (Slack)
    # WhatsApp: the approved template that says the same, for residents outside the 24-hour window.
    template: TemplateCall | None = None
    template_only: bool = False  # the window is known to be closed: send the template, not the text
    image_url: str | None = None
    urgent: bool = False
    attachments: tuple[Attachment, ...] = ()
    # A cancellation: the new text for the original message (``reply_to``), on platforms that can edit.
    edit_original: str | None = None
    # The same message as labelled parts, for channels that lay it out themselves (email); ``text`` stays its plain form.
    parts: MessageParts | None = None
    # Rewrite the message the address points at (Slack ``slack:<channel>/<ts>``: chat.update) instead of posting.
    in_place: bool = False
    # Telegram: send beyond the free broadcast rate, for Stars (TELEGRAM_PAID_BROADCAST; urgent alerts only).
    paid_broadcast: bool = False
    # An appeal's photo (a JPEG), and its public address where Lookout has one (LOOKOUT_PUBLIC_URL).
    photo: Attachment | None = None
    photo_url: str | None = None
    # A resolution: take back the photo of the original (``reply_to``) where the platform allows,
    # leaving this text in its place; ``delete_photo`` when the photo is young enough to delete (Telegram: 48 h).
    withdraw_photo: str | None = None
    delete_photo: bool = False


@dataclass(frozen=True)
class DeliveryResult:
    """What the platform said. Exactly one of: ok, retryable, or permanent."""

    ok: bool
    provider_message_id: str | None = None
    retryable: bool = False
    retry_after: float | None = None  # seconds the platform asked us to wait (429)
    permanent_reason: str | None = None
    recipient_gone: bool = False  # blocked the bot / number gone: stop messaging them
    error: str | None = None
    # False when the wait is for this recipient only (WhatsApp's pair rate): the channel keeps sending to others.
    pause_channel: bool = True
    # The platform refused a paid send for want of balance: send again at the free rate.
    paid_refused: bool = False
    # Refused for the platform's allowance of people per rolling 24 hours (WhatsApp's messaging limit):
    # hold the row for a place, not a failure.
    over_daily_limit: bool = False

    @classmethod
    def sent(cls, provider_message_id: str | None) -> DeliveryResult:
        return cls(ok=True, provider_message_id=provider_message_id)

    @classmethod
    def retry(cls, error: str, *, after: float | None = None, pause_channel: bool = True) -> DeliveryResult:
        return cls(ok=False, retryable=True, retry_after=after, error=error, pause_channel=pause_channel)

    @classmethod
    def permanent(cls, reason: str, *, recipient_gone: bool = False) -> DeliveryResult:
        return cls(ok=False, permanent_reason=reason, recipient_gone=recipient_gone, error=reason)


class ChannelAdapter(Protocol):
    channel: ClassVar[Channel]

    @property
    def limits(self) -> ChannelLimits:
        """The pace the worker keeps to: the platform's published limits (a class variable) or, where they are the
        deployment's own (the email relay), the instance's."""
        ...

    async def send(self, to: Address, message: OutboundMessage) -> DeliveryResult: ...

    async def aclose(self) -> None: ...
