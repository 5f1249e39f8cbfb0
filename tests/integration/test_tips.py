"""Tips end to end in the core: stored, queued into their thread, relayed back — on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from core.delivery.policy import RetryPolicy
from core.delivery.worker import DeliveryWorker
from core.errors import InvalidInput, NotAllowed, NotFound
from core.model import Address, Channel, TipPhoto, TipState
from core.services.alerts import AlertService
from core.services.roles import Roles
from core.services.subscriptions import SubscriptionService
from core.services.tips import NewTip, TipService, TooManyTips
from storage.tables import audit_log, deliveries, tip_threads
from tests.integration.test_delivery_worker import send_alert
from tests.support.clock import FakeClock
from tests.support.fakes import FakeAdapter
from tests.support.residents import STAFFORD, add_residents, resident_at

pytestmark = pytest.mark.calendar  # make test runs it again with the clock moved

OFFICER = "U01OFFICER1"
QUEUE = Address(Channel.SLACK, "C01TIPSQUEUE")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def adapters() -> dict[Channel, FakeAdapter]:
    return {Channel.TELEGRAM: FakeAdapter(Channel.TELEGRAM), Channel.SLACK: FakeAdapter(Channel.SLACK)}


@pytest.fixture
def tips(uow_factory, force, clock) -> TipService:
    return TipService(uow_factory, force, roles=Roles(officers=frozenset({OFFICER})), officer_queue=QUEUE, clock=clock)


@pytest.fixture
def alerts(uow_factory, force, clock) -> AlertService:
    return AlertService(uow_factory, force, roles=Roles(), clock=clock)


@pytest.fixture
def worker(uow_factory, force, adapters, clock) -> DeliveryWorker:
    return DeliveryWorker(
        uow_factory,
        adapters,
        force_name=force.name,
        policy=RetryPolicy(max_attempts=3),
        clock=clock,
        monotonic=clock.monotonic,
    )


async def run(worker: DeliveryWorker, clock: FakeClock, rounds: int = 4) -> None:
    # Tips wait a second for their thread's root: let the clock move between rounds.
    for _ in range(rounds):
        await worker.run_until_idle()
        clock.advance(seconds=2)


async def test_tips_for_an_alert_share_one_thread_with_photos_and_officers_never_see_the_chat_id(
    tips, alerts, worker, adapters, uow_factory, engine, clock
):
    (resident,) = await add_residents(uow_factory, resident_at(*STAFFORD))
    alert = await send_alert(alerts)
    photo = TipPhoto("van.jpg", "image/jpeg", b"\xff\xd8jpeg")
    first = await tips.submit(
        resident.address,
        NewTip("White van <b>&</b> two men", alert_id=alert.id, photos=[photo], location=(52.8, -2.11)),
    )
    clock.advance(seconds=30)
    second = await tips.submit(
        resident.address,
        NewTip("They drove off towards the station", alert_id=alert.id, may_contact=True, contact="@sam on Telegram"),
    )
    await run(worker, clock)
    slack = adapters[Channel.SLACK].sent
    assert [s.to for s in slack] == [QUEUE, QUEUE, QUEUE]
    root, *posted = (s.message for s in slack)
    # Both tips wait for the root, then go out together: their order in the thread is not promised.
    tip1, tip2 = sorted(posted, key=lambda m: first.reference not in m.text)
    assert alert.reference in root.text and root.reply_to is None
    root_ts = "2"  # the fake's first provider id
    assert tip1.reply_to == root_ts and tip2.reply_to == root_ts
    assert first.reference in tip1.text and "&lt;b&gt;&amp;&lt;/b&gt;" in tip1.text and "anonymous" in tip1.text
    assert tip1.attachments[0].data == photo.data and "openstreetmap.org/?mlat=52.800000" in tip1.text
    assert "@sam on Telegram" in tip2.text and second.reference in tip2.text
    assert not re.search(rf"(?<![\d.]){resident.address.id}(?![\d.])", tip1.text + tip2.text)
    # One resident, two kinds of tip: the anonymous one shows a pseudonym of its own, never the named one's.
    assert first.tipster.startswith("Anonymous tipster ") and first.tipster in tip1.text
    assert second.tipster in tip2.text and second.tipster not in tip1.text and first.tipster not in tip2.text
    assert [b.data for b in tip1.buttons] == [
        f"tipq:ack:{first.reference}",
        f"tipq:reply:{first.reference}",
        f"tipq:done:{first.reference}",
        f"tipq:spam:{first.reference}",
    ]
    async with engine.connect() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(tip_threads))).scalar_one() == 1


async def test_officer_reply_reaches_the_tipster_and_their_answer_lands_in_the_thread(
    tips, worker, adapters, uow_factory, engine, clock
):
    (resident,) = await add_residents(uow_factory, resident_at(*STAFFORD))
    tip = await tips.submit(resident.address, NewTip("Someone trying car doors on Eastgate Street"))
    await tips.reply(tip.reference, OFFICER, "Thank you. Which way did they go?")
    await run(worker, clock)
    seen, to_resident = adapters[Channel.TELEGRAM].sent  # the first officer action also says it was seen, first
    assert seen.to == resident.address and seen.message.text == (
        f"An officer has seen your information ({tip.reference}). Thank you for sending it."
    )
    assert to_resident.to == resident.address and "Which way did they go?" in to_resident.message.text
    assert tip.reference in to_resident.message.text and to_resident.message.buttons[0].data == f"ans:{tip.id}"
    replied = await tips.replied_to(resident.address, "2")  # the fake's id for that reply
    assert replied is not None and replied.tip_id == tip.id
    await tips.answer(resident.address, tip.reference, "Towards the park")
    await run(worker, clock)
    root, posted_tip, answer = (s.message for s in adapters[Channel.SLACK].sent)
    assert "answer no alert" in root.text and posted_tip.reply_to == answer.reply_to is not None
    assert "Towards the park" in answer.text
    async with engine.connect() as conn:
        actions = (await conn.execute(sa.select(audit_log.c.action, audit_log.c.actor))).all()
    assert ("tip.reply", OFFICER) in actions


async def test_flood_control_and_bad_input_store_nothing(tips, uow_factory, engine, force, clock):
    (resident,) = await add_residents(uow_factory, resident_at(*STAFFORD))
    for n in range(force.settings.tips_per_minute):
        await tips.submit(resident.address, NewTip(f"tip {n}"))
    with pytest.raises(TooManyTips):
        await tips.submit(resident.address, NewTip("one too many"))
    with pytest.raises(InvalidInput):
        await tips.submit(resident.address, NewTip("   "))
    with pytest.raises(InvalidInput):
        await tips.submit(resident.address, NewTip("x", location=(float("nan"), 1.0)))
    with pytest.raises(NotFound):
        await tips.submit(Address(Channel.TELEGRAM, "999"), NewTip("not subscribed"))
    async with engine.connect() as conn:
        queued = (await conn.execute(sa.select(sa.func.count()).select_from(deliveries))).scalar_one()
    assert queued == 1 + force.settings.tips_per_minute  # the day's root plus each accepted tip
    clock.advance(minutes=1, seconds=1)
    await tips.submit(resident.address, NewTip("a minute later is fine"))


async def test_spam_blocks_the_tipster_and_only_officers_may_act(tips, worker, adapters, uow_factory, clock):
    (resident,) = await add_residents(uow_factory, resident_at(*STAFFORD))
    tip = await tips.submit(resident.address, NewTip("nonsense"))
    with pytest.raises(NotAllowed):
        await tips.set_state(tip.reference, "U0SOMEBODY", TipState.ACKNOWLEDGED)
    marked = await tips.set_state(tip.reference, OFFICER, TipState.SPAM, block_tipster=True)
    assert marked.state is TipState.SPAM
    later = await tips.submit(resident.address, NewTip("more nonsense"))
    assert later.state is TipState.SPAM
    await run(worker, clock)
    assert len(adapters[Channel.SLACK].sent) == 2  # the root and the first tip; nothing after the block


async def test_subscription_erasure_takes_the_tips_and_officers_are_told(tips, uow_factory, force, clock):
    subscriptions = SubscriptionService(uow_factory, force, clock=clock)
    (resident,) = await add_residents(uow_factory, resident_at(*STAFFORD))
    tip = await tips.submit(resident.address, NewTip("seen something"))
    assert await subscriptions.erase(resident.address)
    with pytest.raises(NotFound):
        await tips.reply(tip.reference, OFFICER, "hello?")
