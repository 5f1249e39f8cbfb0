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
    and_,
    bindparam,
    column,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    union_all,
    update,
    values,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement, CompoundSelect, FromClause, Select

from core.clock import Clock
from core.force import ALL_TOPICS
from core.model import Address, Channel, DeliveryState, MessageKind
from core.ports import ChannelCounts, RecipientCriteria
from storage.tables import REACH_TOPIC_SEPARATOR as SEP
from storage.tables import deliveries, messages, reachable_places, residents

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
    if criteria.audience.includes_residents:
        audiences.append(and_(rp.c.sector.is_(None), subscribed))
    if criteria.audience.includes_businesses:
        wanted = rp.c.sector.in_(criteria.sectors) if criteria.sectors else subscribed
        audiences.append(and_(rp.c.sector.is_not(None), wanted))
    conditions = [
        or_(rp.c.paused_until.is_(None), rp.c.paused_until <= criteria.at),
        or_(*audiences) if audiences else false(),
    ]
    if criteria.testers_only:
        conditions.append(rp.c.is_tester.is_(True))
    return conditions


def _hits(criteria: RecipientCriteria, cover: FromClause, dialect: str, *, several_places: bool) -> Select:
    """``SELECT id, channel, address`` of the matching places in the cover of residents with one place, or with several.

    One range scan of the covering index per range of the cover. PostgreSQL
    cannot estimate a range whose ends are parameters: it guesses thousands
    of rows per range and, joining freely, picked plans that read the whole
    table (45 s). The LATERAL subquery with ``OFFSET 0`` cannot be flattened,
    so each range is its own index-only range scan, whatever the guess.
    """
    rp = reachable_places
    columns = (rp.c.resident_id.label("id"), rp.c.channel, rp.c.address)
    # "+ 0" keeps the place count a filter: SQLite otherwise built a throwaway index on it and
    # scanned the whole table (minutes at a million) instead of range-scanning the cells.
    places_count = rp.c.resident_places + 0
    conditions = [places_count > 1 if several_places else places_count == 1, *_conditions(criteria)]
    in_range = rp.c.cell.between(cover.c.lo, cover.c.hi)
    if dialect == "postgresql":
        per_range = select(*columns).where(in_range, *conditions).offset(0).lateral("per_range")
        return select(per_range.c.id, per_range.c.channel, per_range.c.address).select_from(cover.join(per_range, true()))
    return select(*columns).select_from(cover.join(rp, in_range)).where(*conditions)


def recipients_query(criteria: RecipientCriteria, dialect: str) -> CompoundSelect:
    """``SELECT id, channel, address`` of every resident the criteria match, once each.

    Read from ``reachable_places`` alone. A resident with several places in
    the area is one row: the cover is scanned twice, once for residents with
    one place (nine in ten, passed straight through) and once for those with
    several, grouped. Grouping every hit, or materialising the hits once to
    split them, cost more than the second scan.
    """
    cover = _cover(criteria, dialect)
    several = _hits(criteria, cover, dialect, several_places=True)
    return union_all(
        _hits(criteria, cover, dialect, several_places=False),
        several.group_by(*several.selected_columns),
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

    async def queue_to(self, message_id: int, address: Address, resident_id: int | None, now: datetime) -> None:
        await self._conn.execute(
            insert(deliveries).values(
                message_id=message_id, resident_id=resident_id, channel=address.channel.value, address=str(address),
                state=DeliveryState.PENDING.value, attempts=0, next_attempt_at=now, created_at=now, updated_at=now,
            )
        )

    async def count_recipients(self, criteria: RecipientCriteria) -> ChannelCounts:
        matched = recipients_query(criteria, self._conn.dialect.name).subquery("matched")
        rows = await self._conn.execute(
            select(matched.c.channel, func.count()).group_by(matched.c.channel).order_by(matched.c.channel)
        )
        return _counts(rows.all())

    async def queue_for_recipients(self, message_id: int, criteria: RecipientCriteria, now: datetime) -> ChannelCounts:
        matched = recipients_query(criteria, self._conn.dialect.name).subquery("matched")
        source = select(*_new_delivery(message_id, matched.c.id, matched.c.channel, matched.c.address, now))
        await self._conn.execute(insert(deliveries).from_select(_DELIVERY_COLUMNS, source))
        return await self._message_counts(message_id)

    async def queue_copy(
        self, message_id: int, from_message_ids: Sequence[int], states: Sequence[DeliveryState], now: datetime
    ) -> ChannelCounts:
        d, r = deliveries, residents
        source = (
            select(*_new_delivery(message_id, func.max(d.c.resident_id), d.c.channel, d.c.address, now))
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

    async def _message_counts(self, message_id: int) -> ChannelCounts:
        rows = await self._conn.execute(
            select(deliveries.c.channel, func.count())
            .where(deliveries.c.message_id == message_id)
            .group_by(deliveries.c.channel)
            .order_by(deliveries.c.channel)
        )
        return _counts(rows.all())


def _new_delivery(message_id: int, resident_id, channel, address, now: datetime) -> list:  # noqa: ANN001 - SQL expressions
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
]
