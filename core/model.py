"""The domain model: plain values and records, no framework in sight.

Storage maps these to and from rows; the bots build them from platform updates.
Times are always timezone-aware UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time
from enum import StrEnum
from typing import Any

from core.errors import InvalidInput
from core.geo.areas import Area
from core.origin import current_origin

MAX_PLACES_PER_RESIDENT = 5


class Channel(StrEnum):
    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"
    SLACK = "slack"
    EMAIL = "email"
    SMS = "sms"


RESIDENT_CHANNELS: tuple[Channel, ...] = (Channel.TELEGRAM, Channel.WHATSAPP, Channel.EMAIL, Channel.SMS)

_ADDRESS_ID = re.compile(r"^[A-Za-z0-9_.@+/\-]{1,200}$")


@dataclass(frozen=True, order=True)
class Address:
    """Where a message goes, as a value that round-trips through text.

    ``telegram:123456``, ``whatsapp:447700900123``, ``sms:+447700900123``, ``slack:C0123/1712345.000100``
    (a channel plus, for Slack, the thread to reply in).
    """

    channel: Channel
    id: str

    def __post_init__(self) -> None:
        if not _ADDRESS_ID.match(self.id):
            raise InvalidInput.one("address", f"'{self.id}' is not a valid {self.channel} address")

    def __str__(self) -> str:
        return f"{self.channel.value}:{self.id}"

    @classmethod
    def parse(cls, text: str) -> Address:
        channel, sep, ident = text.partition(":")
        if not sep:
            raise InvalidInput.one("address", f"'{text}' should look like 'telegram:123456'")
        try:
            kind = Channel(channel)
        except ValueError:
            raise InvalidInput.one("address", f"'{channel}' is not a channel Lookout knows") from None
        return cls(kind, ident)


class Audience(StrEnum):
    RESIDENTS = "residents"
    BUSINESSES = "businesses"
    BOTH = "both"

    @property
    def includes_residents(self) -> bool:
        return self in (Audience.RESIDENTS, Audience.BOTH)

    @property
    def includes_businesses(self) -> bool:
        return self in (Audience.BUSINESSES, Audience.BOTH)


# CAP 1.2 vocabularies (OASIS), spelled as CAP spells them.
class Urgency(StrEnum):
    IMMEDIATE = "Immediate"
    EXPECTED = "Expected"
    FUTURE = "Future"
    PAST = "Past"
    UNKNOWN = "Unknown"


class Severity(StrEnum):
    EXTREME = "Extreme"
    SEVERE = "Severe"
    MODERATE = "Moderate"
    MINOR = "Minor"
    UNKNOWN = "Unknown"


class Certainty(StrEnum):
    OBSERVED = "Observed"
    LIKELY = "Likely"
    POSSIBLE = "Possible"
    UNLIKELY = "Unlikely"
    UNKNOWN = "Unknown"


class AlertStatus(StrEnum):
    """CAP ``status``: a real alert, or practice that only testers receive."""

    ACTUAL = "Actual"
    EXERCISE = "Exercise"
    TEST = "Test"


class AlertType(StrEnum):
    """CAP ``msgType``."""

    ALERT = "Alert"
    UPDATE = "Update"
    CANCEL = "Cancel"
    # Lookout's own: "Resolved" (a person found safe, a suspect arrested). CAP has no such msgType, so CAP shows it as an Update.
    RESOLVED = "Resolved"


class AlertState(StrEnum):
    """Where an alert is in its life (Lookout's own, not CAP's)."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"  # approved to go at send_at; the scheduler sends it
    MISSED = "missed"  # its send_at passed while Lookout was down for too long; officers must decide
    SENDING = "sending"
    SENT = "sent"
    CANCELLED = "cancelled"
    RESOLVED = "resolved"  # over (found safe, say): nothing more goes out, the photo is withdrawn
    EXPIRED = "expired"
    DISCARDED = "discarded"


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    DEAD = "dead"
    SKIPPED = "skipped"


class TipState(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    ACTIONED = "actioned"
    SPAM = "spam"


class MessageKind(StrEnum):
    """What an outbox message carries; each has its own rendering."""

    ALERT = "alert"
    ALERT_UPDATE = "alert_update"
    ALERT_CANCEL = "alert_cancel"
    ALERT_RESOLVED = "alert_resolved"  # "Resolved": to everyone reached; withdraws the photo
    TIP_TO_OFFICERS = "tip_to_officers"
    REPLY_TO_TIPSTER = "reply_to_tipster"
    TIPS_THREAD = "tips_thread"  # the root message a thread of tips hangs from
    TIP_FOLLOW_UP = "tip_follow_up"  # the tipster's answer to an officer, into the tip's thread
    OFFICER_NOTICE = (
        "officer_notice"  # a note for officers (e.g. supervisors told of a cancellation); its text is the body
    )
    TIP_REDACTION = (
        "tip_redaction"  # a tip's post rewritten in place (the tipster erased their data); its text is the body
    )
    TIP_SEEN = "tip_seen"  # the tipster told, once, that an officer has seen their tip (never which officer)


@dataclass(frozen=True)
class QuietHours:
    """A daily window (local time of the force) when non-urgent alerts wait."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end  # spans midnight


@dataclass
class Place:
    """A place a resident cares about, stored only as its H3 cell."""

    label: str
    cell: str
    id: int | None = None


@dataclass
class Resident:
    address: Address
    language: str = "en"
    age_confirmed: bool = False
    sector: str | None = None
    topics: frozenset[str] = frozenset()
    places: list[Place] = field(default_factory=list)
    paused_until: datetime | None = None
    quiet_hours: QuietHours | None = None
    active: bool = True
    is_tester: bool = False
    tips_blocked: bool = False
    erased_at: datetime | None = None
    last_inbound_at: datetime | None = None
    created_at: datetime | None = None
    id: int | None = None

    @property
    def is_business(self) -> bool:
        return self.sector is not None


@dataclass
class Alert:
    incident_number: str
    headline: str
    message: str
    contact: str
    area: Area
    area_description: str
    topics: tuple[str, ...]
    sectors: tuple[str, ...]
    audience: Audience
    author: str
    everyone: bool = False  # for every resident in the area whatever their topics (then ``topics`` is empty)
    urgency: Urgency = Urgency.IMMEDIATE
    severity: Severity = Severity.MODERATE
    certainty: Certainty = Certainty.LIKELY
    status: AlertStatus = AlertStatus.ACTUAL
    type: AlertType = AlertType.ALERT
    state: AlertState = AlertState.DRAFT
    original_id: int | None = None
    approver: str | None = None
    created_at: datetime | None = None
    approved_at: datetime | None = None
    sent_at: datetime | None = None
    send_at: datetime | None = None
    expires_at: datetime | None = None
    cancelled_at: datetime | None = None
    message_id: int | None = None
    reference: str | None = None
    id: int | None = None


@dataclass(frozen=True)
class AlertPhoto:
    """The photo of an appeal (a missing person, a wanted vehicle), already checked and re-encoded as JPEG
    without its metadata. ``token`` makes its public address unguessable; ``data`` is None once purged."""

    data: bytes | None
    width: int
    height: int
    size: int
    sha256: str  # hex digest of the JPEG
    content_type: str = "image/jpeg"
    token: str = ""
    alert_id: int | None = None
    created_at: datetime | None = None
    withdrawn_at: datetime | None = None  # the alert was resolved: no longer served
    purged_at: datetime | None = None


@dataclass
class Tip:
    resident_id: int | None  # None once the tipster erased their data (the tip stays: it is evidence)
    text: str
    alert_id: int | None = None
    media: tuple[str, ...] = ()
    lat: float | None = None
    lon: float | None = None
    anonymous: bool = True
    contact: str | None = None  # how officers may reach the tipster; only when not anonymous
    tipster: str | None = (
        None  # the pseudonym officers see (core/pseudonyms.py); never shared between anonymous and named tips
    )
    state: TipState = TipState.NEW
    thread_key: str | None = None
    created_at: datetime | None = None
    reference: str | None = None
    id: int | None = None


@dataclass(frozen=True)
class TipPhoto:
    """A photo sent with a tip, as bytes (downloaded from the platform when the tip arrives)."""

    name: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class TipNote:
    """One message in the conversation on a tip: an officer's reply or the tipster's answer."""

    tip_id: int
    author: str  # TIPSTER or the officer's id
    text: str
    created_at: datetime
    id: int | None = None


TIPSTER = "tipster"


@dataclass
class Delivery:
    message_id: int
    address: Address
    state: DeliveryState = DeliveryState.PENDING
    resident_id: int | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None
    lease_until: datetime | None = None
    provider_message_id: str | None = None
    last_error: str | None = None
    id: int | None = None


class ReceiptStatus(StrEnum):
    """What a platform reported about a message after accepting it (WhatsApp status webhooks)."""

    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


@dataclass(frozen=True)
class Receipt:
    """A platform's report on a message it accepted, matched to its delivery by address and provider id."""

    address: Address
    provider_message_id: str
    status: ReceiptStatus
    at: datetime
    error: str | None = None  # why it failed, as the platform said it
    recipient_gone: bool = False  # the number can no longer be reached: stop messaging them
    # Only an approved template reaches them now (WhatsApp's 24-hour window had closed): alerts go again as one.
    window_closed: bool = False


@dataclass(frozen=True)
class AuditEntry:
    """One officer action. ``detail`` holds facts (counts, references), never a
    resident's personal data, so erasure never has to rewrite the log."""

    actor: str
    action: str
    subject: str
    detail: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None
    id: int | None = None
    source: str = field(default_factory=current_origin)  # the door it came through: slack, cli, web, …
