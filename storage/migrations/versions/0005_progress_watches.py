"""progress watches: status messages kept current with an alert's delivery

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "progress_watches",
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=220), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], name=op.f("fk_progress_watches_alert_id_alerts")),
        sa.PrimaryKeyConstraint("alert_id", name=op.f("pk_progress_watches")),
    )
    with op.batch_alter_table("progress_watches", schema=None) as batch_op:
        batch_op.create_index("ix_progress_watches_open", ["finished_at", "lease_until"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("progress_watches", schema=None) as batch_op:
        batch_op.drop_index("ix_progress_watches_open")

    op.drop_table("progress_watches")
