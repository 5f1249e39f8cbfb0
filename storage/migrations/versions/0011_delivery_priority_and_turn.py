"""delivery priority and turn (urgent first, nearest first, claimed from a partial index of open rows),
and alerts for everyone in the area chosen explicitly

Revision ID: 0008_delivery_priority_turn
Revises: 0009_deliveries_message_cascade
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_delivery_priority_turn"
down_revision = "0009_deliveries_message_cascade"
branch_labels = None
depends_on = None

OPEN = "state IN ('pending', 'failed', 'sending')"


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("everyone", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("priority", sa.SmallInteger(), server_default="2", nullable=False))
        batch_op.add_column(sa.Column("turn", sa.BigInteger(), server_default="0", nullable=False))
    op.create_index(
        "ix_deliveries_queue",
        "deliveries",
        ["channel", "priority", "turn", "next_attempt_at"],
        postgresql_where=sa.text(OPEN),
        sqlite_where=sa.text(OPEN),
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_queue", table_name="deliveries")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("turn")
        batch_op.drop_column("priority")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("everyone")
