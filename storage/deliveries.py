"""The delivery queue: leasing due rows to workers and writing back what happened.

PostgreSQL: ``FOR UPDATE SKIP LOCKED`` lets several workers claim side by side
without waiting on or double-taking each other's rows. SQLite: the claim runs
under ``BEGIN IMMEDIATE`` (one writer at a time), which gives the same
guarantee for the single worker SQLite supports.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta

from sqlalchemy import and_, bindparam, exists, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from core.delivery.holds import QUIET_HOLD
from core.model import (
    Address,
    AlertState,
    Channel,
    DeliveryState,
    MessageKind,
    QuietHours,
    Urgency,
)
from core.ports import ClaimedDelivery, Outcome
from storage.database import database_after, database_now
from storage.tables import OPEN_DELIVERY_STATES, alerts, deliveries, messages, residents, tip_threads
from storage.types import UTCDateTime

_DUE_STATES = (DeliveryState.PENDING.value, DeliveryState.FAILED.value)
_OPEN_STATES = (DeliveryState.PENDING.value, DeliveryState.SENDING.value, DeliveryState.FAILED.value)


class SqlDeliveryQueue:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def claim(
        self, channel: Channel, limit: int, now: datetime, lease: timedelta, *, more_urgent_than: int | None = None
    ) -> list[ClaimedDelivery]:
        d = deliveries
        dialect = self._conn.dialect.name
        due = or_(
            and_(d.c.state.in_(_DUE_STATES), d.c.next_attempt_at <= now),
            # A dead worker's lease, ended by the database's clock (as it was begun): no machine's clock is asked.
            and_(d.c.state == DeliveryState.SENDING.value, d.c.lease_until < database_now(dialect)),
        )
        # Urgent first, then each row's turn (nearest first, alerts of one priority taking turns), from
        # the partial index of open rows: the condition below is the index's own, so both databases use it.
        pick = (
            select(d.c.id)
            .where(d.c.channel == channel.value, text(OPEN_DELIVERY_STATES), due)
            .order_by(d.c.priority, d.c.turn)
            .limit(limit)
        )
        if more_urgent_than is not None:
            pick = pick.where(d.c.priority < more_urgent_than)
        if self._conn.dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        claimed = await self._conn.execute(
            update(d)
            .where(d.c.id.in_(pick.scalar_subquery()))
            .values(state=DeliveryState.SENDING.value, lease_until=database_after(dialect, lease), updated_at=now)
            .returning(d.c.id)
        )
        ids = list(claimed.scalars())
        return await self._context(ids) if ids else []

    async def _context(self, ids: list[int]) -> list[ClaimedDelivery]:
        d, m, a, r = deliveries, messages, alerts, residents
        original, first = aliased(alerts), aliased(deliveries)
        reply_to = (
            select(first.c.provider_message_id)
            .select_from(first.join(original, original.c.message_id == first.c.message_id))
            .where(original.c.id == a.c.original_id, first.c.address == d.c.address)
            .limit(1)
            .scalar_subquery()
        )
        # Tips hang from their thread's root message in the same channel.
        root = aliased(deliveries)
        root_of_thread = (
            select(root.c.provider_message_id, root.c.state)
            .select_from(tip_threads.join(root, root.c.message_id == tip_threads.c.message_id))
            .where(tip_threads.c.key == m.c.thread_key, root.c.address == d.c.address, root.c.message_id != m.c.id)
        )
        thread_ts = root_of_thread.with_only_columns(root.c.provider_message_id).limit(1).scalar_subquery()
        thread_open = exists(root_of_thread.where(root.c.state.in_(_OPEN_STATES)))
        rows = await self._conn.execute(
            select(
                d.c.id,
                d.c.message_id,
                d.c.address,
                d.c.attempts,
                d.c.resident_id,
                d.c.lease_until,
                d.c.priority,
                d.c.turn,
                m.c.kind,
                m.c.alert_id,
                m.c.tip_id,
                m.c.note_id,
                m.c.thread_key,
                a.c.state.label("alert_state"),
                a.c.expires_at,
                a.c.urgency,
                func.coalesce(reply_to, thread_ts).label("reply_to"),
                thread_open.label("thread_open"),
                r.c.active,
                r.c.erased_at,
                r.c.paused_until,
                r.c.quiet_start,
                r.c.quiet_end,
                r.c.last_inbound_at,
            )
            .select_from(
                d.join(m, m.c.id == d.c.message_id)
                .outerjoin(a, a.c.id == m.c.alert_id)
                .outerjoin(r, r.c.id == d.c.resident_id)
            )
            .where(d.c.id.in_(ids))
            .order_by(d.c.priority, d.c.turn, d.c.id)
        )
        return [_claimed(row) for row in rows]

    async def record(self, outcomes: Sequence[Outcome], now: datetime) -> None:
        if not outcomes:
            return
        if self._conn.dialect.name == "postgresql":
            await self._record_at_once(outcomes, now)
        else:
            await self._record_each(outcomes, now)
        gone = sorted({o.deactivate_resident for o in outcomes if o.deactivate_resident is not None})
        if gone:
            await self._conn.execute(update(residents).where(residents.c.id.in_(gone)).values(active=False))

    async def _record_at_once(self, outcomes: Sequence[Outcome], now: datetime) -> None:
        """PostgreSQL: the whole batch in one UPDATE joined to arrays of outcomes. Executed row by row
        (even pipelined), 500 outcomes were 500 statements for both the worker and the server to handle."""
        stamp = deliveries.c.next_attempt_at.type
        assert isinstance(stamp, UTCDateTime)
        dialect = self._conn.dialect
        await self._conn.execute(
            _RECORD_ALL,
            {
                "ids": [o.delivery_id for o in outcomes],
                "states": [o.state.value for o in outcomes],
                "attempts": [o.attempts for o in outcomes],
                "nexts": [stamp.process_bind_param(o.next_attempt_at, dialect) for o in outcomes],
                "providers": [o.provider_message_id for o in outcomes],
                "errors": [_error_text(o.error) for o in outcomes],
                "now": now,
            },
        )

    async def _record_each(self, outcomes: Sequence[Outcome], now: datetime) -> None:
        d = deliveries
        await self._conn.execute(
            update(d)
            .where(d.c.id == bindparam("b_id"), d.c.state == DeliveryState.SENDING.value)
            .values(
                state=bindparam("b_state"),
                attempts=bindparam("b_attempts"),
                next_attempt_at=func.coalesce(bindparam("b_next", type_=d.c.next_attempt_at.type), d.c.next_attempt_at),
                provider_message_id=bindparam("b_provider"),
                last_error=bindparam("b_error"),
                lease_until=None,
                updated_at=now,
            ),
            [
                {
                    "b_id": o.delivery_id,
                    "b_state": o.state.value,
                    "b_attempts": o.attempts,
                    "b_next": o.next_attempt_at,
                    "b_provider": o.provider_message_id,
                    "b_error": _error_text(o.error),
                }
                for o in outcomes
            ],
        )

    async def release(self, delivery_ids: Sequence[int], now: datetime) -> None:
        if delivery_ids:
            await self._conn.execute(
                update(deliveries)
                .where(deliveries.c.id.in_(delivery_ids), deliveries.c.state == DeliveryState.SENDING.value)
                .values(state=DeliveryState.PENDING.value, lease_until=None, updated_at=now)
            )

    async def release_expired_leases(self, now: datetime) -> int:
        result = await self._conn.execute(
            update(deliveries)
            .where(
                deliveries.c.state == DeliveryState.SENDING.value,
                deliveries.c.lease_until < database_now(self._conn.dialect.name),
            )
            .values(state=DeliveryState.PENDING.value, lease_until=None, updated_at=now)
        )
        return result.rowcount

    async def finish_alerts(self, message_ids: Sequence[int], now: datetime) -> int:
        if not message_ids:
            return 0
        open_rows = exists().where(deliveries.c.message_id == alerts.c.message_id, deliveries.c.state.in_(_OPEN_STATES))
        result = await self._conn.execute(
            update(alerts)
            .where(alerts.c.message_id.in_(message_ids), alerts.c.state == AlertState.SENDING.value, ~open_rows)
            .values(state=AlertState.SENT.value)
        )
        return result.rowcount

    async def quiet_holds(self) -> list[tuple[int, QuietHours | None]]:
        rows = await self._conn.execute(
            select(residents.c.id, residents.c.quiet_start, residents.c.quiet_end).where(
                exists().where(
                    deliveries.c.resident_id == residents.c.id,
                    deliveries.c.state == DeliveryState.PENDING.value,
                    deliveries.c.last_error == QUIET_HOLD,
                )
            )
        )
        return [(r.id, _quiet(r.quiet_start, r.quiet_end)) for r in rows]

    async def release_holds(self, resident_ids: Sequence[int], now: datetime) -> int:
        if not resident_ids:
            return 0
        result = await self._conn.execute(
            update(deliveries)
            .where(
                deliveries.c.resident_id.in_(resident_ids),
                deliveries.c.state == DeliveryState.PENDING.value,
                deliveries.c.last_error == QUIET_HOLD,
            )
            .values(next_attempt_at=now, last_error=None, updated_at=now)
        )
        return result.rowcount


# Only rows still leased (``sending``) take an outcome: one given back or re-claimed meanwhile keeps its state.
_RECORD_ALL = text(
    """
    UPDATE deliveries AS d
    SET state = o.state, attempts = o.attempts, next_attempt_at = COALESCE(o.next_attempt_at, d.next_attempt_at),
        provider_message_id = o.provider_message_id, last_error = o.last_error, lease_until = NULL, updated_at = :now
    FROM unnest(CAST(:ids AS integer[]), CAST(:states AS varchar[]), CAST(:attempts AS integer[]),
                CAST(:nexts AS timestamp[]), CAST(:providers AS varchar[]), CAST(:errors AS varchar[]))
         AS o(id, state, attempts, next_attempt_at, provider_message_id, last_error)
    WHERE d.id = o.id AND d.state = 'sending'
    """
).bindparams(bindparam("now", type_=deliveries.c.updated_at.type))


def _error_text(error: str | None) -> str | None:
    return (error or None) and error[:500]


def _quiet(start: str | None, end: str | None) -> QuietHours | None:
    if not start or not end:
        return None
    return QuietHours(time.fromisoformat(start), time.fromisoformat(end))


def _claimed(row) -> ClaimedDelivery:  # noqa: ANN001 - a result row
    quiet = _quiet(row.quiet_start, row.quiet_end)
    return ClaimedDelivery(
        id=row.id,
        message_id=row.message_id,
        kind=MessageKind(row.kind),
        address=Address.parse(row.address),
        attempts=row.attempts,
        alert_id=row.alert_id,
        alert_state=AlertState(row.alert_state) if row.alert_state else None,
        alert_expires_at=row.expires_at,
        urgency=Urgency(row.urgency) if row.urgency else None,
        reply_to=row.reply_to,
        tip_id=row.tip_id,
        note_id=row.note_id,
        thread_key=row.thread_key,
        thread_waiting=bool(row.thread_open),
        resident_id=row.resident_id,
        lease_until=row.lease_until,
        resident_active=bool(row.active) if row.resident_id is not None else True,
        resident_erased=row.erased_at is not None,
        paused_until=row.paused_until,
        quiet_hours=quiet,
        last_inbound_at=row.last_inbound_at,
        priority=row.priority,
        turn=row.turn,
    )
