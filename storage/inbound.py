"""The inbound log: each platform update handled once, even across web processes."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.database import database_after, database_now
from storage.tables import inbound_updates


# Every platform update is claimed and then marked handled: both statements are built once, with bound
# parameters, so an update costs no statement building and no cache key (memoised on the statement object).
# A claim lasts until ``claimed_until``, by the database's clock: web processes on machines whose clocks differ
# must agree on when a handler is taken for dead (as delivery leases do).
@cache
def _claim(dialect_name: str, stale_after: timedelta) -> Any:
    dialect = {"postgresql": postgresql, "sqlite": sqlite}[dialect_name]  # both spell ON CONFLICT alike
    insert = dialect.insert(inbound_updates).values(claimed_until=database_after(dialect_name, stale_after))
    return insert.on_conflict_do_nothing(
        index_elements=[inbound_updates.c.source, inbound_updates.c.update_id]
    ).returning(inbound_updates.c.update_id)  # rowcount is not reliable here on every driver


@cache
def _retake(dialect_name: str, stale_after: timedelta) -> Any:
    """The claim of an update left unfinished past its end (its handler's process died), taken again."""
    u = inbound_updates
    return (
        update(u)
        .where(
            u.c.source == bindparam("key_source"),
            u.c.update_id == bindparam("key_update_id"),
            u.c.handled_at.is_(None),
            u.c.claimed_until < database_now(dialect_name),
        )
        .values(
            received_at=bindparam("now", type_=u.c.received_at.type),
            claimed_until=database_after(dialect_name, stale_after),
        )
    )


@cache
def claim_or_retake(stale_after: timedelta) -> Any:
    """PostgreSQL: the claim and the retake as one statement (a new update is inserted; one whose handler's claim
    has lapsed is taken again; otherwise nothing), returning the update id when it is now ours. One statement is
    atomic, so it can go in a data-modifying WITH with the reads that follow a claim (storage/conversations.py)."""
    u = inbound_updates
    until = database_after("postgresql", stale_after)
    insert = postgresql.insert(u).values(
        source=bindparam("source"),
        update_id=bindparam("update_id"),
        received_at=bindparam("received_at", type_=u.c.received_at.type),
        claimed_until=until,
    )
    return insert.on_conflict_do_update(
        index_elements=[u.c.source, u.c.update_id],
        set_={u.c.received_at: insert.excluded.received_at, u.c.claimed_until: until},
        where=u.c.handled_at.is_(None) & (u.c.claimed_until < database_now("postgresql")),
    ).returning(u.c.update_id)


# Marking an update handled; other statements may carry it (storage/conversations.py writes a conversation's step
# with it in one statement on PostgreSQL), with the parameters ``handled_parameters`` gives.
MARK_HANDLED = (
    update(inbound_updates)
    .where(
        inbound_updates.c.source == bindparam("key_source"), inbound_updates.c.update_id == bindparam("key_update_id")
    )
    .values(handled_at=bindparam("now", type_=inbound_updates.c.handled_at.type))
)


def handled_parameters(source: str, update_id: str, now: datetime) -> dict[str, object]:
    return {"key_source": source, "key_update_id": update_id, "now": now}


class SqlInboundLog:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def begin(self, source: str, update_id: str, now: datetime, stale_after: timedelta) -> bool:
        dialect = self._conn.dialect.name
        created = await self._conn.execute(
            _claim(dialect, stale_after), {"source": source, "update_id": update_id, "received_at": now}
        )
        if created.first() is not None:
            return True
        retaken = await self._conn.execute(
            _retake(dialect, stale_after), {"key_source": source, "key_update_id": update_id, "now": now}
        )
        return retaken.rowcount == 1

    async def finish(self, source: str, update_id: str, now: datetime) -> None:
        await self._conn.execute(MARK_HANDLED, handled_parameters(source, update_id, now))

    async def forget(self, source: str, update_id: str) -> None:
        u = inbound_updates
        await self._conn.execute(
            delete(u).where(u.c.source == source, u.c.update_id == update_id, u.c.handled_at.is_(None))
        )

    async def count(self, source: str, prefix: str) -> int:
        u = inbound_updates
        # LIKE, not a range: PostgreSQL's collation may order ':' and digits its own way.
        found = await self._conn.execute(
            select(func.count())
            .select_from(u)
            .where(u.c.source == source, u.c.update_id.startswith(prefix, autoescape=True))
        )
        return found.scalar_one()
