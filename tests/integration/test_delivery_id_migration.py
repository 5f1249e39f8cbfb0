"""Migration 0014: delivery ids are 64-bit on both databases, and the rows already there keep theirs."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from storage.database import make_sync_engine
from storage.migrate import upgrade
from tests.support.migrations import empty_database  # noqa: F401 - the fixture

BEFORE = "0013_conversations"
AT = datetime(2026, 12, 2, 9, 0)
BEYOND_32_BITS = 2**40
DELIVERIES = sa.table(
    "deliveries",
    sa.column("id"),
    sa.column("message_id"),
    sa.column("channel"),
    sa.column("address"),
    sa.column("state"),
    sa.column("attempts"),
    sa.column("next_attempt_at"),
    sa.column("created_at"),
    sa.column("updated_at"),
)


def row(address: str, **fields: object) -> dict[str, object]:
    return {
        "message_id": 1,
        "channel": "telegram",
        "address": address,
        "state": "pending",
        "attempts": 0,
        "next_attempt_at": AT,
        "created_at": AT,
        "updated_at": AT,
        **fields,
    }


def test_delivery_ids_pass_two_to_the_31_and_existing_rows_keep_theirs(empty_database: str) -> None:
    upgrade(empty_database, BEFORE)
    engine = make_sync_engine(empty_database)
    postgres = engine.dialect.name == "postgresql"
    try:
        with engine.begin() as conn:
            conn.execute(DELIVERIES.insert(), [row("telegram:1"), row("telegram:2")])
        if postgres:  # before: a 32-bit column refuses the id
            with pytest.raises(sa.exc.DataError), engine.begin() as conn:
                conn.execute(DELIVERIES.insert(), [row("telegram:3", id=BEYOND_32_BITS)])

        upgrade(empty_database)
        with engine.begin() as conn:
            conn.execute(DELIVERIES.insert(), [row("telegram:3", id=BEYOND_32_BITS)])
            if postgres:  # the sequence too: the next id the database hands out is past 2^31
                conn.execute(
                    sa.text("SELECT setval(pg_get_serial_sequence('deliveries', 'id'), :next)"), {"next": 2**31 + 5}
                )
            conn.execute(DELIVERIES.insert(), [row("telegram:4")])
            ids = dict(conn.execute(sa.select(DELIVERIES.c.address, DELIVERIES.c.id)).all())
            if postgres:
                kind = conn.execute(
                    sa.text(
                        "SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema() "
                        "AND table_name = 'deliveries' AND column_name = 'id'"
                    )
                ).scalar_one()
                assert kind == "bigint"
    finally:
        engine.dispose()
    assert ids["telegram:1"] == 1 and ids["telegram:2"] == 2  # kept
    assert ids["telegram:3"] == BEYOND_32_BITS
    assert ids["telegram:4"] > 2**31
