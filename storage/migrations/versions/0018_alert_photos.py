"""alert_photos: the photo of an appeal, kept as bytes until the force's photo retention has passed

Revision ID: 0018_alert_photos
Revises: 0017_alert_feedback
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_alert_photos"
down_revision = "0017_alert_feedback"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_photos",
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=40), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(), nullable=True),
        sa.Column("purged_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name="fk_alert_photos_alert_id_alerts", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("alert_id", name="pk_alert_photos"),
    )
    op.create_index("ix_alert_photos_created_at", "alert_photos", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_alert_photos_created_at", table_name="alert_photos")
    op.drop_table("alert_photos")
