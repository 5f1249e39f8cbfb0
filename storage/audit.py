"""The append-only audit log (the database refuses UPDATE and DELETE on it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.clock import Clock
from core.model import AuditEntry
from storage.database import upsert_insert
from storage.tables import audit_log, refused_attempts


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
                source=entry.source,
            )
        )

    async def count_refusal(self, actor: str, action: str, hour: datetime, source: str) -> int:
        key = refused_attempts.c
        statement = upsert_insert(self._conn, refused_attempts).values(
            actor=actor, action=action, hour=hour, count=1, source=source
        )
        statement = statement.on_conflict_do_update(
            index_elements=[key.actor, key.action, key.hour], set_={"count": key.count + 1}
        )
        return (await self._conn.execute(statement.returning(key.count))).scalar_one()

    async def entries(self, subject: str | None = None, limit: int = 100) -> list[AuditEntry]:
        query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if subject is not None:
            query = query.where(audit_log.c.subject == subject)
        rows = await self._conn.execute(query)
        return [
            AuditEntry(
                id=r.id,
                at=r.at,
                actor=r.actor,
                action=r.action,
                subject=r.subject,
                detail=r.detail,
                source=r.source or "unknown",
            )
            for r in rows
        ]
