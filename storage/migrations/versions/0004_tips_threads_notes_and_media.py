"""tips: threads in the officers queue, notes, photos; residents blocked from tipping

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tip_media",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tip_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("content_type", sa.String(length=60), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["tip_id"], ["tips.id"], name=op.f("fk_tip_media_tip_id_tips"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tip_media")),
    )
    with op.batch_alter_table("tip_media", schema=None) as batch_op:
        batch_op.create_index("ix_tip_media_tip", ["tip_id"], unique=False)

    op.create_table(
        "tip_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tip_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["tip_id"], ["tips.id"], name=op.f("fk_tip_notes_tip_id_tips"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tip_notes")),
    )
    with op.batch_alter_table("tip_notes", schema=None) as batch_op:
        batch_op.create_index("ix_tip_notes_tip", ["tip_id"], unique=False)

    op.create_table(
        "tip_threads",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], name=op.f("fk_tip_threads_alert_id_alerts")),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_tip_threads_message_id_messages"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_tip_threads")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("thread_key", sa.String(length=40), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_messages_note_id_tip_notes"), "tip_notes", ["note_id"], ["id"], ondelete="CASCADE"
        )

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_deliveries_address_provider", ["address", "provider_message_id"], unique=False)

    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tips_blocked", sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table("tips", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("thread_key", sa.String(length=40), nullable=True))
        batch_op.create_index("ix_tips_resident_created", ["resident_id", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tips", schema=None) as batch_op:
        batch_op.drop_index("ix_tips_resident_created")
        batch_op.drop_column("thread_key")
        batch_op.drop_column("contact")

    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.drop_column("tips_blocked")

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_address_provider")

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_messages_note_id_tip_notes"), type_="foreignkey")
        batch_op.drop_column("thread_key")
        batch_op.drop_column("note_id")

    op.drop_table("tip_threads")
    with op.batch_alter_table("tip_notes", schema=None) as batch_op:
        batch_op.drop_index("ix_tip_notes_tip")

    op.drop_table("tip_notes")
    with op.batch_alter_table("tip_media", schema=None) as batch_op:
        batch_op.drop_index("ix_tip_media_tip")

    op.drop_table("tip_media")
