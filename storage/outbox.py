"""Outbound messages, and the delivery rows the worker sends from.

Recipient resolution runs inside the database: the area's cover arrives as a
short list of H3 integer ranges, each answered by a range scan of
``ix_places_cell_resident``, and the delivery rows are written by one
``INSERT … SELECT``, so 50,000 recipients never pass through Python.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Integer,
    and_,
    case,
    column,
    exists,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    true,
    union_all,
    update,
    values,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select, Subquery

from core.force import ALL_TOPICS
from core.model import Address, Channel, DeliveryState, MessageKind
from core.ports import ChannelCounts, RecipientCriteria
from storage.tables import OPEN_DELIVERY_STATES, deliveries, messages, places, residents, subscriptions

_FAR_METRES = 10_000_000  # a place the ranking table does not know: after every known one

_UNSENT = (DeliveryState.PENDING.value, DeliveryState.FAILED.value)


def _places_in_cover(criteria: RecipientCriteria, dialect: str) -> Subquery:
    """Resident ids with a place in the cover (once each), one index range scan per range,
    with ``metres``: the nearest of their places to the area (0 when not ranking).

    PostgreSQL gets one ``SELECT … WHERE cell BETWEEN lo AND hi`` per range, glued
    by UNION ALL: with constants in each branch its planner estimates the rows
    well (a join against VALUES made it guess 500× too many and pick full scans),
    and ordering the ids makes the residents lookups walk the table in order.
    SQLite plans the VALUES join well and caps UNIONs at 500 terms, so it keeps that.
    """
    ranges = list(criteria.cover.ranges)
    if dialect == "postgresql":
        scans = union_all(
            *[select(places.c.resident_id, places.c.cell).where(places.c.cell.between(lo, hi)) for lo, hi in ranges]
        ).subquery("scans")
        in_area = _nearest_place(scans.c.resident_id, scans.c.cell, scans, criteria)
        return in_area.order_by(scans.c.resident_id).subquery("in_area")
    cover = values(column("lo", BigInteger), column("hi", BigInteger), name="cover").data(ranges).cte("cover")
    joined = cover.join(places, places.c.cell.between(cover.c.lo, cover.c.hi))
    return _nearest_place(places.c.resident_id, places.c.cell, joined, criteria).subquery("in_area")


def _nearest_place(resident_id, cell, source, criteria: RecipientCriteria) -> Select:  # noqa: ANN001 - SQL expressions
    """One row per resident: their id and, when ranking, the metres from their nearest place's cell to the area."""
    near = criteria.nearness
    if near is None or not near.metres:
        return select(resident_id, literal(0).label("metres")).select_from(source).distinct()
    ranks = values(column("rank_cell", BigInteger), column("rank_metres", Integer), name="nearness").data(list(near.metres)).cte("nearness")
    parent = cell.op("&")(literal(near.keep, BigInteger)).op("|")(literal(near.fill, BigInteger))
    metres = func.min(func.coalesce(ranks.c.rank_metres, _FAR_METRES)).label("metres")
    return select(resident_id, metres).select_from(source.outerjoin(ranks, ranks.c.rank_cell == parent)).group_by(resident_id)


def recipients_query(criteria: RecipientCriteria, dialect: str) -> Select:
    """``SELECT id, channel, address, metres`` of every resident the criteria match, once each."""
    r = residents
    in_area = _places_in_cover(criteria, dialect)
    subscribed = exists().where(
        subscriptions.c.resident_id == r.c.id, subscriptions.c.topic.in_((ALL_TOPICS, *criteria.topics))
    )
    audiences = []
    if criteria.audience.includes_residents:
        audiences.append(r.c.sector.is_(None) if criteria.everyone else and_(r.c.sector.is_(None), subscribed))
    if criteria.audience.includes_businesses:
        if criteria.sectors:
            wanted = r.c.sector.in_(criteria.sectors)
        else:
            wanted = true() if criteria.everyone else subscribed
        audiences.append(and_(r.c.sector.is_not(None), wanted))
    conditions = [
        r.c.active.is_(True),
        r.c.erased_at.is_(None),
        or_(r.c.paused_until.is_(None), r.c.paused_until <= criteria.at),
        or_(*audiences) if audiences else false(),
    ]
    if criteria.testers_only:
        conditions.append(r.c.is_tester.is_(True))
    return (
        select(r.c.id, r.c.channel, r.c.address, in_area.c.metres)
        .select_from(in_area.join(r, r.c.id == in_area.c.resident_id))
        .where(*conditions)
    )


def _counts(rows: Sequence) -> ChannelCounts:
    return {Channel(channel): count for channel, count in rows}


class SqlOutbox:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def new_message(
        self,
        kind: MessageKind,
        *,
        alert_id: int | None = None,
        tip_id: int | None = None,
        note_id: int | None = None,
        thread_key: str | None = None,
    ) -> int:
        result = await self._conn.execute(
            insert(messages)
            .values(kind=kind.value, alert_id=alert_id, tip_id=tip_id, note_id=note_id, thread_key=thread_key, created_at=datetime.now(UTC))
            .returning(messages.c.id)
        )
        return result.scalar_one()

    async def queue_to(
        self, message_id: int, address: Address, resident_id: int | None, now: datetime, *, priority: int
    ) -> None:
        heads = await self._queue_heads(priority, now)
        await self._conn.execute(
            insert(deliveries).values(
                message_id=message_id, resident_id=resident_id, channel=address.channel.value, address=str(address),
                state=DeliveryState.PENDING.value, attempts=0, next_attempt_at=now, created_at=now, updated_at=now,
                priority=priority, turn=heads.get(address.channel.value, 0),
            )
        )

    async def count_recipients(self, criteria: RecipientCriteria) -> ChannelCounts:
        matched = recipients_query(criteria, self._conn.dialect.name).subquery("matched")
        rows = await self._conn.execute(
            select(matched.c.channel, func.count()).group_by(matched.c.channel).order_by(matched.c.channel)
        )
        return _counts(rows.all())

    async def queue_for_recipients(
        self, message_id: int, criteria: RecipientCriteria, now: datetime, *, priority: int
    ) -> ChannelCounts:
        matched = recipients_query(criteria, self._conn.dialect.name).subquery("matched")
        turn = _turns(matched.c.channel, (matched.c.metres, matched.c.id), await self._queue_heads(priority, now))
        source = select(*_new_delivery(message_id, matched.c.id, matched.c.channel, matched.c.address, now, priority, turn))
        await self._conn.execute(insert(deliveries).from_select(_DELIVERY_COLUMNS, source))
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
        turn = _turns(d.c.channel, (func.min(d.c.turn), func.max(d.c.resident_id)), await self._queue_heads(priority, now))
        source = (
            select(*_new_delivery(message_id, func.max(d.c.resident_id), d.c.channel, d.c.address, now, priority, turn))
            .select_from(d.join(r, r.c.id == d.c.resident_id))
            .where(
                d.c.message_id.in_(from_message_ids),
                d.c.state.in_([s.value for s in states]),
                r.c.active.is_(True),
                r.c.erased_at.is_(None),
            )
            .group_by(d.c.channel, d.c.address)
        )
        await self._conn.execute(insert(deliveries).from_select(_DELIVERY_COLUMNS, source))
        return await self._message_counts(message_id)

    async def skip_unsent(self, message_ids: Sequence[int], reason: str, now: datetime) -> int:
        result = await self._conn.execute(
            update(deliveries)
            .where(deliveries.c.message_id.in_(message_ids), deliveries.c.state.in_(_UNSENT))
            .values(state=DeliveryState.SKIPPED.value, last_error=reason, lease_until=None, updated_at=now)
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
        """Per channel, the turn its queue of ``priority`` has reached: the lowest turn due now.

        A new message's rows start there, so it takes turns with the messages
        already going out rather than waiting behind them (or jumping them).
        Rows held for later (quiet hours, retries) do not hold the head back.
        """
        d = deliveries
        rows = await self._conn.execute(
            select(d.c.channel, func.min(d.c.turn))
            .where(text(OPEN_DELIVERY_STATES), d.c.priority == priority, d.c.next_attempt_at <= now)
            .group_by(d.c.channel)
        )
        return {channel: head for channel, head in rows if head is not None}

    async def _message_counts(self, message_id: int) -> ChannelCounts:
        rows = await self._conn.execute(
            select(deliveries.c.channel, func.count())
            .where(deliveries.c.message_id == message_id)
            .group_by(deliveries.c.channel)
            .order_by(deliveries.c.channel)
        )
        return _counts(rows.all())


def _turns(channel, order_by: tuple, heads: dict[str, int]):  # noqa: ANN001, ANN202 - SQL expressions
    """Each row's turn: its place in ``order_by`` within its channel, counted on from that channel's head."""
    place = func.row_number().over(partition_by=channel, order_by=order_by)
    if not heads:
        return place
    return place + case(heads, value=channel, else_=0)


def _new_delivery(message_id: int, resident_id, channel, address, now: datetime, priority: int, turn) -> list:  # noqa: ANN001
    """The SELECT list of a pending delivery row, in ``_DELIVERY_COLUMNS`` order."""
    return [
        literal(message_id),
        resident_id,
        channel,
        address,
        literal(DeliveryState.PENDING.value),
        literal(0),
        literal(now, deliveries.c.next_attempt_at.type),
        literal(now, deliveries.c.created_at.type),
        literal(now, deliveries.c.updated_at.type),
        literal(priority, deliveries.c.priority.type),
        turn,
    ]


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
