"""The photos of appeals (``alert_photos``): stored with their alert, served until withdrawn, purged after retention."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from core.model import AlertPhoto, AlertState
from storage.tables import alert_photos, alerts

_LIVE = (AlertState.DRAFT.value, AlertState.SCHEDULED.value, AlertState.SENDING.value, AlertState.SENT.value)


class SqlAlertPhotos:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, alert_id: int, photo: AlertPhoto) -> None:
        await self._conn.execute(
            insert(alert_photos).values(
                alert_id=alert_id,
                token=photo.token,
                content_type=photo.content_type,
                width=photo.width,
                height=photo.height,
                size=photo.size,
                sha256=photo.sha256,
                data=photo.data,
                created_at=photo.created_at,
            )
        )

    async def of_alert(self, alert_id: int) -> AlertPhoto | None:
        p = alert_photos.c
        row = (await self._conn.execute(select(alert_photos).where(p.alert_id == alert_id))).first()
        if row is None:
            return None
        return AlertPhoto(
            data=row.data,
            width=row.width,
            height=row.height,
            size=row.size,
            sha256=row.sha256,
            content_type=row.content_type,
            token=row.token,
            alert_id=row.alert_id,
            created_at=row.created_at,
            withdrawn_at=row.withdrawn_at,
            purged_at=row.purged_at,
        )

    async def withdraw(self, alert_id: int, at: datetime) -> bool:
        result = await self._conn.execute(
            update(alert_photos)
            .where(alert_photos.c.alert_id == alert_id, alert_photos.c.withdrawn_at.is_(None))
            .values(withdrawn_at=at)
        )
        return result.rowcount > 0

    async def purge(self, created_before: datetime, now: datetime, *, limit: int) -> int:
        p, a = alert_photos.c, alerts.c
        due = (
            select(p.alert_id)
            .select_from(alert_photos.join(alerts, a.id == p.alert_id))
            .where(
                p.data.is_not(None),
                p.created_at < created_before,
                or_(a.state.not_in(_LIVE), a.expires_at <= now),
            )
            .limit(limit)
        )
        result = await self._conn.execute(
            update(alert_photos)
            .where(p.alert_id.in_(due.scalar_subquery()))
            .values(data=None, purged_at=now, withdrawn_at=func.coalesce(p.withdrawn_at, now))
        )
        return result.rowcount
