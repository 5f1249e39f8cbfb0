"""Read-only figures for officers: where an alert's recipients are, how a delivery went, totals.

Nothing here changes a row; each query is an aggregate, so no resident's
address or cell ever leaves the database one by one except as a count per cell.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.delivery.holds import DAILY_LIMIT_HOLD, DAILY_LIMIT_REASON, QUIET_HOLD
from core.geo.cells import Cover, int_to_cell
from core.model import (
    AlertState,
    AlertStatus,
    AlertType,
    Channel,
    DeliveryState,
    MessageKind,
)
from core.ports import AlertCount, CellCounts, DeliverySummary, ReachRow, RecipientCriteria
from storage.matching import Shape, recipients, recipients_statement
from storage.tables import alerts, deliveries, messages, places, residents, tips

_ALERT_KINDS = (MessageKind.ALERT.value, MessageKind.ALERT_UPDATE.value, MessageKind.ALERT_CANCEL.value)


@lru_cache(maxsize=256)
def _cells_statement(shape: Shape) -> Select:
    """Matched residents per cell of their places (built once per shape, as the recipients query is)."""
    matched = recipients_statement(shape).subquery("matched")
    return (
        select(places.c.cell, func.count(func.distinct(places.c.resident_id)))
        .select_from(matched.join(places, places.c.resident_id == matched.c.id))
        .group_by(places.c.cell)
    )


class SqlReports:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def recipient_cells(self, criteria: RecipientCriteria) -> CellCounts:
        shape, values = recipients(criteria, self._conn.dialect.name)
        rows = await self._conn.execute(_cells_statement(shape), values)
        # A matched resident's other places may lie outside the area: keep the cells of the cover only.
        # Filtering here (a sorted scan of the few ranges) avoids a several-hundred-term OR in SQL.
        ranges = criteria.cover.ranges
        return {int_to_cell(cell): count for cell, count in rows if _in_ranges(cell, ranges)}

    async def delivery_summary(self, message_id: int) -> DeliverySummary:
        d, r = deliveries, residents
        unreachable = await self._conn.scalar(
            select(func.count())
            .select_from(d.join(r, r.c.id == d.c.resident_id))
            .where(d.c.message_id == message_id, d.c.state == DeliveryState.DEAD.value, r.c.active.is_(False))
        )
        held = await self._conn.scalar(
            select(func.count()).where(
                d.c.message_id == message_id, d.c.state == DeliveryState.PENDING.value, d.c.last_error == QUIET_HOLD
            )
        )
        limit_held, limit_skipped = (
            await self._conn.execute(
                select(
                    func.count().filter(
                        and_(d.c.state == DeliveryState.PENDING.value, d.c.last_error == DAILY_LIMIT_HOLD)
                    ),
                    func.count().filter(
                        and_(d.c.state == DeliveryState.SKIPPED.value, d.c.last_error == DAILY_LIMIT_REASON)
                    ),
                ).where(d.c.message_id == message_id)
            )
        ).one()
        last = await self._conn.scalar(select(func.max(d.c.updated_at)).where(d.c.message_id == message_id))
        delivered, read = (
            await self._conn.execute(
                select(func.count(d.c.delivered_at), func.count(d.c.read_at)).where(d.c.message_id == message_id)
            )
        ).one()
        return DeliverySummary(
            unreachable=unreachable or 0,
            held=held or 0,
            last_change_at=last,
            delivered=delivered or 0,
            read=read or 0,
            limit_held=limit_held or 0,
            limit_skipped=limit_skipped or 0,
        )

    async def reach_rows(self, message_id: int) -> list[ReachRow]:
        d = deliveries
        if self._conn.dialect.name == "postgresql":
            minute = func.date_trunc("minute", d.c.updated_at)
        else:  # SQLite keeps the naive UTC time as text: its first 16 characters are the minute
            minute = func.strftime("%Y-%m-%d %H:%M", d.c.updated_at)
        rows = await self._conn.execute(
            select(
                minute.label("minute"),
                d.c.channel,
                d.c.state,
                func.count(),
                func.count(d.c.delivered_at),
                func.count(d.c.read_at),
            )
            .where(d.c.message_id == message_id)
            .group_by(minute, d.c.channel, d.c.state)
            .order_by(minute, d.c.channel, d.c.state)
        )
        return [
            ReachRow(_minute(at), Channel(channel), DeliveryState(state), n, delivered, read)
            for at, channel, state, n, delivered, read in rows
        ]

    async def reach_cells(self, message_id: int, cover: Cover) -> dict[str, dict[DeliveryState, int]]:
        d = deliveries
        rows = await self._conn.execute(
            select(places.c.cell, d.c.state, func.count(func.distinct(d.c.resident_id)))
            .select_from(d.join(places, places.c.resident_id == d.c.resident_id))
            .where(d.c.message_id == message_id)
            .group_by(places.c.cell, d.c.state)
        )
        cells: dict[str, dict[DeliveryState, int]] = defaultdict(dict)
        for cell, state, count in rows:
            if _in_ranges(cell, cover.ranges):  # a recipient's places outside the area are not shaded
                cells[int_to_cell(cell)][DeliveryState(state)] = count
        return dict(cells)

    async def tips_about(self, alert_id: int) -> int:
        return await self._conn.scalar(select(func.count()).select_from(tips).where(tips.c.alert_id == alert_id)) or 0

    async def subscribers(self) -> dict[Channel, int]:
        r = residents
        rows = await self._conn.execute(
            select(r.c.channel, func.count())
            .where(r.c.active.is_(True), r.c.erased_at.is_(None))
            .group_by(r.c.channel)
            .order_by(r.c.channel)
        )
        return {Channel(channel): count for channel, count in rows}

    async def alert_counts(self, since: datetime) -> list[AlertCount]:
        a = alerts
        rows = await self._conn.execute(
            select(a.c.type, a.c.state, a.c.status, func.count())
            .where(a.c.created_at >= since)
            .group_by(a.c.type, a.c.state, a.c.status)
        )
        return [AlertCount(AlertType(t), AlertState(s), AlertStatus(st), n) for t, s, st, n in rows]

    async def alert_deliveries(self, since: datetime) -> dict[DeliveryState, int]:
        d, m = deliveries, messages
        rows = await self._conn.execute(
            select(d.c.state, func.count())
            .select_from(d.join(m, and_(m.c.id == d.c.message_id, m.c.kind.in_(_ALERT_KINDS))))
            .where(m.c.created_at >= since)
            .group_by(d.c.state)
        )
        totals: dict[DeliveryState, int] = defaultdict(int)
        for state, count in rows:
            totals[DeliveryState(state)] += count
        return dict(totals)


def _minute(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.strptime(value, "%Y-%m-%d %H:%M")
    return value.replace(tzinfo=UTC)


def _in_ranges(value: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    index = bisect_right(ranges, (value, float("inf"))) - 1
    return index >= 0 and ranges[index][0] <= value <= ranges[index][1]
