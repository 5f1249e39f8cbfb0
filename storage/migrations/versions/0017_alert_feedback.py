"""alert_feedback: residents' "Useful / Not useful" answers to alerts; tips.seen_told_at: the tipster told once

Revision ID: 0017_alert_feedback
Revises: 0016_inbound_claimed_until
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_alert_feedback"
down_revision = "0016_inbound_claimed_until"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("useful", sa.Boolean(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], name=op.f("fk_alert_feedback_alert_id_alerts")),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_alert_feedback_resident_id_residents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_feedback")),
        sa.UniqueConstraint("alert_id", "resident_id", name=op.f("uq_alert_feedback_alert_id_resident_id")),
    )
    op.create_index("ix_alert_feedback_answered_at", "alert_feedback", ["answered_at"])
    with op.batch_alter_table("tips") as batch:
        batch.add_column(sa.Column("seen_told_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tips") as batch:
        batch.drop_column("seen_told_at")
    op.drop_index("ix_alert_feedback_answered_at", table_name="alert_feedback")
    op.drop_table("alert_feedback")
