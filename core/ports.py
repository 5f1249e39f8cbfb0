"""The storage the core needs, as protocols; ``storage/`` implements them.

Services open a unit of work, use its repositories, and commit once: a
service call is one transaction.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol

from core.geo.cells import Cover
from core.model import (
    Address,
    Alert,
    Audience,
    AuditEntry,
    Channel,
    DeliveryState,
    MessageKind,
    Resident,
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


class AlertRepository(Protocol):
    async def add(self, alert: Alert) -> Alert:
        """Store a new alert, giving it an id and a reference like ``A-2026-000123``."""

    async def get(self, alert_id: int) -> Alert | None: ...
    async def get_by_reference(self, reference: str) -> Alert | None: ...
    async def save(self, alert: Alert) -> None: ...
    async def recent(self, limit: int) -> list[Alert]: ...
    async def follow_ups(self, original_id: int) -> list[Alert]: ...
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


class AuditLog(Protocol):
    async def append(self, entry: AuditEntry) -> None: ...
    async def entries(self, subject: str | None = None, limit: int = 100) -> list[AuditEntry]: ...


class UnitOfWork(Protocol):
    residents: ResidentRepository
    alerts: AlertRepository
    outbox: Outbox
    audit: AuditLog

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Roll back anything not committed."""

    async def commit(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
