"""Migration 0016: a claim still open at the upgrade keeps the end it had; a handled update needs none."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from storage.database import make_sync_engine
from storage.migrate import upgrade
from tests.support.migrations import empty_database  # noqa: F401 - the fixture

BEFORE = "0015_geocode_answers"
AT = datetime(2026, 12, 2, 9, 0)
UPDATES = sa.table(
    "inbound_updates",
    sa.column("source"),
    sa.column("update_id"),
    sa.column("received_at"),
    sa.column("handled_at"),
)


def test_open_claims_keep_their_sixty_seconds_and_handled_ones_get_no_end(empty_database: str) -> None:
    upgrade(empty_database, BEFORE)
    engine = make_sync_engine(empty_database)
    try:
        with engine.begin() as conn:
            conn.execute(
                UPDATES.insert(),
                [
                    {"source": "telegram", "update_id": "1", "received_at": AT, "handled_at": None},
                    {"source": "telegram", "update_id": "2", "received_at": AT, "handled_at": AT},
                ],
            )
        upgrade(empty_database)
        with engine.connect() as conn:
            ends = dict(
                conn.execute(sa.text("SELECT update_id, claimed_until FROM inbound_updates ORDER BY update_id")).all()
            )
    finally:
        engine.dispose()
    opened = ends["1"] if isinstance(ends["1"], datetime) else datetime.fromisoformat(ends["1"])
    assert opened == AT + timedelta(seconds=60)
    assert ends["2"] is None
