"""geocode_answers: the geocoder's cache shared by every process (Nominatim's policy is per application)

Revision ID: 0015_geocode_answers
Revises: 0014_deliveries_bigint_id
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_geocode_answers"
down_revision = "0014_deliveries_bigint_id"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "geocode_answers",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_geocode_answers")),
    )
    op.create_index(op.f("ix_geocode_answers_expires_at"), "geocode_answers", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_geocode_answers_expires_at", table_name="geocode_answers")
    op.drop_table("geocode_answers")
