"""Send-slot schedules in PostgreSQL, shared by every worker process.

Each channel has one row holding the time of its next free send slot. A
worker reserves the next few slots in one UPDATE (the row lock serialises
workers) and sends at those times, so all workers together keep the even
spacing one worker would (a GCRA). Why the database and not Redis: the
workers already hold PostgreSQL connections, a reservation is one short
UPDATE per ~1/10 s of sending, and the embedded SQLite default (one worker)
needs nothing extra.
"""
from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.outages import reported_as_unavailable

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
        self._engine = engine
        self._known: set[str] = set()

    async def reserve(self, key: str, count: int, rate: float) -> float:
        async with reported_as_unavailable(), self._engine.begin() as conn:
            if key not in self._known:
                await conn.execute(_CREATE, {"key": key})
            delay = (await conn.execute(_RESERVE, {"key": key, "count": count, "rate": rate})).scalar_one()
        # Known only once committed: a transaction cut off by an outage may have rolled the new row back.
        self._known.add(key)
        return max(0.0, float(delay))
