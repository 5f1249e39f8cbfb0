"""Outbound messages, and the delivery rows the worker sends from.

Recipient resolution runs inside the database: the area's cover arrives as a
short list of H3 integer ranges, each answered by a range scan of the covering
index ``ix_reachable_places_cell`` (residents and subscriptions are not
visited), and the delivery rows are written by one ``INSERT … SELECT``, so
50,000 recipients never pass through Python.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Integer,
    and_,
    bindparam,
    case,
    column,
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
from sqlalchemy.sql import ColumnElement, CompoundSelect, FromClause, Select

from core.clock import Clock
from core.delivery.holds import DAILY_LIMIT_HOLD, DAILY_LIMIT_REASON
from core.force import ALL_TOPICS
from core.model import Address, Channel, DeliveryState, MessageKind
from core.ports import ChannelCounts, RecipientCriteria
from storage.tables import REACH_TOPIC_SEPARATOR as SEP
from storage.tables import OPEN_DELIVERY_STATES, deliveries, messages, reachable_places, residents

_FAR_METRES = 10_000_000  # a place the ranking table does not know: after every known one

_UNSENT = (DeliveryState.PENDING.value, DeliveryState.FAILED.value)


def _cover(criteria: RecipientCriteria, dialect: str) -> FromClause:
    """The cover's ranges as a little table ``(lo, hi)`` to join the index against.

    PostgreSQL gets them as two array parameters unnested, so the statement's
    text is the same whatever the area (a UNION of one SELECT per range cost
    ~50 ms of planning for a 3 km circle's 265 ranges). SQLite has no arrays
    and plans a VALUES join well.
    """
    ranges = list(criteria.cover.ranges)
    if dialect == "postgresql":
        los = bindparam("cover_lo", [lo for lo, _ in ranges], type_=ARRAY(BigInteger))
        his = bindparam("cover_hi", [hi for _, hi in ranges], type_=ARRAY(BigInteger))
        return func.unnest(los, his).table_valued(column("lo", BigInteger), column("hi", BigInteger)).render_derived("cover")
    return values(column("lo", BigInteger), column("hi", BigInteger), name="cover").data(ranges).cte("cover")


def _conditions(criteria: RecipientCriteria) -> list[ColumnElement[bool]]:
    """The alert's filters, on ``reachable_places`` columns (only active, unerased residents have rows there)."""
    rp = reachable_places
    subscribed = or_(*[rp.c.topics.contains(f"{SEP}{topic}{SEP}", autoescape=True) for topic in (ALL_TOPICS, *criteria.topics)])
    audiences = []
    if criteria.audience.includes_residents:  # "everyone in the area" reaches residents whatever their topics
        audiences.append(rp.c.sector.is_(None) if criteria.everyone else and_(rp.c.sector.is_(None), subscribed))
    if criteria.audience.includes_businesses:
        if criteria.sectors:
            wanted = rp.c.sector.in_(criteria.sectors)
        else:
            wanted = true() if criteria.everyone else subscribed
        audiences.append(and_(rp.c.sector.is_not(None), wanted))
    conditions = [
        or_(rp.c.paused_until.is_(None), rp.c.paused_until <= criteria.at),
        or_(*audiences) if audiences else false(),
    ]
    if criteria.testers_only:
        conditions.append(rp.c.is_tester.is_(True))
    return conditions


def _metres(criteria: RecipientCriteria) -> tuple[FromClause | None, ColumnElement[int]]:
    """The metres from a place's cell to the area, for the nearest-first order (0 when not ranking):
    a little ``(rank_cell, rank_metres)`` table of the cover's cells at the ranking resolution, to
    outer-join on the place's parent cell, and the expression that reads it."""
    near = criteria.nearness
    if near is None or not near.metres:
        return None, literal(0)
    ranks = values(column("rank_cell", BigInteger), column("rank_metres", Integer), name="nearness").data(list(near.metres)).cte("nearness")
    return ranks, func.coalesce(ranks.c.rank_metres, _FAR_METRES)


def _hits(
    criteria: RecipientCriteria, cover: FromClause, ranking: tuple[FromClause | None, ColumnElement[int]], dialect: str, *,
    several_places: bool,
) -> Select:
    """``SELECT id, channel, address, metres`` of the matching places in the cover of residents with one place,
    or with several.

    One range scan of the covering index per range of the cover. PostgreSQL
    cannot estimate a range whose ends are parameters: it guesses thousands
    of rows per range and, joining freely, picked plans that read the whole
    table (45 s). The LATERAL subquery with ``OFFSET 0`` cannot be flattened,
    so each range is its own index-only range scan, whatever the guess.
    """
    rp = reachable_places
    ranks, metres = ranking
    places_from: FromClause = rp
    if ranks is not None:
        near = criteria.nearness
        parent = rp.c.cell.op("&")(literal(near.keep, BigInteger)).op("|")(literal(near.fill, BigInteger))  # type: ignore[union-attr]
        places_from = rp.outerjoin(ranks, ranks.c.rank_cell == parent)
    columns = (rp.c.resident_id.label("id"), rp.c.channel, rp.c.address, metres.label("metres"))
    # "+ 0" keeps the place count a filter: SQLite otherwise built a throwaway index on it and
    # scanned the whole table (minutes at a million) instead of range-scanning the cells.
    places_count = rp.c.resident_places + 0
    conditions = [places_count > 1 if several_places else places_count == 1, *_conditions(criteria)]
    in_range = rp.c.cell.between(cover.c.lo, cover.c.hi)
    if dialect == "postgresql":
        per_range = select(*columns).select_from(places_from).where(in_range, *conditions).offset(0).lateral("per_range")
        found = per_range.c
        return select(found.id, found.channel, found.address, found.metres).select_from(cover.join(per_range, true()))
    return select(*columns).select_from(cover.join(places_from, in_range)).where(*conditions)


def recipients_query(criteria: RecipientCriteria, dialect: str) -> CompoundSelect:
    """``SELECT id, channel, address, metres`` of every resident the criteria match, once each
    (``metres``: from their nearest place in the area, for the nearest-first order).

    Read from ``reachable_places`` alone. A resident with several places in
    the area is one row: the cover is scanned twice, once for residents with
    one place (nine in ten, passed straight through) and once for those with
    several, grouped. Grouping every hit, or materialising the hits once to
    split them, cost more than the second scan.
    """
    cover = _cover(criteria, dialect)
    ranking = _metres(criteria)  # one ranking table for both scans
    several = _hits(criteria, cover, ranking, dialect, several_places=True).subquery("several")
    return union_all(
        _hits(criteria, cover, ranking, dialect, several_places=False),
        select(several.c.id, several.c.channel, several.c.address, func.min(several.c.metres).label("metres"))
        .group_by(several.c.id, several.c.channel, several.c.address),
    )


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
            .values(kind=kind.value, alert_id=alert_id, tip_id=tip_id, note_id=note_id, thread_key=thread_key, body=body,
                    created_at=self._clock())
            .returning(messages.c.id)
        )
        return result.scalar_one()

    async def body(self, message_id: int) -> str | None:
        return (await self._conn.execute(select(messages.c.body).where(messages.c.id == message_id))).scalar_one_or_none()

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
