"""The append-only audit log (the database refuses UPDATE and DELETE on it)."""
from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.clock import Clock
from core.model import AuditEntry
from storage.tables import audit_log


class SqlAuditLog:
    def __init__(self, conn: AsyncConnection, clock: Clock) -> None:
        self._conn = conn
        self._clock = clock

    async def append(self, entry: AuditEntry) -> None:
        await self._conn.execute(
            insert(audit_log).values(
                at=entry.at or self._clock(),
                actor=entry.actor,
                action=entry.action,
                subject=entry.subject,
                detail=entry.detail,
            )
        )

    async def entries(self, subject: str | None = None, limit: int = 100) -> list[AuditEntry]:
        query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if subject is not None:
            query = query.where(audit_log.c.subject == subject)
        rows = await self._conn.execute(query)
        return [
            AuditEntry(id=r.id, at=r.at, actor=r.actor, action=r.action, subject=r.subject, detail=r.detail) for r in rows
        ]
