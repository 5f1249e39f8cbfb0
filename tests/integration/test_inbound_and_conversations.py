"""The inbound log (each update once) and the conversation store, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from core.conversation.state import Conversation, Step
from core.geo.cells import snap
from core.model import Address, Channel, Place
from storage.conversations import SqlConversationStore
from storage.tables import conversations, inbound_updates
from tests.support.residents import STAFFORD, add_residents, offset, resident_at

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


async def test_an_update_whose_handler_died_is_handled_again(uow_factory, engine):
    assert await begin(uow_factory, "7") is True
    assert await begin(uow_factory, "7", NOW + timedelta(seconds=30)) is False
    await database_clock_passes_claims(engine, timedelta(seconds=61))  # the first handler's process is gone
    assert await begin(uow_factory, "7", NOW + timedelta(seconds=61)) is True
    assert await begin(uow_factory, "7", NOW + timedelta(seconds=62)) is False  # and the new claim is the retry's


async def test_a_claim_lasts_by_the_database_clock_whatever_a_web_process_clock_says(uow_factory, engine):
    assert await begin(uow_factory, "8") is True
    # Another web process whose clock runs ten minutes fast sees the claim as still held: it is, by the database.
    assert await begin(uow_factory, "8", NOW + timedelta(minutes=10)) is False
    await database_clock_passes_claims(engine, timedelta(seconds=61))
    # Once the database's clock is past the claim, one whose clock runs slow takes it all the same.
    assert await begin(uow_factory, "8", NOW - timedelta(minutes=10)) is True


async def database_clock_passes_claims(engine, span: timedelta) -> None:
    """As if the database's clock had moved on by ``span``: every open claim ends that much earlier."""
    u = inbound_updates
    async with engine.begin() as conn:
        claimed = (await conn.execute(select(u.c.source, u.c.update_id, u.c.claimed_until))).all()
        for source, update_id, until in claimed:
            await conn.execute(
                update(u).where(u.c.source == source, u.c.update_id == update_id).values(claimed_until=until - span)
            )


async def test_a_failed_update_is_forgotten_for_the_platform_to_retry(uow_factory):
    assert await begin(uow_factory, "9") is True
    async with uow_factory() as uow:
        await uow.inbound.forget("telegram", "9")
        await uow.commit()
    assert await begin(uow_factory, "9") is True


ONE = Address(Channel.TELEGRAM, "42")


async def test_conversation_state_survives_across_store_instances(engine, clock):
    first, second = (
        SqlConversationStore(engine, clock=clock),
        SqlConversationStore(engine, clock=clock),
    )  # two web processes
    assert await first.load(ONE) == Conversation()
    await first.save(ONE, Conversation(Step.LOCATION, {"label": "Home", "topics": ["burglary"]}))
    assert await second.load(ONE) == Conversation(Step.LOCATION, {"label": "Home", "topics": ["burglary"]})
    assert await second.load(Address(Channel.WHATSAPP, "42")) == Conversation()  # keyed by channel and address
    await second.save(ONE, Conversation(None, {"lang": "pl"}))
    assert await first.load(ONE) == Conversation(None, {"lang": "pl"})
    await first.forget(ONE)
    assert await second.load(ONE) == Conversation() and await stored_conversation(engine, ONE) is None


async def stored_conversation(engine, address: Address):
    """What another web process would read: the row itself, not this task's batch."""
    async with engine.connect() as conn:
        c = conversations
        query = select(c.c.step, c.c.data).where(c.c.channel == address.channel.value, c.c.address == address.id)
        return (await conn.execute(query)).first()


async def test_a_batched_update_reads_once_and_writes_its_changes_with_handled(engine, uow_factory, clock):
    store = SqlConversationStore(engine, clock=clock)
    someone = Address(Channel.TELEGRAM, "43")
    await store.save(someone, Conversation(None, {"lang": "pl"}))
    async with store.batched():
        assert await store.begin_update("telegram", "50", address=someone, stale_after=STALE) is True
        conversation = await store.load(someone)
        assert conversation == Conversation(None, {"lang": "pl"})
        conversation.step, conversation.data["label"] = Step.LOCATION, "Home"
        await store.save(someone, conversation)
        assert await store.load(someone) == Conversation(Step.LOCATION, {"lang": "pl", "label": "Home"})
        assert tuple(await stored_conversation(engine, someone)) == (None, {"lang": "pl"})  # nothing written yet
        await store.flush(handled=("telegram", "50"))
        assert tuple(await stored_conversation(engine, someone)) == ("location", {"lang": "pl", "label": "Home"})
    assert await begin(uow_factory, "50", NOW + timedelta(hours=1)) is False  # marked handled by the flush


async def test_the_claim_reads_the_sender_as_they_are_and_a_duplicate_reads_nothing(engine, uow_factory, clock):
    # On PostgreSQL the claim and both reads are one statement: its rows must give back the same resident as
    # the repository's own read (two places, three topics), and only when the update is newly claimed.
    home, work = snap(*STAFFORD, 10), snap(*offset(*STAFFORD, north_m=900), 10)
    sender = resident_at(*STAFFORD, ident="46", topics=frozenset({"burglary", "rural", "horse"}))
    sender.places.append(Place("Work", work))
    await add_residents(uow_factory, sender)
    store = SqlConversationStore(engine, clock=clock)
    await store.save(sender.address, Conversation(Step.TIP_COLLECTING, {"lang": "cy"}))
    async with uow_factory(read_only=True) as uow:
        as_stored = await uow.residents.get_by_address(sender.address)
    assert as_stored is not None and [p.cell for p in as_stored.places] == [home, work]

    async with store.batched():
        assert await store.begin_update("telegram", "60", address=sender.address, stale_after=STALE) is True
        assert await store.load_with_resident(sender.address) == (
            Conversation(Step.TIP_COLLECTING, {"lang": "cy"}),
            as_stored,
        )
    async with store.batched():  # the platform's retry while the first is being handled: not ours, nothing read
        assert await store.begin_update("telegram", "60", address=sender.address, stale_after=STALE) is False
    stranger = Address(Channel.TELEGRAM, "47")
    async with store.batched():
        assert await store.begin_update("telegram", "61", address=stranger, stale_after=STALE) is True
        assert await store.load_with_resident(stranger) == (Conversation(), None)
    await database_clock_passes_claims(engine, timedelta(seconds=61))  # the first handler died: its claim lapses
    async with store.batched():
        assert await store.begin_update("telegram", "60", address=sender.address, stale_after=STALE) is True


async def test_a_batch_that_empties_a_conversation_deletes_its_row(engine, clock):
    store = SqlConversationStore(engine, clock=clock)
    someone = Address(Channel.TELEGRAM, "44")
    await store.save(someone, Conversation(Step.AGE, {}))
    async with store.batched():
        await store.save(someone, Conversation())
        await store.flush()
    assert await stored_conversation(engine, someone) is None


async def test_erasure_inside_a_batch_is_immediate_and_not_undone_by_the_flush(engine, clock):
    store = SqlConversationStore(engine, clock=clock)
    someone = Address(Channel.TELEGRAM, "45")
    await store.save(someone, Conversation(Step.TIP_COLLECTING, {"lang": "pl", "tip": {"texts": ["a van"]}}))
    async with store.batched():
        await store.save(someone, Conversation(Step.TIP_COLLECTING, {"lang": "pl", "label": "Home"}))
        await store.forget(someone)
        assert await stored_conversation(engine, someone) is None
        assert await store.load(someone) == Conversation()
        await store.flush()
    assert await stored_conversation(engine, someone) is None
