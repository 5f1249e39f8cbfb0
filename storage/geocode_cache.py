"""The geocoder's answers in the database, so every process of a deployment shares one cache.

Each answer is kept under a SHA-256 of its normalised query (the queries are
often someone's address; the table says nothing of who asked) until it
expires. Expiry is by the database's clock, as leases are. A write also
drops a few expired answers, so the table keeps itself small.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.geocoding import GeocodeCandidate, candidates_from_json, candidates_to_json
from storage.database import database_after, database_now, read_transaction, upsert_insert, write_transaction
from storage.outages import reported_as_unavailable
from storage.tables import geocode_answers

EXPIRED_DROPPED_PER_WRITE = 100


def _hashed(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class SqlGeocodeCache:
    """``core.geocoding.GeocodeCache`` on a table; answers kept ``keep`` (by the database's clock)."""

    def __init__(self, engine: AsyncEngine, *, keep: timedelta) -> None:
        if keep <= timedelta(0):
            raise ValueError("keep must be a positive time")
        self._engine = engine
        self._keep = keep
        self._dialect = engine.dialect.name

    async def get(self, key: str) -> list[GeocodeCandidate] | None:
        g = geocode_answers
        async with reported_as_unavailable(), read_transaction(self._engine) as conn:
            answer = (
                await conn.execute(
                    select(g.c.answer).where(g.c.key == _hashed(key), g.c.expires_at > database_now(self._dialect))
                )
            ).scalar_one_or_none()
        return candidates_from_json(answer) if answer is not None else None

    async def put(self, key: str, candidates: list[GeocodeCandidate]) -> None:
        g = geocode_answers
        async with reported_as_unavailable(), write_transaction(self._engine) as conn:
            insert = upsert_insert(conn, g).values(
                key=_hashed(key),
                answer=candidates_to_json(candidates),
                expires_at=database_after(self._dialect, self._keep),
            )
            await conn.execute(
                insert.on_conflict_do_update(
                    index_elements=[g.c.key],
                    set_={"answer": insert.excluded.answer, "expires_at": insert.excluded.expires_at},
                )
            )
            expired = (
                select(g.c.key).where(g.c.expires_at <= database_now(self._dialect)).limit(EXPIRED_DROPPED_PER_WRITE)
            )
            await conn.execute(delete(g).where(g.c.key.in_(expired.scalar_subquery())))
