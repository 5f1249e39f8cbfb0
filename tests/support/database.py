"""Reading the database a test's server process wrote, from the test (synchronously)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from storage.database import make_sync_engine


def rows(database_url: str, query: sa.Select) -> list[Any]:
    engine = make_sync_engine(database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(query).all())
    finally:
        engine.dispose()


def count(database_url: str, table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
    return rows(database_url, sa.select(sa.func.count()).select_from(table).where(*where))[0][0]
