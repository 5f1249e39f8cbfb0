"""Migration 0013: the conversations of both apps move from ``conversation_states`` into ``conversations``, both databases."""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa

from storage.database import make_sync_engine
from storage.migrate import upgrade
from tests.support.migrations import empty_database  # noqa: F401 - the fixture

BEFORE = "0012_messaging_allowance"
AT = datetime(2026, 12, 1, 9, 30)
OLD = sa.table(
    "conversation_states",
    sa.column("key"),
    sa.column("chat_id"),
    sa.column("state"),
    sa.column("data", sa.JSON),
    sa.column("updated_at"),
)


def test_both_apps_conversations_move_with_their_steps_and_nothing_of_the_old_shape_survives(
    empty_database: str,
) -> None:
    upgrade(empty_database, BEFORE)
    engine = make_sync_engine(empty_database)
    try:
        with engine.begin() as conn:
            conn.execute(
                OLD.insert(),
                [
                    # aiogram's rows: a tip being written; a place chosen (as a cell centre's coordinates) but not labelled;
                    # a lookup's candidates in aiogram's shape; an idle subscriber's language; an empty row.
                    {
                        "key": "123:777001:777001:::default",
                        "chat_id": 777001,
                        "state": "TipFlow:collecting",
                        "data": {
                            "lang": "pl",
                            "tip": {"alert_id": 4, "texts": ["a van"], "photos": [], "location": None},
                        },
                        "updated_at": AT,
                    },
                    {
                        "key": "123:777002:777002:::default",
                        "chat_id": 777002,
                        "state": "Onboarding:label",
                        "data": {"mode": "join", "place": {"lat": 52.80671, "lon": -2.11742}},
                        "updated_at": AT,
                    },
                    {
                        "key": "123:777003:777003:::default",
                        "chat_id": 777003,
                        "state": "Onboarding:confirm_place",
                        "data": {"candidates": [{"label": "ST16 2LZ, Stafford", "lat": 52.8, "lon": -2.1}]},
                        "updated_at": AT,
                    },
                    {
                        "key": "123:777004:777004:::default",
                        "chat_id": 777004,
                        "state": None,
                        "data": {"lang": "en"},
                        "updated_at": AT,
                    },
                    {
                        "key": "123:777005:777005:::default",
                        "chat_id": 777005,
                        "state": None,
                        "data": {},
                        "updated_at": AT,
                    },
                    # The conversation store's row for WhatsApp, with its sentinel chat id.
                    {
                        "key": "whatsapp:447700900123",
                        "chat_id": 0,
                        "state": "topics",
                        "data": {"topics": ["all"]},
                        "updated_at": AT,
                    },
                ],
            )
        upgrade(empty_database)
        with engine.connect() as conn:
            moved = conn.execute(
                sa.text("SELECT channel, address, step, data FROM conversations ORDER BY channel, address")
            ).all()
            tables = sa.inspect(conn).get_table_names()
    finally:
        engine.dispose()
    as_read = [(c, a, s, d if isinstance(d, dict) else json.loads(d)) for c, a, s, d in moved]
    assert as_read == [
        (
            "telegram",
            "777001",
            "tip_collecting",
            {"lang": "pl", "tip": {"alert_id": 4, "texts": ["a van"], "photos": [], "location": None}},
        ),
        ("telegram", "777002", "location", {"mode": "join"}),  # asked for the place again: no coordinates come along
        ("telegram", "777003", "location", {}),  # the looked-up address does not come along either
        ("telegram", "777004", None, {"lang": "en"}),
        ("whatsapp", "447700900123", "topics", {"topics": ["all"]}),
    ]
    assert "conversation_states" not in tables
