"""delivery engine: shared rate buckets, a claim index per channel, scheduled alerts,
no resident foreign key on deliveries (its check dominated large sends)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 15:29:23.348228
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_buckets",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("next_slot", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_buckets")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("send_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint("fk_deliveries_resident_id_residents", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_deliveries_due"))
        batch_op.create_index("ix_deliveries_claim", ["channel", "state", "next_attempt_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_claim")
        batch_op.create_foreign_key(
            "fk_deliveries_resident_id_residents", "residents", ["resident_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_index(batch_op.f("ix_deliveries_due"), ["state", "next_attempt_at"], unique=False)

    op.drop_table("rate_buckets")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("send_at")
