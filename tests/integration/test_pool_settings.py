"""LOOKOUT_DB_POOL_SIZE and LOOKOUT_DB_MAX_OVERFLOW size each process's PostgreSQL pool."""

from __future__ import annotations

from contextlib import AsyncExitStack

import pytest
from sqlalchemy import text

from core.settings import Settings
from runtime.app import build


async def test_the_pool_keeps_its_size_and_closes_the_overflow_when_done(postgres_schema_url: str) -> None:
    lookout = build(
        Settings(LOOKOUT_DATABASE_URL=postgres_schema_url, LOOKOUT_DB_POOL_SIZE="2", LOOKOUT_DB_MAX_OVERFLOW="1")
    )
    pool = lookout.engine.pool
    try:
        assert pool.size() == 2
        async with AsyncExitStack() as held:
            for _ in range(3):  # the pool's two and one more
                conn = await held.enter_async_context(lookout.engine.connect())
                await conn.execute(text("SELECT 1"))
            assert pool.checkedout() == 3 and pool.overflow() == 1  # the one overflow connection allowed is in use
        assert pool.checkedin() == 2  # the overflow connection is closed, the pool's two kept
    finally:
        await lookout.aclose()


@pytest.mark.parametrize(
    ("name", "value"),
    [("LOOKOUT_DB_POOL_SIZE", "0"), ("LOOKOUT_DB_MAX_OVERFLOW", "-1"), ("LOOKOUT_DB_POOL_SIZE", "many")],
)
def test_a_bad_pool_setting_is_refused(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        Settings(**{name: value})
