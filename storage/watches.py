"""Progress watches: which officer-facing status messages still need keeping current, and who holds each."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from core.model import Address
from core.ports import ProgressWatch
from storage.database import database_after, database_now
from storage.tables import progress_watches


class SqlProgressWatches:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, alert_id: int, address: Address, now: datetime) -> None:
        await self._conn.execute(
            insert(progress_watches).values(alert_id=alert_id, address=str(address), created_at=now, updated_at=now)
        )

    async def claim(self, lease: timedelta, limit: int) -> list[ProgressWatch]:
        w = progress_watches
        dialect = self._conn.dialect.name
        free = or_(
            w.c.lease_until.is_(None), w.c.lease_until < database_now(dialect)
        )  # by the database's clock, as leased
        wanted = select(w.c.alert_id).where(w.c.finished_at.is_(None), free).order_by(w.c.created_at).limit(limit)
        # The lease condition is checked again in the UPDATE itself, so two processes
        # racing for one watch cannot both take it (the loser's UPDATE matches no row).
        rows = await self._conn.execute(
            update(w)
            .where(w.c.alert_id.in_(wanted.scalar_subquery()), w.c.finished_at.is_(None), free)
            .values(lease_until=database_after(dialect, lease))
            .returning(w.c.alert_id, w.c.address, w.c.created_at, w.c.updated_at)
        )
        return [ProgressWatch(row.alert_id, Address.parse(row.address), row.created_at, row.updated_at) for row in rows]

    async def renew(self, alert_id: int, lease: timedelta, *, updated_at: datetime | None = None) -> None:
        changes: dict[str, object] = {"lease_until": database_after(self._conn.dialect.name, lease)}
        if updated_at is not None:
            changes["updated_at"] = updated_at
        await self._conn.execute(
            update(progress_watches).where(progress_watches.c.alert_id == alert_id).values(**changes)
        )

    async def finish(self, alert_id: int, now: datetime) -> None:
        await self._conn.execute(
            update(progress_watches)
            .where(progress_watches.c.alert_id == alert_id)
            .values(finished_at=now, lease_until=None, updated_at=now)
        )

    async def move(self, alert_id: int, address: Address) -> None:
        await self._conn.execute(
            update(progress_watches).where(progress_watches.c.alert_id == alert_id).values(address=str(address))
        )

    async def address_of(self, alert_id: int) -> Address | None:
        address = await self._conn.scalar(
            select(progress_watches.c.address).where(progress_watches.c.alert_id == alert_id)
        )
        return Address.parse(address) if address else None
