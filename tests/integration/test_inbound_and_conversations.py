"""The inbound log (each update once) and the aiogram FSM storage, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey

from storage.fsm import SqlFsmStorage

pytestmark = pytest.mark.calendar  # make test runs it again with the clock moved

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
STALE = timedelta(seconds=60)


async def begin(uow_factory, update_id: str, at: datetime = NOW) -> bool:
    async with uow_factory() as uow:
        fresh = await uow.inbound.begin("telegram", update_id, at, STALE)
        await uow.commit()
    return fresh


async def test_each_update_is_handled_once(uow_factory):
    assert await begin(uow_factory, "1") is True
    assert await begin(uow_factory, "1") is False  # a retry while it is being handled
    async with uow_factory() as uow:
        await uow.inbound.finish("telegram", "1", NOW)
        await uow.commit()
    assert await begin(uow_factory, "1", NOW + timedelta(hours=1)) is False  # finished: never again
    assert await begin(uow_factory, "2") is True


async def test_an_update_whose_handler_died_is_handled_again(uow_factory):
    assert await begin(uow_factory, "7") is True
    assert await begin(uow_factory, "7", NOW + timedelta(seconds=30)) is False
    assert await begin(uow_factory, "7", NOW + timedelta(seconds=61)) is True  # the first handler's process is gone


async def test_a_failed_update_is_forgotten_for_the_platform_to_retry(uow_factory):
    assert await begin(uow_factory, "9") is True
    async with uow_factory() as uow:
        await uow.inbound.forget("telegram", "9")
        await uow.commit()
    assert await begin(uow_factory, "9") is True


class Onboarding(StatesGroup):
    location = State()


async def test_conversation_state_survives_across_storage_instances(engine, clock):
    key = StorageKey(bot_id=1, chat_id=42, user_id=42)
    first, second = SqlFsmStorage(engine, clock=clock), SqlFsmStorage(engine, clock=clock)  # two web processes
    assert await first.get_state(key) is None and await first.get_data(key) == {}
    await first.set_state(key, Onboarding.location)
    await first.set_data(key, {"label": "Home", "topics": ["burglary"]})
    assert await second.get_state(key) == "Onboarding:location"
    assert await second.update_data(key, {"sector": None}) == {"label": "Home", "topics": ["burglary"], "sector": None}
    await second.set_state(key, None)
    assert await first.get_state(key) is None and (await first.get_data(key))["label"] == "Home"
    await first.forget_chat(42)
    assert await second.get_data(key) == {}


async def stored_conversation(engine, chat_id: int):
    """What another web process would read: the row itself, not this task's batch."""
    from sqlalchemy import select

    from storage.tables import conversation_states as table

    async with engine.connect() as conn:
        return (await conn.execute(select(table.c.state, table.c.data).where(table.c.chat_id == chat_id))).first()


async def test_a_batched_update_reads_once_and_writes_its_changes_with_handled(engine, uow_factory, clock):
    key = StorageKey(bot_id=1, chat_id=43, user_id=43)
    storage = SqlFsmStorage(engine, clock=clock)
    await storage.set_data(key, {"lang": "pl"})
    assert await begin(uow_factory, "50") is True
    async with storage.batched():
        assert await storage.get_data(key) == {"lang": "pl"}
        await storage.set_state(key, Onboarding.location)
        await storage.update_data(key, {"label": "Home"})
        assert await storage.get_state(key) == "Onboarding:location"
        assert tuple(await stored_conversation(engine, 43)) == (None, {"lang": "pl"})  # nothing written yet
        await storage.flush(handled=("telegram", "50"))
        assert tuple(await stored_conversation(engine, 43)) == ("Onboarding:location", {"lang": "pl", "label": "Home"})
    assert await begin(uow_factory, "50", NOW + timedelta(hours=1)) is False  # marked handled by the flush


async def test_a_batch_that_empties_a_conversation_deletes_its_row(engine, clock):
    key = StorageKey(bot_id=1, chat_id=44, user_id=44)
    storage = SqlFsmStorage(engine, clock=clock)
    await storage.set_state(key, Onboarding.location)
    async with storage.batched():
        await storage.set_state(key, None)
        await storage.set_data(key, {})
        await storage.flush()
    assert await stored_conversation(engine, 44) is None


async def test_erasure_inside_a_batch_is_immediate_and_not_undone_by_the_flush(engine, clock):
    key = StorageKey(bot_id=1, chat_id=45, user_id=45)
    storage = SqlFsmStorage(engine, clock=clock)
    await storage.set_data(key, {"lang": "pl", "tip": {"texts": ["a van"]}})
    async with storage.batched():
        await storage.update_data(key, {"label": "Home"})
        await storage.forget_chat(45)
        assert await stored_conversation(engine, 45) is None
        assert await storage.get_data(key) == {}
        await storage.flush()
    assert await stored_conversation(engine, 45) is None
