"""Alerts and their follow-ups."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from core.geo.areas import area_from_dict
from core.model import Alert, AlertState, AlertStatus, AlertType, Audience, Certainty, Severity, Urgency
from storage.references import next_reference
from storage.tables import alerts

_LIVE = (AlertState.SENDING.value, AlertState.SENT.value)


def _columns(alert: Alert) -> dict:
    return {
        "type": alert.type.value,
        "original_id": alert.original_id,
        "incident_number": alert.incident_number,
        "headline": alert.headline,
        "message": alert.message,
        "contact": alert.contact,
        "area": alert.area.to_dict(),
        "area_description": alert.area_description,
        "topics": list(alert.topics),
        "everyone": alert.everyone,
        "sectors": list(alert.sectors),
        "audience": alert.audience.value,
        "urgency": alert.urgency.value,
        "severity": alert.severity.value,
        "certainty": alert.certainty.value,
        "status": alert.status.value,
        "state": alert.state.value,
        "author": alert.author,
        "approver": alert.approver,
        "message_id": alert.message_id,
        "approved_at": alert.approved_at,
        "sent_at": alert.sent_at,
        "send_at": alert.send_at,
        "expires_at": alert.expires_at,
        "cancelled_at": alert.cancelled_at,
    }


def _alert(row: Row) -> Alert:
    return Alert(
        id=row.id,
        reference=row.reference,
        type=AlertType(row.type),
        original_id=row.original_id,
        incident_number=row.incident_number,
        headline=row.headline,
        message=row.message,
        contact=row.contact,
        area=area_from_dict(row.area),
        area_description=row.area_description,
        topics=tuple(row.topics),
        everyone=bool(row.everyone),
        sectors=tuple(row.sectors),
        audience=Audience(row.audience),
        urgency=Urgency(row.urgency),
        severity=Severity(row.severity),
        certainty=Certainty(row.certainty),
        status=AlertStatus(row.status),
        state=AlertState(row.state),
        author=row.author,
        approver=row.approver,
        message_id=row.message_id,
        created_at=row.created_at,
        approved_at=row.approved_at,
        sent_at=row.sent_at,
        send_at=row.send_at,
        expires_at=row.expires_at,
        cancelled_at=row.cancelled_at,
    )


class SqlAlertRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, alert: Alert) -> Alert:
        assert alert.created_at is not None, "the service stamps created_at"
        alert.reference = await next_reference(self._conn, "A", alert.created_at.year)
        result = await self._conn.execute(
            insert(alerts)
            .values(**_columns(alert), reference=alert.reference, created_at=alert.created_at)
            .returning(alerts.c.id)
        )
        alert.id = result.scalar_one()
        return alert

    async def get(self, alert_id: int, *, for_update: bool = False) -> Alert | None:
        return await self._one(alerts.c.id == alert_id, for_update)

    async def get_by_reference(self, reference: str, *, for_update: bool = False) -> Alert | None:
        return await self._one(alerts.c.reference == reference.strip().upper(), for_update)

    async def _one(self, condition, for_update: bool) -> Alert | None:  # noqa: ANN001 - a SQL expression
        query = select(alerts).where(condition)
        if for_update and self._conn.dialect.name == "postgresql":
            # Two web processes pressing Send on one draft: the second waits, then sees it is no longer a draft.
            # (SQLite's BEGIN IMMEDIATE already makes writers take turns.)
            query = query.with_for_update()
        row = (await self._conn.execute(query)).first()
        return _alert(row) if row else None

    async def save(self, alert: Alert) -> None:
        await self._conn.execute(update(alerts).where(alerts.c.id == alert.id).values(**_columns(alert)))

    async def recent(self, limit: int) -> list[Alert]:
        rows = await self._conn.execute(select(alerts).order_by(alerts.c.id.desc()).limit(limit))
        return [_alert(r) for r in rows]

    async def follow_ups(self, original_id: int) -> list[Alert]:
        rows = await self._conn.execute(select(alerts).where(alerts.c.original_id == original_id).order_by(alerts.c.id))
        return [_alert(r) for r in rows]

    async def due_to_send(self, now: datetime) -> list[Alert]:
        query = (
            select(alerts)
            .where(alerts.c.state == AlertState.SCHEDULED.value, alerts.c.send_at <= now)
            .order_by(alerts.c.send_at)
        )
        if self._conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return [_alert(r) for r in await self._conn.execute(query)]

    async def due_to_expire(self, now: datetime) -> list[Alert]:
        rows = await self._conn.execute(
            select(alerts).where(
                alerts.c.state.in_(_LIVE), alerts.c.expires_at <= now, alerts.c.type == AlertType.ALERT.value
            )
        )
        return [_alert(r) for r in rows]
