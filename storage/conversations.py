"""The one conversation store: where each resident is in the conversation, for every chat app.

Rows are keyed by (channel, address id): ``("telegram", "777001")``,
``("whatsapp", "447700900123")``. No row is what an idle conversation with
nothing to keep looks like, so a refusal or an erasure leaves none.

A webhook can wrap an update in ``batched()``: ``begin_update`` claims the
update in the inbound log and reads the sender's conversation (and their
subscription) with it (one statement on PostgreSQL, one transaction on SQLite); ``load``/``save`` then work on that
copy; ``flush`` writes the change together with marking the update handled.
An update then costs two trips to the database's pool, however the handling
goes (a service the conversation calls, say to subscribe them, has its own);
on PostgreSQL the flush is one statement with no BEGIN or COMMIT (``one_write``).
Outside a batch every call is its own transaction.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, literal_column, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.clock import Clock
from core.conversation.state import Conversation, Step
from core.model import Address, Resident
from storage.database import one_write, read_transaction, write_transaction
from storage.inbound import MARK_HANDLED, SqlInboundLog, claim_or_retake, handled_parameters
from storage.outages import reported_as_unavailable
from storage.residents import BY_ADDRESS, SqlResidentRepository, resident_from_rows
from storage.tables import conversations


@dataclass
class _Batch:
    read: dict[Address, Conversation] = field(default_factory=dict)  # as stored when the update was claimed
    changed: dict[Address, Conversation] = field(default_factory=dict)  # saved by the handling, written by flush()
    residents: dict[Address, Resident | None] = field(default_factory=dict)  # read with the claim, handed out once


_current_batch: ContextVar[_Batch | None] = ContextVar("lookout_conversation_batch", default=None)

# Every resident message reads and writes its conversation: the statements are built once, with bound parameters,
# so an update costs no statement building and no cache key (SQLAlchemy memoises both on the statement object).
# (Named apart from the resident's ``key_address``, which the claim's one statement binds beside them.)
_SAME_ROW = (conversations.c.channel == bindparam("chat_channel"), conversations.c.address == bindparam("chat_address"))
_READ = select(conversations.c.step, conversations.c.data).where(*_SAME_ROW)
_DELETE = delete(conversations).where(*_SAME_ROW)


def _upsert(dialect: Any) -> Any:
    insert = dialect.insert(conversations)
    changed = {c: insert.excluded[c] for c in ("step", "data", "updated_at")}
    return insert.on_conflict_do_update(index_elements=[conversations.c.channel, conversations.c.address], set_=changed)


_UPSERT = {
    "postgresql": _upsert(postgresql),
    "sqlite": _upsert(sqlite),
}  # SQLite and PostgreSQL spell ON CONFLICT alike


def _with_handled(write: Any, name: str) -> Any:
    """PostgreSQL: ``write`` as a data-modifying WITH of the update's "handled" mark. One statement is atomic
    by itself, so the step and the mark commit together with no BEGIN or COMMIT round trip."""
    return MARK_HANDLED.add_cte(write.cte(name))


@cache
def _claim_and_read(stale_after: timedelta) -> Any:
    """PostgreSQL: an update's claim (``claim_or_retake``) and the sender's conversation and resident rows, in one
    statement: one round trip where a transaction took five (BEGIN, claim, two reads, COMMIT). A row for each of the
    resident's (place, topic) pairs, at least one; ``claimed`` is null unless the update is now ours. The reads see
    the database as the statement began, which the claim does not change."""
    claimed = claim_or_retake(stale_after).cte("claimed")
    conversation = _READ.subquery("conversation")
    who = BY_ADDRESS.subquery("who")
    one_row = select(literal_column("1").label("one")).subquery("one_row")
    return (
        select(
            claimed.c.update_id.label("claimed"),
            conversation.c.step.label("conversation_step"),
            conversation.c.data.label("conversation_data"),
            *who.c,
        )
        .select_from(one_row.outerjoin(claimed, true()).outerjoin(conversation, true()).outerjoin(who, true()))
        .order_by(who.c.place_id)
    )


_ROW_VALUES = {
    c: bindparam(c, type_=conversations.c[c].type) for c in ("channel", "address", "step", "data", "updated_at")
}
_UPSERT_AND_HANDLED = _with_handled(_upsert(postgresql).values(_ROW_VALUES), "saved")
_DELETE_AND_HANDLED = _with_handled(_DELETE, "forgotten")


class SqlConversationStore:
    def __init__(self, engine: AsyncEngine, *, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    # --- ConversationStore ------------------------------------------------------------------------

    async def load(self, address: Address) -> Conversation:
        batch = _current_batch.get()
        if batch is not None:
            known = batch.changed.get(address) or batch.read.get(address)
            if known is not None:
                return copy.deepcopy(known)  # the caller changes it freely; the batch keeps what was saved
        async with reported_as_unavailable(), read_transaction(self._engine) as conn:
            found = await _read(conn, address)
        if batch is not None:
            batch.read[address] = copy.deepcopy(found)
        return found

    async def load_with_resident(self, address: Address) -> tuple[Conversation, Resident | None]:
        batch = _current_batch.get()
        if batch is not None and address in batch.residents:  # read in the transaction that claimed the update
            return await self.load(address), batch.residents.pop(address)
        known = batch is not None and (address in batch.read or address in batch.changed)
        async with reported_as_unavailable(), read_transaction(self._engine) as conn:
            found = None if known else await _read(conn, address)
            resident = await SqlResidentRepository(conn, self._clock).get_by_address(address)
        if found is None:
            return await self.load(address), resident
        if batch is not None:
            batch.read[address] = copy.deepcopy(found)
        return found, resident

    async def save(self, address: Address, conversation: Conversation) -> None:
        batch = _current_batch.get()
        if batch is not None:
            batch.changed[address] = copy.deepcopy(conversation)
            return
        async with reported_as_unavailable(), write_transaction(self._engine) as conn:
            await self._write(conn, address, conversation)

    async def forget(self, address: Address) -> None:
        """Erasure: the row goes now (not at the end of a batch), and a batch will not write it back."""
        batch = _current_batch.get()
        if batch is not None:
            batch.changed.pop(address, None)
            batch.read[address] = Conversation()
        async with reported_as_unavailable(), write_transaction(self._engine) as conn:
            await conn.execute(_DELETE, _key(address))

    # --- one update's batch -------------------------------------------------------------------------

    @asynccontextmanager
    async def batched(self) -> AsyncIterator[None]:
        """Keep this task's reads and saves until ``flush()`` (which must be called inside)."""
        token = _current_batch.set(_Batch())
        try:
            yield
        finally:
            _current_batch.reset(token)

    async def begin_update(
        self, source: str, update_id: str, *, address: Address | None, stale_after: timedelta
    ) -> bool:
        """Inside ``batched()``: claim the inbound update (``InboundLog.begin``) and, with the claim, read the
        sender's conversation and who they are, so handling it needs no further read of them. On PostgreSQL one
        statement (``_claim_and_read``), elsewhere one transaction."""
        batch = _current_batch.get()
        now = self._clock()
        if batch is not None and address is not None and self._engine.dialect.name == "postgresql":
            key = {"source": source, "update_id": update_id, "received_at": now, **_key(address)}
            async with reported_as_unavailable(), one_write(self._engine) as conn:
                rows = (await conn.execute(_claim_and_read(stale_after), {**key, "key_address": str(address)})).all()
            if rows[0].claimed is None:
                return False
            batch.read[address] = _conversation(rows[0].conversation_step, rows[0].conversation_data)
            batch.residents[address] = resident_from_rows([r for r in rows if r.id is not None])
            return True
        # One transaction: if the reads fail (the database going away), the claim goes with them, so the
        # platform's retry is handled rather than dropped as a duplicate of an update nobody finished.
        async with reported_as_unavailable(), write_transaction(self._engine) as conn:
            fresh = await SqlInboundLog(conn).begin(source, update_id, now, stale_after)
            if fresh and batch is not None and address is not None:
                batch.read[address] = await _read(conn, address)
                batch.residents[address] = await SqlResidentRepository(conn, self._clock).get_by_address(address)
        return fresh

    async def flush(self, *, handled: tuple[str, str] | None = None) -> None:
        """Write the batch's saved conversations, and mark the inbound update ``handled`` (source, id), in one transaction."""
        batch = _current_batch.get()
        changed = [(a, c) for a, c in batch.changed.items() if c != batch.read.get(a)] if batch else []
        if not changed and handled is None:
            return
        # The conversation's step and "handled" commit together (a crash between them would have the update
        # handled again from the next step); on PostgreSQL as one statement, elsewhere in one transaction.
        if handled is not None and len(changed) == 1 and self._engine.dialect.name == "postgresql":
            address, conversation = changed[0]
            together, row = (
                (_DELETE_AND_HANDLED, _key(address))
                if _nothing_to_keep(conversation)
                else (_UPSERT_AND_HANDLED, self._row(address, conversation))
            )
            async with reported_as_unavailable(), one_write(self._engine) as conn:
                await conn.execute(together, {**row, **handled_parameters(*handled, self._clock())})
        else:
            writes = one_write if len(changed) + (handled is not None) == 1 else write_transaction
            async with reported_as_unavailable(), writes(self._engine) as conn:
                for address, conversation in changed:
                    await self._write(conn, address, conversation)
                if handled is not None:
                    await SqlInboundLog(conn).finish(*handled, self._clock())
        if batch is not None:
            for address, _ in changed:
                batch.read[address] = batch.changed.pop(address)

    async def _write(self, conn: AsyncConnection, address: Address, conversation: Conversation) -> None:
        if _nothing_to_keep(conversation):
            await conn.execute(_DELETE, _key(address))
            return
        await conn.execute(_UPSERT[conn.dialect.name], self._row(address, conversation))

    def _row(self, address: Address, conversation: Conversation) -> dict[str, Any]:
        return {
            "channel": address.channel.value,
            "address": address.id,
            "step": conversation.step.value if conversation.step else None,
            "data": conversation.data,
            "updated_at": self._clock(),
        }


def _nothing_to_keep(conversation: Conversation) -> bool:
    """Nothing to keep is no row at all (not even the chat or the number)."""
    return conversation.step is None and not conversation.data


async def _read(conn: AsyncConnection, address: Address) -> Conversation:
    row = (await conn.execute(_READ, _key(address))).first()
    return Conversation() if row is None else _conversation(row.step, row.data)


def _conversation(step_name: str | None, data: dict[str, Any] | None) -> Conversation:
    try:
        step = Step(step_name) if step_name else None
    except ValueError:  # a step from an older version of the conversation: start afresh, keep the data (the language)
        step = None
    return Conversation(step, dict(data or {}))


def _key(address: Address) -> dict[str, str]:
    return {"chat_channel": address.channel.value, "chat_address": address.id}
