"""messaging allowance: who counted against WhatsApp's messaging limit (people per rolling 24 hours), and when

Revision ID: 0012_messaging_allowance
Revises: 0008_delivery_priority_turn
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_messaging_allowance"
down_revision = "0008_delivery_priority_turn"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "messaging_allowance",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=220), nullable=False),
        sa.Column("counted_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "address", name=op.f("pk_messaging_allowance")),
    )
    op.create_index("ix_messaging_allowance_counted", "messaging_allowance", ["channel", "counted_at"])


def downgrade() -> None:
    op.drop_index("ix_messaging_allowance_counted", table_name="messaging_allowance")
    op.drop_table("messaging_allowance")
