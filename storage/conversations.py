"""Conversation state for bots that are not on aiogram (WhatsApp), in the same table as aiogram's FSM.

Rows are keyed by the resident's address (``whatsapp:447700900123``), which
cannot collide with aiogram's keys (``<bot id>:<chat id>:…``). ``chat_id``
is aiogram's, used by the Telegram bot's erasure; these rows hold 0 there
and are found by key.
"""
from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.clock import Clock
from core.conversation.state import Conversation, Step
from core.model import Address
from storage.database import read_transaction, upsert_insert, write_transaction
from storage.tables import conversation_states

NOT_A_TELEGRAM_CHAT = 0


class SqlConversationStore:
    def __init__(self, engine: AsyncEngine, *, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    async def load(self, address: Address) -> Conversation:
        async with read_transaction(self._engine) as conn:
            row = (
                await conn.execute(
                    select(conversation_states.c.state, conversation_states.c.data).where(conversation_states.c.key == str(address))
                )
            ).first()
        if row is None:
            return Conversation()
        try:
            step = Step(row.state) if row.state else None
        except ValueError:  # a step from an older version of the conversation: start afresh, keep the language
            step = None
        return Conversation(step, dict(row.data or {}))

    async def save(self, address: Address, conversation: Conversation) -> None:
        if conversation.step is None and not conversation.data:
            await self.forget(address)  # nothing to keep is no row at all (not even the number)
            return
        now = self._clock()
        values = {"state": conversation.step.value if conversation.step else None, "data": conversation.data, "updated_at": now}
        async with write_transaction(self._engine) as conn:
            statement = upsert_insert(conn, conversation_states).values(key=str(address), chat_id=NOT_A_TELEGRAM_CHAT, **values)
            await conn.execute(statement.on_conflict_do_update(index_elements=[conversation_states.c.key], set_=values))

    async def forget(self, address: Address) -> None:
        async with write_transaction(self._engine) as conn:
            await conn.execute(delete(conversation_states).where(conversation_states.c.key == str(address)))
