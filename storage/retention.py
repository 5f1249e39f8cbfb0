"""Retention: deleting what is past its keeping period (the scheduler's purge job)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection

from core.model import DeliveryState
from storage.tables import deliveries, inbound_updates, tips

_FINISHED_STATES = (DeliveryState.SENT.value, DeliveryState.DEAD.value, DeliveryState.SKIPPED.value)


class SqlRetention:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def purge_deliveries(self, finished_before: datetime) -> int:
        result = await self._conn.execute(
            delete(deliveries).where(deliveries.c.state.in_(_FINISHED_STATES), deliveries.c.updated_at < finished_before)
        )
        return result.rowcount

    async def purge_tips(self, created_before: datetime) -> int:
        result = await self._conn.execute(delete(tips).where(tips.c.created_at < created_before))
        return result.rowcount

    async def purge_inbound(self, received_before: datetime) -> int:
        result = await self._conn.execute(delete(inbound_updates).where(inbound_updates.c.received_at < received_before))
        return result.rowcount
