"""no message foreign key on deliveries: its per-row check cost ~10% of a large send; a trigger cascades deletes

Revision ID: 0009_deliveries_message_cascade
Revises: 0008_reachable_places
Create Date: 2026-12-02

A 57,000-row send ran the foreign-key check once per row against the same
message. Deleting a message (a withdrawn tip reply; tips purged, whose
messages cascade) must still delete its delivery rows: a trigger on
``messages`` does that, per statement on PostgreSQL, per row on SQLite.
"""

from __future__ import annotations

from alembic import op

revision = "0009_deliveries_message_cascade"
down_revision = "0008_reachable_places"
branch_labels = None
depends_on = None

_PG_FUNCTION = """
CREATE FUNCTION deliveries_of_deleted_messages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM deliveries WHERE message_id IN (SELECT id FROM old_rows);
    RETURN NULL;
END $$"""
_PG_TRIGGER = (
    "CREATE TRIGGER deliveries_cascade_messages_delete AFTER DELETE ON messages "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION deliveries_of_deleted_messages()"
)
_SQLITE_TRIGGER = (
    "CREATE TRIGGER deliveries_cascade_messages_delete AFTER DELETE ON messages "
    "BEGIN DELETE FROM deliveries WHERE message_id = OLD.id; END"
)


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint("fk_deliveries_message_id_messages", type_="foreignkey")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        op.execute(_SQLITE_TRIGGER)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute("DROP TRIGGER deliveries_cascade_messages_delete" + (" ON messages" if postgres else ""))
    if postgres:
        op.execute("DROP FUNCTION deliveries_of_deleted_messages()")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_deliveries_message_id_messages", "messages", ["message_id"], ["id"], ondelete="CASCADE"
        )
