"""The scheduler's PostgreSQL lock is per Lookout schema: deployments sharing a database each elect their own scheduler."""

from __future__ import annotations

import hashlib
import uuid

import pytest
import sqlalchemy as sa

from storage.database import make_async_engine
from storage.locks import AdvisoryLock, advisory_key
from tests.conftest import POSTGRES_URL


@pytest.fixture
def other_schema_url(postgres_schema_url: str):
    """A second, empty schema in the same database (advisory locks need no tables)."""
    schema = f"lookout_lock_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    yield (
        sa.engine.make_url(POSTGRES_URL)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )
    with admin.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()


async def test_one_scheduler_per_schema_not_per_database(postgres_schema_url: str, other_schema_url: str) -> None:
    here, there = make_async_engine(postgres_schema_url), make_async_engine(other_schema_url)
    locks = [AdvisoryLock(here, "scheduler"), AdvisoryLock(here, "scheduler"), AdvisoryLock(there, "scheduler")]
    try:
        assert [await lock.try_acquire() for lock in locks] == [True, False, True]
    finally:
        for lock in locks:
            await lock.release()
        await here.dispose()
        await there.dispose()


def test_the_public_schema_keeps_the_key_older_versions_use() -> None:
    older = int.from_bytes(hashlib.sha256(b"lookout:scheduler").digest()[:8], "big") >> 1
    assert advisory_key("scheduler", "public") == older != advisory_key("scheduler", "lookout_test_0123")
