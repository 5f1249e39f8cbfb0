"""aiogram's FSM storage on Lookout's database.

aiogram reads the state on every update, so keeping it here (not in process
memory) lets any number of web processes serve one conversation.

Within ``batched()`` (the Telegram webhook wraps each update in one) the
sender's conversations are read once, in the transaction that claims the
update (``begin_update``), however often aiogram's filters, the language
middleware and the handler ask; changes are kept and written by ``flush()``
in one transaction together with marking the update handled. A message then
costs two database transactions instead of five or six.
"""
from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.clock import Clock
from storage.database import read_transaction, upsert_insert, write_transaction
from storage.inbound import SqlInboundLog
from storage.outages import reported_as_unavailable
from storage.tables import conversation_states


def _key(key: StorageKey) -> str:
    return ":".join(
        str(part) for part in (key.bot_id, key.chat_id, key.user_id, key.thread_id or "", key.business_connection_id or "", key.destiny)
    )


@dataclass
class _Conversation:
    """One key's state and data as this update sees them."""

    chat_id: int
    state: str | None
    data: dict[str, Any]
    changed: bool = False


@dataclass
class _Batch:
    conversations: dict[str, _Conversation] = field(default_factory=dict)
    read_chats: set[int] = field(default_factory=set)  # every row of these chats is in ``conversations``


_current_batch: ContextVar[_Batch | None] = ContextVar("lookout_fsm_batch", default=None)


class SqlFsmStorage(BaseStorage):
    def __init__(self, engine: AsyncEngine, *, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    @asynccontextmanager
    async def batched(self) -> AsyncIterator[None]:
        """Read each key once and keep the changes until ``flush()`` (which must be called inside)."""
        token = _current_batch.set(_Batch())
        try:
            yield
        finally:
            _current_batch.reset(token)

    async def begin_update(self, source: str, update_id: str, *, chat_id: int | None, stale_after: timedelta) -> bool:
        """Inside ``batched()``: claim the inbound update (``InboundLog.begin``) and, in the same
        transaction, read the sender's conversations, so handling it needs no further read."""
        batch = _current_batch.get()
        async with reported_as_unavailable(), write_transaction(self._engine) as conn:
            fresh = await SqlInboundLog(conn).begin(source, update_id, self._clock(), stale_after)
            if fresh and batch is not None and chat_id is not None:
                table = conversation_states
                rows = await conn.execute(select(table.c.key, table.c.state, table.c.data).where(table.c.chat_id == chat_id))
                for row in rows:
                    batch.conversations[row.key] = _Conversation(chat_id, row.state, dict(row.data))
                batch.read_chats.add(chat_id)
        return fresh

    async def flush(self, *, handled: tuple[str, str] | None = None) -> None:
        """Write the batch's changes, and mark the inbound update ``handled`` (source, id), in one transaction."""
        batch = _current_batch.get()
        changed = [(key, c) for key, c in batch.conversations.items() if c.changed] if batch else []
        if not changed and handled is None:
            return
        async with reported_as_unavailable(), write_transaction(self._engine) as conn:
            for key, conversation in changed:
                await self._write(conn, key, conversation)
                conversation.changed = False
            if handled is not None:
                await SqlInboundLog(conn).finish(*handled, self._clock())

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._change(key, state=value)

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self._read(key)).state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._change(key, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        return dict((await self._read(key)).data)

    async def forget_chat(self, chat_id: int) -> None:
        """Erasure: every conversation state of this chat goes, now (not at the end of the batch)."""
        batch = _current_batch.get()
        if batch is not None:
            for conversation in batch.conversations.values():
                if conversation.chat_id == chat_id:
                    conversation.state, conversation.data, conversation.changed = None, {}, False
        async with write_transaction(self._engine) as conn:
            await conn.execute(delete(conversation_states).where(conversation_states.c.chat_id == chat_id))

    async def close(self) -> None:
        """The engine belongs to the app, which disposes of it."""

    async def _read(self, key: StorageKey) -> _Conversation:
        batch = _current_batch.get()
        name = _key(key)
        if batch is not None and name in batch.conversations:
            return batch.conversations[name]
        if batch is not None and key.chat_id in batch.read_chats:
            batch.conversations[name] = _Conversation(key.chat_id, None, {})  # read already: there is no row
            return batch.conversations[name]
        async with reported_as_unavailable(), read_transaction(self._engine) as conn:
            query = select(conversation_states.c.state, conversation_states.c.data).where(conversation_states.c.key == name)
            row = (await conn.execute(query)).first()
        conversation = _Conversation(key.chat_id, row.state if row else None, dict(row.data) if row else {})
        if batch is not None:
            batch.conversations[name] = conversation
        return conversation

    async def _change(self, key: StorageKey, **values: Any) -> None:
        if _current_batch.get() is None:
            await self._upsert(key, values)
            return
        conversation = await self._read(key)
        for name, value in values.items():
            setattr(conversation, name, value)
        conversation.changed = True

    async def _upsert(self, key: StorageKey, values: dict[str, Any]) -> None:
        """Outside a batch: write just the field that changed, at once."""
        now = self._clock()
        async with write_transaction(self._engine) as conn:
            row = {"key": _key(key), "chat_id": key.chat_id, "state": None, "data": {}, "updated_at": now, **values}
            statement = upsert_insert(conn, conversation_states).values(**row)
            await conn.execute(
                statement.on_conflict_do_update(index_elements=[conversation_states.c.key], set_={**values, "updated_at": now})
            )

    async def _write(self, conn: AsyncConnection, name: str, conversation: _Conversation) -> None:
        table = conversation_states
        if conversation.state is None and not conversation.data:
            # No state and no data is what a missing row means: keep the table to live conversations.
            await conn.execute(delete(table).where(table.c.key == name))
            return
        now = self._clock()
        values = {"state": conversation.state, "data": conversation.data, "updated_at": now}
        statement = upsert_insert(conn, table).values(key=name, chat_id=conversation.chat_id, **values)
        await conn.execute(statement.on_conflict_do_update(index_elements=[table.c.key], set_=values))
