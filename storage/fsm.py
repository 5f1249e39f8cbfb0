"""aiogram's FSM storage on Lookout's database.

aiogram reads the state on every update, so keeping it here (not in process
memory) lets any number of web processes serve one conversation.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import read_transaction, upsert_insert, write_transaction
from storage.tables import conversation_states


def _key(key: StorageKey) -> str:
    return ":".join(
        str(part) for part in (key.bot_id, key.chat_id, key.user_id, key.thread_id or "", key.business_connection_id or "", key.destiny)
    )


class SqlFsmStorage(BaseStorage):
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._upsert(key, {"state": value})

    async def get_state(self, key: StorageKey) -> str | None:
        row = await self._row(key)
        return row.state if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._upsert(key, {"data": dict(data)})

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        row = await self._row(key)
        return dict(row.data) if row else {}

    async def forget_chat(self, chat_id: int) -> None:
        """Erasure: every conversation state of this chat goes."""
        async with write_transaction(self._engine) as conn:
            await conn.execute(delete(conversation_states).where(conversation_states.c.chat_id == chat_id))

    async def close(self) -> None:
        """The engine belongs to the app, which disposes of it."""

    async def _row(self, key: StorageKey):  # noqa: ANN202 - a result row or None
        async with read_transaction(self._engine) as conn:
            query = select(conversation_states.c.state, conversation_states.c.data).where(conversation_states.c.key == _key(key))
            return (await conn.execute(query)).first()

    async def _upsert(self, key: StorageKey, values: dict[str, Any]) -> None:
        now = datetime.now(UTC)
        async with write_transaction(self._engine) as conn:
            row = {"key": _key(key), "chat_id": key.chat_id, "state": None, "data": {}, "updated_at": now, **values}
            statement = upsert_insert(conn, conversation_states).values(**row)
            await conn.execute(
                statement.on_conflict_do_update(index_elements=[conversation_states.c.key], set_={**values, "updated_at": now})
            )
