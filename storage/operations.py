"""Counts for /metrics: deliveries by state, the due backlog, tips by state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.model import Channel, DeliveryState, TipState
from core.ports import Backlog
from storage.tables import deliveries, tips

_DUE_STATES = (DeliveryState.PENDING.value, DeliveryState.FAILED.value)


class SqlOperationalCounts:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def deliveries_by_state(self) -> dict[tuple[Channel, DeliveryState], int]:
        # (channel, state) leads ix_deliveries_claim, so this is an index-only count.
        rows = await self._conn.execute(
            select(deliveries.c.channel, deliveries.c.state, func.count()).group_by(
                deliveries.c.channel, deliveries.c.state
            )
        )
        return {(Channel(channel), DeliveryState(state)): count for channel, state, count in rows}

    async def due_backlog(self, now: datetime) -> dict[Channel, Backlog]:
        rows = await self._conn.execute(
            select(deliveries.c.channel, func.count(), func.min(deliveries.c.next_attempt_at))
            .where(deliveries.c.state.in_(_DUE_STATES), deliveries.c.next_attempt_at <= now)
            .group_by(deliveries.c.channel)
        )
        return {
            Channel(channel): Backlog(count, (now - oldest).total_seconds() if oldest else 0.0)
            for channel, count, oldest in rows
        }

    async def tips_by_state(self) -> dict[TipState, int]:
        rows = await self._conn.execute(select(tips.c.state, func.count()).group_by(tips.c.state))
        return {TipState(state): count for state, count in rows}
