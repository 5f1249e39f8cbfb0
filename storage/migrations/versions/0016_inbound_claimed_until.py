"""inbound_updates.claimed_until: an unfinished claim lapses by the database's clock, not a web process's

Revision ID: 0016_inbound_claimed_until
Revises: 0015_geocode_answers
Create Date: 2026-12-02
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision = "0016_inbound_claimed_until"
down_revision = "0015_geocode_answers"
branch_labels = None
depends_on = None

# What a claim lasted before this revision (core/services/inbound_once.py, STALE_AFTER), frozen here.
STALE_AFTER = timedelta(seconds=60)


def upgrade() -> None:
    with op.batch_alter_table("inbound_updates") as batch:
        batch.add_column(sa.Column("claimed_until", sa.DateTime(), nullable=True))
    # Claims still open when the upgrade runs keep the end they had (received_at + 60 s); handled ones need none.
    updates = sa.table(
        "inbound_updates",
        sa.column("source", sa.String()),
        sa.column("update_id", sa.String()),
        sa.column("received_at", sa.DateTime()),
        sa.column("handled_at", sa.DateTime()),
        sa.column("claimed_until", sa.DateTime()),
    )
    conn = op.get_bind()
    open_claims = conn.execute(
        sa.select(updates.c.source, updates.c.update_id, updates.c.received_at).where(updates.c.handled_at.is_(None))
    ).all()
    for source, update_id, received_at in open_claims:
        conn.execute(
            sa.update(updates)
            .where(updates.c.source == source, updates.c.update_id == update_id)
            .values(claimed_until=received_at + STALE_AFTER)
        )


def downgrade() -> None:
    with op.batch_alter_table("inbound_updates") as batch:
        batch.drop_column("claimed_until")
