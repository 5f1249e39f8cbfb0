"""Human references (``A-2026-000123``, ``T-2026-000045``) from per-year counters."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from storage.database import upsert_insert
from storage.tables import reference_counters


async def next_reference(conn: AsyncConnection, prefix: str, year: int) -> str:
    """Take the next number for ``prefix`` in ``year`` inside the caller's transaction.

    An upsert with RETURNING is atomic on both databases, so two processes
    never get the same number, and a rolled-back transaction gives its number back.
    """
    insert = upsert_insert(conn, reference_counters).values(prefix=prefix, year=year, value=1)
    stmt = insert.on_conflict_do_update(
        index_elements=[reference_counters.c.prefix, reference_counters.c.year],
        set_={"value": reference_counters.c.value + 1},
    ).returning(reference_counters.c.value)
    value = (await conn.execute(stmt)).scalar_one()
    return f"{prefix}-{year}-{value:06d}"
