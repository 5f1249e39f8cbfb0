"""The storage the core needs, as protocols; ``storage/`` implements them.

Services open a unit of work, use its repositories, and commit once: a
service call is one transaction.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Protocol

from core.geo.cells import Cover
from core.model import (
    Address,
    Alert,
    AlertState,
    Audience,
    AuditEntry,
    Channel,
    DeliveryState,
    MessageKind,
    QuietHours,
    Resident,
    Tip,
    Urgency,
)


@dataclass(frozen=True)
class RecipientCriteria:
    """Who an alert is for: the area's cover plus the alert's filters.

    A resident matches when one of their places lies in the cover, they are
    active, not erased and not paused at ``at``, testers only for practice
    alerts, and:
    - as a resident (no sector): subscribed to ``all`` or to one of ``topics``;
    - as a business (a sector): their sector is in ``sectors``, or, when the
      alert names no sectors, subscribed as above.
    """

    cover: Cover
    topics: tuple[str, ...]
    sectors: tuple[str, ...]
    audience: Audience
    testers_only: bool
    at: datetime


ChannelCounts = dict[Channel, int]


class ResidentRepository(Protocol):
    async def add(self, resident: Resident) -> Resident: ...
    async def get(self, resident_id: int) -> Resident | None: ...
    async def get_by_address(self, address: Address) -> Resident | None: ...
    async def save(self, resident: Resident) -> None: ...
    async def tips_of(self, resident_id: int) -> list[Tip]: ...
    async def messages_received(self, resident_id: int) -> int: ...

    async def erase(self, resident_id: int) -> None:
        """Delete the resident and everything about them: places, topics, tips, delivery rows."""


class AlertRepository(Protocol):
    async def add(self, alert: Alert) -> Alert:
        """Store a new alert, giving it an id and a reference like ``A-2026-000123``."""

    async def get(self, alert_id: int) -> Alert | None: ...
    async def get_by_reference(self, reference: str) -> Alert | None: ...
    async def save(self, alert: Alert) -> None: ...
    async def recent(self, limit: int) -> list[Alert]: ...
    async def follow_ups(self, original_id: int) -> list[Alert]: ...
    async def due_to_send(self, now: datetime) -> list[Alert]:
        """Scheduled alerts whose send_at has come (locked for this transaction)."""

    async def due_to_expire(self, now: datetime) -> list[Alert]: ...


class Outbox(Protocol):
    """Outbound messages and their delivery rows."""

    async def new_message(self, kind: MessageKind, *, alert_id: int | None = None, tip_id: int | None = None) -> int: ...

    async def count_recipients(self, criteria: RecipientCriteria) -> ChannelCounts: ...

    async def queue_for_recipients(self, message_id: int, criteria: RecipientCriteria, now: datetime) -> ChannelCounts:
        """One pending delivery per matching resident; returns rows written per channel."""

    async def queue_copy(
        self, message_id: int, from_message_ids: Sequence[int], states: Sequence[DeliveryState], now: datetime
    ) -> ChannelCounts:
        """One pending delivery per address that has a delivery of ``from_message_ids`` in ``states``."""

    async def skip_unsent(self, message_ids: Sequence[int], reason: str, now: datetime) -> int:
        """Mark pending and retryable-failed deliveries of ``message_ids`` skipped."""

    async def progress(self, message_id: int) -> dict[Channel, dict[DeliveryState, int]]: ...


@dataclass(frozen=True)
class ClaimedDelivery:
    """A delivery row leased to this worker, with what is needed to decide and render it.

    Resident and alert state are read at claim time, so a pause, an erasure or
    a cancellation that happened after the alert was sent is honoured.
    """

    id: int
    message_id: int
    kind: MessageKind
    address: Address
    attempts: int
    alert_id: int | None
    alert_state: AlertState | None
    alert_expires_at: datetime | None
    urgency: Urgency | None
    reply_to: str | None  # the provider id of the original alert sent to this address
    resident_id: int | None
    lease_until: datetime | None = None
    resident_active: bool = True
    resident_erased: bool = False
    paused_until: datetime | None = None
    quiet_hours: QuietHours | None = None


@dataclass(frozen=True)
class Outcome:
    """What to write back for one claimed row."""

    delivery_id: int
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime | None = None
    provider_message_id: str | None = None
    error: str | None = None
    deactivate_resident: int | None = None


class DeliveryQueue(Protocol):
    async def claim(self, channel: Channel, limit: int, now: datetime, lease_until: datetime) -> list[ClaimedDelivery]:
        """Lease up to ``limit`` due rows of ``channel`` (pending/failed and due, or sending with an expired lease)."""

    async def record(self, outcomes: Sequence[Outcome], now: datetime) -> None: ...

    async def release(self, delivery_ids: Sequence[int], now: datetime) -> None:
        """Give leased rows back unsent (a worker stopping)."""

    async def release_expired_leases(self, now: datetime) -> int: ...

    async def finish_alerts(self, message_ids: Sequence[int], now: datetime) -> int:
        """Mark alerts ``sent`` whose deliveries are all done; returns how many changed."""

    async def quiet_holds(self) -> list[tuple[int, QuietHours | None]]:
        """Residents with deliveries held for quiet hours, and their quiet hours now."""

    async def release_holds(self, resident_ids: Sequence[int], now: datetime) -> int:
        """Make those residents' held deliveries due now."""


class InboundLog(Protocol):
    """Which inbound updates (Telegram update_id, WhatsApp wamid, …) were seen, so each is handled once."""

    async def begin(self, source: str, update_id: str, now: datetime, stale_after: timedelta) -> bool:
        """True if this update should be handled now: never seen, or seen but left
        unfinished for longer than ``stale_after`` (the process handling it died)."""

    async def finish(self, source: str, update_id: str, now: datetime) -> None: ...

    async def forget(self, source: str, update_id: str) -> None:
        """Handling failed: let the platform's retry handle it again."""


class Retention(Protocol):
    async def purge_deliveries(self, finished_before: datetime) -> int:
        """Delete finished (sent, dead, skipped) delivery rows last touched before the cut-off."""

    async def purge_tips(self, created_before: datetime) -> int: ...

    async def purge_inbound(self, received_before: datetime) -> int: ...


class AuditLog(Protocol):
    async def append(self, entry: AuditEntry) -> None: ...
    async def entries(self, subject: str | None = None, limit: int = 100) -> list[AuditEntry]: ...


class UnitOfWork(Protocol):
    residents: ResidentRepository
    alerts: AlertRepository
    outbox: Outbox
    deliveries: DeliveryQueue
    retention: Retention
    inbound: InboundLog
    audit: AuditLog

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Roll back anything not committed."""

    async def commit(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
