"""Send-slot schedules in the database, shared by every process that sends through one channel.

Each channel has one row holding the time of its next free send slot. A
sender reserves the next few slots in one transaction (PostgreSQL's row lock,
SQLite's single writer, serialise them) and sends at those times, so all
senders together keep the even spacing one would (a GCRA). Why the database
and not Redis: every process already holds its connections, and a reservation
is one short write per ~1/10 s of sending at broadcast rates (one per send below 100/s).

"Now" is the database's own clock, as every process sharing the row must agree
on it; these are seconds of real pacing, not the service's business time (which
comes from the injected ``Clock``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.delivery.ratelimit import SlotSource
from storage.database import is_sqlite_engine, upsert_insert, write_transaction
from storage.outages import reported_as_unavailable
from storage.tables import rate_buckets

_NOW = "(clock_timestamp() AT TIME ZONE 'UTC')"
_RESERVE = text(
    f"""
    WITH bucket AS (
        SELECT key, GREATEST(next_slot, {_NOW}) AS first_slot, {_NOW} AS now
        FROM rate_buckets WHERE key = :key FOR UPDATE
    )
    UPDATE rate_buckets AS r
    SET next_slot = bucket.first_slot + make_interval(secs => CAST(:count AS float8) / CAST(:rate AS float8))
    FROM bucket WHERE r.key = bucket.key
    RETURNING EXTRACT(EPOCH FROM (bucket.first_slot - bucket.now))
    """
)
_CREATE = text(f"INSERT INTO rate_buckets (key, next_slot) VALUES (:key, {_NOW}) ON CONFLICT (key) DO NOTHING")


class PostgresSlotSource:
    """``core.delivery.ratelimit.SlotSource`` on a PostgreSQL table."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._known: set[str] = set()

    async def reserve(self, key: str, count: int, rate: float) -> float:
        # Each statement is atomic on its own (the UPDATE locks the row it moves), so each commits by itself:
        # one round trip per reservation rather than three with BEGIN and COMMIT.
        async with reported_as_unavailable(), self._autocommit.connect() as conn:
            if key not in self._known:
                await conn.execute(_CREATE, {"key": key})
            delay = (await conn.execute(_RESERVE, {"key": key, "count": count, "rate": rate})).scalar_one()
        self._known.add(key)
        return max(0.0, float(delay))


# SQLite's clock in seconds since 1970 (julianday 2440587.5 is 1970-01-01 00:00 UTC), to the microsecond or so.
_SQLITE_NOW = text("SELECT (julianday('now') - 2440587.5) * 86400.0")


class SqliteSlotSource:
    """``core.delivery.ratelimit.SlotSource`` on SQLite: the same schedule row, read and moved in one write
    transaction (SQLite has one writer at a time, so two processes cannot take the same slot)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def reserve(self, key: str, count: int, rate: float) -> float:
        async with reported_as_unavailable(), write_transaction(self._engine) as conn:
            now = datetime.fromtimestamp((await conn.execute(_SQLITE_NOW)).scalar_one(), UTC)
            booked = (
                await conn.execute(select(rate_buckets.c.next_slot).where(rate_buckets.c.key == key))
            ).scalar_one_or_none()
            first = max(booked, now) if booked is not None else now
            following = first + timedelta(seconds=count / rate)
            await conn.execute(
                upsert_insert(conn, rate_buckets)
                .values(key=key, next_slot=following)
                .on_conflict_do_update(index_elements=[rate_buckets.c.key], set_={"next_slot": following})
            )
        return max(0.0, (first - now).total_seconds())


def slot_source(engine: AsyncEngine) -> SlotSource:
    """The send-slot schedules of this engine's database."""
    return SqliteSlotSource(engine) if is_sqlite_engine(engine) else PostgresSlotSource(engine)
