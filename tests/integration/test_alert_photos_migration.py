"""Migration 0018: ``alert_photos`` arrives on a database with alerts in it, matches the tables the code uses, and
goes again on downgrade, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from storage.database import make_sync_engine
from storage.migrate import alembic_config, upgrade
from storage.tables import alert_photos
from tests.support.migrations import empty_database  # noqa: F401 - the fixture

BEFORE = "0017_alert_feedback"


def test_alert_photos_comes_and_goes_with_its_revision(empty_database: str) -> None:
    upgrade(empty_database, BEFORE)
    engine = make_sync_engine(empty_database)
    try:
        assert "alert_photos" not in sa.inspect(engine).get_table_names()
        upgrade(empty_database, "0018_alert_photos")
        inspector = sa.inspect(engine)
        columns = {c["name"]: c for c in inspector.get_columns("alert_photos")}
        assert set(columns) == {c.name for c in alert_photos.columns}
        assert columns["data"]["nullable"] and not columns["token"]["nullable"]
        assert inspector.get_pk_constraint("alert_photos")["constrained_columns"] == ["alert_id"]
        (foreign,) = inspector.get_foreign_keys("alert_photos")
        assert foreign["referred_table"] == "alerts" and foreign["options"].get("ondelete") == "CASCADE"
        assert {i["name"] for i in inspector.get_indexes("alert_photos")} == {"ix_alert_photos_created_at"}
        command.downgrade(alembic_config(empty_database), BEFORE)
        assert "alert_photos" not in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()
