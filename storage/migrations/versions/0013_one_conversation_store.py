"""one conversation store for every channel: ``conversation_states`` (aiogram's keys, a sentinel chat id for
WhatsApp) becomes ``conversations`` keyed by (channel, address)

Telegram's rows were aiogram's (``<bot>:<chat>:<user>:…``, states such as ``Onboarding:location``); they move
to the conversation's own step names. Two things of aiogram's journey have no place in the new one and are
dropped: a place chosen but not yet labelled (kept as a cell centre's coordinates; the resident is asked for the
place again) and a lookup's candidates in the old shape (the same). Downgrading keeps WhatsApp's rows;
Telegram's cannot be given aiogram's keys back (the bot id is not in the database), so they go: at worst a
resident half-way through a step starts it again.

Revision ID: 0013_conversations
Revises: 0012_messaging_allowance
Create Date: 2026-12-02
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0013_conversations"
down_revision = "0012_messaging_allowance"
branch_labels = None
depends_on = None

# aiogram's state names → the conversation's steps (core/conversation/state.py).
STEPS = {
    "Onboarding:age": "age",
    "Onboarding:location": "location",
    "Onboarding:confirm_place": "confirm_place",
    "Onboarding:choose_place": "choose_place",
    "Onboarding:label": "label",
    "Onboarding:topics": "topics",
    "Onboarding:sector": "sector",
    "Managing:rename_place": "rename_place",
    "Managing:topics": "manage_topics",
    "TipFlow:collecting": "tip_collecting",
    "TipFlow:offer": "tip_offer",
    "TipFlow:anonymity": "tip_anonymity",
    "TipFlow:answering": "tip_answering",
}
OLD = sa.table(
    "conversation_states",
    sa.column("key", sa.String),
    sa.column("chat_id", sa.BigInteger),
    sa.column("state", sa.String),
    sa.column("data", sa.JSON),
    sa.column("updated_at", sa.DateTime),
)
NEW = sa.table(
    "conversations",
    sa.column("channel", sa.String),
    sa.column("address", sa.String),
    sa.column("step", sa.String),
    sa.column("data", sa.JSON),
    sa.column("updated_at", sa.DateTime),
)


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("step", sa.String(length=100), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "address", name=op.f("pk_conversations")),
    )
    op.create_index("ix_conversations_updated", "conversations", ["updated_at"], unique=False)

    conn = op.get_bind()
    moved: dict[tuple[str, str], dict[str, Any]] = {}
    for row in conn.execute(sa.select(OLD).order_by(OLD.c.updated_at)):  # the newest of a chat's rows wins
        new = _moved(row)
        if new is not None:
            moved[(new["channel"], new["address"])] = new
    if moved:
        conn.execute(NEW.insert(), list(moved.values()))

    with op.batch_alter_table("conversation_states", schema=None) as batch_op:
        batch_op.drop_index("ix_conversation_states_chat")
    op.drop_table("conversation_states")


def _moved(row: Any) -> dict[str, Any] | None:
    data = dict(row.data or {})
    if row.chat_id == 0 and row.key.startswith("whatsapp:"):  # written by the conversation store: already its steps
        channel, _, address = row.key.partition(":")
        step = row.state
    else:
        channel, address = "telegram", str(row.chat_id)
        step = STEPS.get(row.state) if row.state else None
        if isinstance(data.get("place"), dict) or any(
            isinstance(c, dict) and "cell" not in c for c in data.get("candidates") or []
        ):
            data.pop("place", None)
            data.pop("candidates", None)
            if step in ("choose_place", "confirm_place", "label"):
                step = "location"  # asked for the place again
    if step is None and not data:
        return None
    return {"channel": channel, "address": address, "step": step, "data": data, "updated_at": row.updated_at}


def downgrade() -> None:
    op.create_table(
        "conversation_states",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=100), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_conversation_states")),
    )
    with op.batch_alter_table("conversation_states", schema=None) as batch_op:
        batch_op.create_index("ix_conversation_states_chat", ["chat_id"], unique=False)
    conn = op.get_bind()
    kept = [
        {
            "key": f"{row.channel}:{row.address}",
            "chat_id": 0,
            "state": row.step,
            "data": row.data,
            "updated_at": row.updated_at,
        }
        for row in conn.execute(sa.select(NEW).where(NEW.c.channel != "telegram"))
    ]
    if kept:
        conn.execute(OLD.insert(), kept)
    op.drop_index("ix_conversations_updated", table_name="conversations")
    op.drop_table("conversations")
