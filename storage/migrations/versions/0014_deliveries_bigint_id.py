"""deliveries.id a 64-bit integer: a force sending to 50,000 residents a day passes 2^31 delivery ids in
about a century, a busy national deployment (or a benchmark left running) in months; the id is never reused

PostgreSQL: the column and its sequence become bigint. ``ALTER COLUMN … TYPE bigint`` rewrites the table under
an exclusive lock (deliveries are paused meanwhile: 11 s for a million rows on the project's shared 2-core
machine, indexes included; retention keeps the table to 90 days of rows). SQLite: nothing to do, an ``INTEGER PRIMARY KEY`` is already
the table's 64-bit rowid.

Revision ID: 0014_deliveries_bigint_id
Revises: 0013_conversations
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_deliveries_bigint_id"
down_revision = "0013_conversations"
branch_labels = None
depends_on = None


def _sequence() -> str | None:
    return op.get_bind().execute(sa.text("SELECT pg_get_serial_sequence('deliveries', 'id')")).scalar_one()


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.alter_column("deliveries", "id", type_=sa.BigInteger(), existing_type=sa.Integer(), existing_nullable=False)
    sequence = _sequence()
    if sequence is not None:
        op.execute(f"ALTER SEQUENCE {sequence} AS bigint")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    sequence = _sequence()
    if sequence is not None:
        op.execute(f"ALTER SEQUENCE {sequence} AS integer")
    op.alter_column("deliveries", "id", type_=sa.Integer(), existing_type=sa.BigInteger(), existing_nullable=False)
