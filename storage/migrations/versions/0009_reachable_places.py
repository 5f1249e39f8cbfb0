"""reachable places: one covering index answers an area's cover, kept by triggers

Revision ID: 0008_reachable_places
Revises: 0008_pseudonyms_audit_source
Create Date: 2026-12-02

``reachable_places`` holds one row per place of an active, unerased resident,
with everything recipient matching reads (channel, address, sector, tester,
pause, topics). Triggers on places, subscriptions and residents rebuild a
resident's rows whenever any of those change, so every writer — the
repositories, bulk COPY loads, erasure's cascades — keeps it true without
knowing it exists. PostgreSQL's triggers are per statement over transition
tables (a 50,000-row COPY refreshes its residents in one set operation);
SQLite's are per row.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_reachable_places"
down_revision = "0008_pseudonyms_audit_source"
branch_labels = None
depends_on = None

_COVERED = ["resident_id", "channel", "address", "sector", "is_tester", "paused_until", "topics", "resident_places"]
# The residents' columns a row copies or depends on; other updates (last_inbound_at, bounces…) change nothing here.
_WATCHED = ["channel", "address", "sector", "is_tester", "paused_until", "active", "erased_at"]


def _fill(residents_filter: str, topics_of: str) -> str:
    """INSERT the reachable places of the residents ``residents_filter`` selects (an SQL condition on ``p``)."""
    return f"""
        INSERT INTO reachable_places
            (place_id, resident_id, cell, channel, address, sector, is_tester, paused_until, topics, resident_places)
        SELECT p.id, p.resident_id, p.cell, r.channel, r.address, r.sector, r.is_tester, r.paused_until,
               ',' || coalesce(({topics_of}), '') || ',',
               (SELECT count(*) FROM places q WHERE q.resident_id = p.resident_id)
        FROM places p JOIN residents r ON r.id = p.resident_id
        WHERE {residents_filter} AND r.active AND r.erased_at IS NULL"""


_PG_TOPICS = "SELECT string_agg(s.topic, ',' ORDER BY s.topic) FROM subscriptions s WHERE s.resident_id = r.id"
_SQLITE_TOPICS = "SELECT group_concat(s.topic, ',') FROM subscriptions s WHERE s.resident_id = r.id"

_PG_REFRESH = f"""
CREATE FUNCTION reachable_places_refresh(ids integer[]) RETURNS void LANGUAGE sql AS $$
    DELETE FROM reachable_places WHERE resident_id = ANY(ids);
    {_fill("p.resident_id = ANY(ids)", _PG_TOPICS)};
$$"""


def _pg_trigger_function(name: str, statement: str) -> str:
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {statement};
    RETURN NULL;
END $$"""


# One trigger function per shape of what changed: new rows, old rows, both, one resident, deleted residents.
_PG_FUNCTIONS = [
    _pg_trigger_function(
        "reachable_places_from_new",
        "PERFORM reachable_places_refresh(ARRAY(SELECT DISTINCT resident_id FROM new_rows))",
    ),
    _pg_trigger_function(
        "reachable_places_from_old",
        "PERFORM reachable_places_refresh(ARRAY(SELECT DISTINCT resident_id FROM old_rows))",
    ),
    _pg_trigger_function(
        "reachable_places_from_both",
        "PERFORM reachable_places_refresh(ARRAY(SELECT resident_id FROM new_rows UNION SELECT resident_id FROM old_rows))",
    ),
    _pg_trigger_function("reachable_places_from_resident", "PERFORM reachable_places_refresh(ARRAY[NEW.id])"),
    _pg_trigger_function(
        "reachable_places_from_deleted_residents",
        "DELETE FROM reachable_places WHERE resident_id IN (SELECT id FROM old_rows)",
    ),
]


def _pg_triggers() -> list[str]:
    statements = [_PG_REFRESH, *_PG_FUNCTIONS]
    for table in ("places", "subscriptions"):
        statements += [
            f"CREATE TRIGGER reachable_places_{table}_insert AFTER INSERT ON {table} "
            "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION reachable_places_from_new()",
            f"CREATE TRIGGER reachable_places_{table}_delete AFTER DELETE ON {table} "
            "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION reachable_places_from_old()",
            f"CREATE TRIGGER reachable_places_{table}_update AFTER UPDATE ON {table} "
            "REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT "
            "EXECUTE FUNCTION reachable_places_from_both()",
        ]
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in _WATCHED)
    statements += [
        f"CREATE TRIGGER reachable_places_residents_update AFTER UPDATE ON residents FOR EACH ROW "
        f"WHEN ({changed}) EXECUTE FUNCTION reachable_places_from_resident()",
        # Erasure deletes the resident; its places cascade (and refresh), this covers a resident without places.
        "CREATE TRIGGER reachable_places_residents_delete AFTER DELETE ON residents "
        "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION reachable_places_from_deleted_residents()",
    ]
    return statements


def _sqlite_refresh(resident: str) -> str:
    return (
        f"DELETE FROM reachable_places WHERE resident_id = {resident};"
        f"{_fill(f'p.resident_id = {resident}', _SQLITE_TOPICS)};"
    )


def _sqlite_triggers() -> list[str]:
    statements = []
    for table in ("places", "subscriptions"):
        statements += [
            f"CREATE TRIGGER reachable_places_{table}_insert AFTER INSERT ON {table} "
            f"BEGIN {_sqlite_refresh('NEW.resident_id')} END",
            f"CREATE TRIGGER reachable_places_{table}_delete AFTER DELETE ON {table} "
            f"BEGIN {_sqlite_refresh('OLD.resident_id')} END",
            f"CREATE TRIGGER reachable_places_{table}_update AFTER UPDATE ON {table} "
            f"BEGIN {_sqlite_refresh('OLD.resident_id')} {_sqlite_refresh('NEW.resident_id')} END",
        ]
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _WATCHED)
    statements += [
        f"CREATE TRIGGER reachable_places_residents_update AFTER UPDATE OF {', '.join(_WATCHED)} ON residents "
        f"WHEN {changed} BEGIN {_sqlite_refresh('NEW.id')} END",
        "CREATE TRIGGER reachable_places_residents_delete AFTER DELETE ON residents "
        "BEGIN DELETE FROM reachable_places WHERE resident_id = OLD.id; END",
    ]
    return statements


def upgrade() -> None:
    op.create_table(
        "reachable_places",
        sa.Column("place_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("cell", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=220), nullable=False),
        sa.Column("sector", sa.String(length=32), nullable=True),
        sa.Column("is_tester", sa.Boolean(), nullable=False),
        sa.Column("paused_until", sa.DateTime(), nullable=True),
        sa.Column("topics", sa.Text(), nullable=False),
        sa.Column("resident_places", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("place_id", name=op.f("pk_reachable_places")),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    # Covering on both: PostgreSQL with INCLUDE; SQLite, which has none, with every column in the key.
    if postgres:
        op.create_index("ix_reachable_places_cell", "reachable_places", ["cell"], postgresql_include=_COVERED)
    else:
        op.create_index("ix_reachable_places_cover", "reachable_places", ["cell", *_COVERED])
    op.create_index("ix_reachable_places_resident", "reachable_places", ["resident_id"])
    for statement in _pg_triggers() if postgres else _sqlite_triggers():
        op.execute(statement)
    op.execute(_fill("TRUE" if postgres else "1", _PG_TOPICS if postgres else _SQLITE_TOPICS))
    if postgres:
        # Statistics now: with none, the planner takes the new table for empty and scans it whole.
        op.execute("ANALYZE reachable_places")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, event in [(t, e) for t in ("places", "subscriptions") for e in ("insert", "delete", "update")] + [
        ("residents", "update"),
        ("residents", "delete"),
    ]:
        op.execute(f"DROP TRIGGER reachable_places_{table}_{event}" + (f" ON {table}" if postgres else ""))
    if postgres:
        for function in (
            "from_new()",
            "from_old()",
            "from_both()",
            "from_resident()",
            "from_deleted_residents()",
            "refresh(integer[])",
        ):
            op.execute(f"DROP FUNCTION reachable_places_{function}")
    op.drop_index("ix_reachable_places_resident", table_name="reachable_places")
    op.drop_index(
        "ix_reachable_places_cell" if postgres else "ix_reachable_places_cover", table_name="reachable_places"
    )
    op.drop_table("reachable_places")
