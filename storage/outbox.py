"""Outbound messages, and the delivery rows the worker sends from.

Recipients are resolved inside the database (``storage/matching.py``) and
their delivery rows written by one ``INSERT … SELECT``, so 50,000 recipients
never pass through Python.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Insert, Integer, bindparam, case, func, insert, literal, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement, Select

from core.clock import Clock
from core.delivery.holds import DAILY_LIMIT_HOLD, DAILY_LIMIT_REASON
from core.model import Address, Channel, DeliveryState, MessageKind
from core.ports import ChannelCounts, RecipientCriteria
from storage.matching import Shape, recipients, recipients_statement
from storage.tables import OPEN_DELIVERY_STATES, deliveries, messages, residents
from storage.tips import post_address

_UNSENT = (DeliveryState.PENDING.value, DeliveryState.FAILED.value)


def _counts(rows: Sequence) -> ChannelCounts:
    return {Channel(channel): count for channel, count in rows}


class SqlOutbox:
    def __init__(self, conn: AsyncConnection, clock: Clock) -> None:
        self._conn = conn
        self._clock = clock

    async def new_message(
        self,
        kind: MessageKind,
        *,
        alert_id: int | None = None,
        tip_id: int | None = None,
        note_id: int | None = None,
        thread_key: str | None = None,
        body: str | None = None,
    ) -> int:
        result = await self._conn.execute(
            insert(messages)
            .values(
                kind=kind.value,
                alert_id=alert_id,
                tip_id=tip_id,
                note_id=note_id,
                thread_key=thread_key,
                body=body,
                created_at=self._clock(),
            )
            .returning(messages.c.id)
        )
        return result.scalar_one()

    async def body(self, message_id: int) -> str | None:
        return (
            await self._conn.execute(select(messages.c.body).where(messages.c.id == message_id))
        ).scalar_one_or_none()

    async def detach_tip_post(self, message_id: int, body: str) -> None:
        # No longer the tip's (so deleting the tip leaves it), and rendered from its own text from now on.
        await self._conn.execute(update(messages).where(messages.c.id == message_id).values(tip_id=None, body=body))

    async def erased_tip_posts(self, delivery_ids: Sequence[int]) -> list[tuple[Address, str]]:
        d, m = deliveries, messages
        rows = await self._conn.execute(
            select(d.c.address, d.c.provider_message_id, m.c.body)
            .select_from(d.join(m, m.c.id == d.c.message_id))
            .where(
                d.c.id.in_(delivery_ids),
                d.c.provider_message_id.is_not(None),
                m.c.kind == MessageKind.TIP_TO_OFFICERS.value,
                m.c.tip_id.is_(None),
                m.c.body.is_not(None),
            )
        )
        return [(post_address(r.address, r.provider_message_id), r.body) for r in rows]

    async def queue_to(
        self, message_id: int, address: Address, resident_id: int | None, now: datetime, *, priority: int
    ) -> None:
        heads = await self._queue_heads(priority, now)
        await self._conn.execute(
            insert(deliveries).values(
                message_id=message_id,
                resident_id=resident_id,
                channel=address.channel.value,
                address=str(address),
                state=DeliveryState.PENDING.value,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
                priority=priority,
                turn=heads.get(address.channel.value, 0),
            )
        )

    async def count_recipients(self, criteria: RecipientCriteria) -> ChannelCounts:
        shape, values = recipients(criteria, self._conn.dialect.name)
        rows = await self._conn.execute(_count_statement(shape), values)
        return _counts(rows.all())

    async def queue_for_recipients(
        self, message_id: int, criteria: RecipientCriteria, now: datetime, *, priority: int
    ) -> ChannelCounts:
        shape, values = recipients(criteria, self._conn.dialect.name)
        values |= _delivery_values(message_id, now, priority)
        if shape.dialect == "postgresql":
            # One round trip: the rows written and counted by one statement (a street's send is mostly round trips).
            return _counts((await self._conn.execute(_queue_counted_statement(shape), values)).all())
        await self._conn.execute(_queue_statement(shape), values)
        return await self._message_counts(message_id)

    async def queue_copy(
        self,
        message_id: int,
        from_message_ids: Sequence[int],
        states: Sequence[DeliveryState],
        now: datetime,
        *,
        priority: int,
    ) -> ChannelCounts:
        d, r = deliveries, residents
        heads = await self._queue_heads(priority, now)
        head = case(heads, value=d.c.channel, else_=0) if heads else literal(0)
        turn = _turns(d.c.channel, (func.min(d.c.turn), func.max(d.c.resident_id)), head)
        source = (
            select(*_new_delivery(func.max(d.c.resident_id), d.c.channel, d.c.address, turn))
            .select_from(d.join(r, r.c.id == d.c.resident_id))
            .where(
                d.c.message_id.in_(from_message_ids),
                d.c.state.in_([s.value for s in states]),
                r.c.active.is_(True),
                r.c.erased_at.is_(None),
            )
            .group_by(d.c.channel, d.c.address)
        )
        await self._conn.execute(
            insert(deliveries).from_select(_DELIVERY_COLUMNS, source), _delivery_values(message_id, now, priority)
        )
        return await self._message_counts(message_id)

    async def skip_unsent(self, message_ids: Sequence[int], reason: str, now: datetime) -> int:
        # A row still held by the daily limit keeps that as its reason: the final report says why it never went.
        why = case((deliveries.c.last_error == DAILY_LIMIT_HOLD, DAILY_LIMIT_REASON), else_=reason)
        result = await self._conn.execute(
            update(deliveries)
            .where(deliveries.c.message_id.in_(message_ids), deliveries.c.state.in_(_UNSENT))
            .values(state=DeliveryState.SKIPPED.value, last_error=why, lease_until=None, updated_at=now)
        )
        return result.rowcount

    async def progress(self, message_id: int) -> dict[Channel, dict[DeliveryState, int]]:
        rows = await self._conn.execute(
            select(deliveries.c.channel, deliveries.c.state, func.count())
            .where(deliveries.c.message_id == message_id)
            .group_by(deliveries.c.channel, deliveries.c.state)
        )
        table: dict[Channel, dict[DeliveryState, int]] = defaultdict(dict)
        for channel, state, count in rows:
            table[Channel(channel)][DeliveryState(state)] = count
        return dict(table)

    async def queued_ahead(self, priority: int, now: datetime) -> dict[tuple[Channel, int], int]:
        d = deliveries
        rows = await self._conn.execute(
            select(d.c.channel, d.c.priority, func.count())
            .where(text(OPEN_DELIVERY_STATES), d.c.priority <= priority, d.c.next_attempt_at <= now)
            .group_by(d.c.channel, d.c.priority)
        )
        return {(Channel(channel), level): count for channel, level, count in rows}

    async def _queue_heads(self, priority: int, now: datetime) -> dict[str, int]:
        """Per channel, the turn its queue of ``priority`` has reached (see ``_heads``)."""
        rows = await self._conn.execute(_heads(), {"priority": priority, "now": now})
        return {channel: head for channel, head in rows if head is not None}

    async def _message_counts(self, message_id: int) -> ChannelCounts:
        rows = await self._conn.execute(
            select(deliveries.c.channel, func.count())
            .where(deliveries.c.message_id == message_id)
            .group_by(deliveries.c.channel)
            .order_by(deliveries.c.channel)
        )
        return _counts(rows.all())


@lru_cache(maxsize=256)
def _count_statement(shape: Shape) -> Select:
    matched = recipients_statement(shape).subquery("matched")
    return select(matched.c.channel, func.count()).group_by(matched.c.channel).order_by(matched.c.channel)


@lru_cache(maxsize=256)
def _queue_statement(shape: Shape) -> Insert:
    """The delivery rows of every recipient, nearest first within each channel, each channel's
    turns counted on from its queue's head (``_delivery_values`` fills it)."""
    matched = recipients_statement(shape).subquery("matched")
    heads = _heads().subquery("heads")
    turn = _turns(matched.c.channel, (matched.c.metres, matched.c.id), func.coalesce(heads.c.head, 0))
    source = select(*_new_delivery(matched.c.id, matched.c.channel, matched.c.address, turn)).select_from(
        matched.outerjoin(heads, heads.c.channel == matched.c.channel)
    )
    return insert(deliveries).from_select(_DELIVERY_COLUMNS, source)


@lru_cache(maxsize=256)
def _queue_counted_statement(shape: Shape) -> Select:
    """``_queue_statement``, answering the rows it wrote per channel (PostgreSQL: an INSERT in a CTE)."""
    written = _queue_statement(shape).returning(deliveries.c.channel).cte("written")
    return select(written.c.channel, func.count()).group_by(written.c.channel).order_by(written.c.channel)


def _heads() -> Select:
    """Per channel, the turn its queue of priority ``:priority`` has reached: the lowest turn due at ``:now``.

    A new message's rows start there, so it takes turns with the messages
    already going out rather than waiting behind them (or jumping them).
    Rows held for later (quiet hours, retries) do not hold the head back.
    """
    d = deliveries
    return (
        select(d.c.channel, func.min(d.c.turn).label("head"))
        .where(
            text(OPEN_DELIVERY_STATES),
            d.c.priority == bindparam("priority", type_=d.c.priority.type),
            d.c.next_attempt_at <= bindparam("now", type_=d.c.next_attempt_at.type),
        )
        .group_by(d.c.channel)
    )


def _turns(
    channel: ColumnElement[str], order_by: tuple[ColumnElement[Any], ...], head: ColumnElement[int]
) -> ColumnElement[int]:
    """Each row's turn: its place in ``order_by`` within its channel, counted on from that channel's ``head``."""
    return func.row_number().over(partition_by=channel, order_by=order_by) + head


def _new_delivery(
    resident_id: ColumnElement[Any], channel: ColumnElement[Any], address: ColumnElement[Any], turn: ColumnElement[int]
) -> list[ColumnElement[Any]]:
    """The SELECT list of a pending delivery row, in ``_DELIVERY_COLUMNS`` order (``_delivery_values`` fills it)."""
    now = bindparam("now", type_=deliveries.c.created_at.type)
    return [
        bindparam("message_id", type_=Integer),
        resident_id,
        channel,
        address,
        literal(DeliveryState.PENDING.value),
        literal(0),
        now,
        now,
        now,
        bindparam("priority", type_=deliveries.c.priority.type),
        turn,
    ]


def _delivery_values(message_id: int, now: datetime, priority: int) -> dict[str, Any]:
    return {"message_id": message_id, "now": now, "priority": priority}


_DELIVERY_COLUMNS = [
    "message_id",
    "resident_id",
    "channel",
    "address",
    "state",
    "attempts",
    "next_attempt_at",
    "created_at",
    "updated_at",
    "priority",
    "turn",
]
