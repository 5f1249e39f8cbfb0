"""Migration 0017: tips already held get no "seen" time (an officer's next action tells their tipster once),
the answers' table starts empty with its one-answer-per-resident rule, and it downgrades cleanly."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
from alembic import command

from storage.database import make_sync_engine
from storage.migrate import alembic_config, upgrade
from tests.support.migrations import empty_database  # noqa: F401 - the fixture

BEFORE = "0016_inbound_claimed_until"


def downgrade(database_url: str, revision: str) -> None:
    engine = make_sync_engine(database_url)
    try:
        with engine.begin() as connection:
            config = alembic_config(database_url)
            config.attributes["connection"] = connection
            command.downgrade(config, revision)
    finally:
        engine.dispose()


AT = datetime(2026, 12, 2, 9, 0)


def test_tips_held_before_are_untold_answers_are_one_per_resident_and_it_downgrades(empty_database: str) -> None:
    upgrade(empty_database, BEFORE)
    engine = make_sync_engine(empty_database)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO tips (reference, text, media, anonymous, state, created_at) "
                    "VALUES ('T-2026-000001', 'A van', '[]', true, 'new', :at)"
                ),
                {"at": AT},
            )
        upgrade(empty_database)
        with engine.begin() as conn:
            assert conn.execute(sa.text("SELECT seen_told_at FROM tips")).all() == [(None,)]
            conn.execute(
                sa.text(
                    "INSERT INTO residents (channel, address, language, age_confirmed, is_tester, tips_blocked, "
                    "active, created_at, bounces) VALUES ('telegram', 'telegram:1', 'en', true, false, false, true, :at, 0)"
                ),
                {"at": AT},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO alerts (reference, type, incident_number, headline, message, contact, area, "
                    "area_description, topics, everyone, sectors, audience, urgency, severity, certainty, status, "
                    "state, author, created_at) VALUES ('A-2026-000001', 'Alert', 'MV-1', 'h', 'm', 'c', '{}', 'a', "
                    "'[]', true, '[]', 'residents', 'Immediate', 'Severe', 'Observed', 'Actual', 'sent', 'U1', :at)"
                ),
                {"at": AT},
            )
            answer = "INSERT INTO alert_feedback (alert_id, resident_id, channel, useful, answered_at) VALUES (1, 1, 'telegram', true, :at)"
            conn.execute(sa.text(answer), {"at": AT})
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.text(answer), {"at": AT})  # a second answer is an upsert in code, never a second row
        downgrade(empty_database, BEFORE)
        with engine.connect() as conn:
            tables = sa.inspect(conn).get_table_names()
            columns = {c["name"] for c in sa.inspect(conn).get_columns("tips")}
    finally:
        engine.dispose()
    assert "alert_feedback" not in tables and "seen_told_at" not in columns
