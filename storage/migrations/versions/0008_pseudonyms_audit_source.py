"""tipster pseudonyms on tips, where audited actions came from, refused attempts counted, message bodies for redactions

Revision ID: 0008_pseudonyms_audit_source
Revises: 0007
Create Date: 2026-12-02

Plain ADD COLUMN (no batch copy): on SQLite a table copy would drop the audit log's append-only triggers.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_pseudonyms_audit_source"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tips", sa.Column("tipster", sa.String(length=40), nullable=True))
    op.add_column("audit_log", sa.Column("source", sa.String(length=16), nullable=True))
    op.add_column("messages", sa.Column("body", sa.Text(), nullable=True))
    op.create_table(
        "refused_attempts",
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("hour", sa.DateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("actor", "action", "hour", name=op.f("pk_refused_attempts")),
    )


def downgrade() -> None:
    op.drop_table("refused_attempts")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("body")
    with op.batch_alter_table("tips", schema=None) as batch_op:
        batch_op.drop_column("tipster")
    op.drop_column("audit_log", "source")
