"""Status messages after Send: the delivery report's figures, and the leased watches that let another
process (or the same one restarted) finish a card that a dead process was keeping — on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack_officer.blocks.cards import card_message, status_card
from bots.slack_officer.status_board import StatusBoard
from core.delivery.worker import DeliveryWorker
from core.model import Address, Channel
from core.outbound import DeliveryResult
from core.services.alerts import AlertService
from core.services.progress import ProgressService
from core.services.roles import Roles
from sandbox.slack import SlackStandIn
from sandbox.slack_records import SlackLimits
from sandbox.slack_workspace import OFFICERS_CHANNEL_ID
from storage.tables import progress_watches
from tests.integration.test_delivery_worker import send_alert
from tests.support.clock import FakeClock
from tests.support.fakes import FakeAdapter
from tests.support.residents import STAFFORD, add_residents, resident_at

pytestmark = pytest.mark.calendar  # make test runs it again with the clock moved

TOKEN = "xoxb-board"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def alerts(uow_factory, force, clock) -> AlertService:
    return AlertService(uow_factory, force, roles=Roles(), clock=clock)


@pytest.fixture
def telegram() -> FakeAdapter:
    return FakeAdapter(Channel.TELEGRAM)


@pytest.fixture
def worker(uow_factory, force, telegram, clock) -> DeliveryWorker:
    return DeliveryWorker(
        uow_factory, {Channel.TELEGRAM: telegram}, force_name=force.name, clock=clock, monotonic=clock.monotonic
    )


async def test_the_report_tells_blocked_from_failed_and_says_when_it_finished(
    uow_factory, alerts, worker, telegram, clock
):
    _reached, gone = await add_residents(uow_factory, resident_at(*STAFFORD), resident_at(*STAFFORD))
    telegram.answer(
        gone.address, DeliveryResult.permanent("Forbidden: bot was blocked by the user", recipient_gone=True)
    )
    alert = await send_alert(alerts)
    progress = ProgressService(uow_factory, clock=clock)
    before = await progress.report(alert.id)
    assert (before.total, before.waiting, before.done) == (2, 2, False)
    clock.advance(seconds=7)
    await worker.run_until_idle()
    after = await progress.report(alert.id)
    assert (after.sent, after.blocked, after.failed, after.skipped, after.done) == (1, 1, 0, 0, True)
    assert after.took is not None and timedelta(seconds=6) < after.took <= timedelta(seconds=8)


async def test_a_watch_is_held_by_one_process_and_taken_over_when_its_lease_runs_out(
    uow_factory, alerts, engine, clock
):
    alert = await send_alert(alerts)
    first, second = ProgressService(uow_factory, clock=clock), ProgressService(uow_factory, clock=clock)
    await first.watch(alert.id, Address(Channel.SLACK, f"{OFFICERS_CHANNEL_ID}/1712345.000100"))
    (held,) = await first.claim(timedelta(seconds=20))
    assert held.alert_id == alert.id and str(held.address) == f"slack:{OFFICERS_CHANNEL_ID}/1712345.000100"
    assert await second.claim(timedelta(seconds=20)) == []
    ahead = ProgressService(uow_factory, clock=FakeClock(clock() + timedelta(hours=1)))
    assert await ahead.claim(timedelta(seconds=20)) == []  # a machine whose clock runs ahead: leases are the database's
    await database_clock_passes_watch_leases(engine, timedelta(seconds=15))
    await first.renew(alert.id, timedelta(seconds=20), changed=False)
    await database_clock_passes_watch_leases(engine, timedelta(seconds=15))
    assert await second.claim(timedelta(seconds=20)) == []  # renewed: still the first's
    await database_clock_passes_watch_leases(
        engine, timedelta(seconds=30)
    )  # the first process died and stopped renewing
    (taken,) = await second.claim(timedelta(seconds=20))
    assert taken.alert_id == alert.id
    await second.finish(alert.id)
    await database_clock_passes_watch_leases(engine, timedelta(seconds=60))
    assert await first.claim(timedelta(seconds=20)) == []  # finished watches are never claimed again


async def database_clock_passes_watch_leases(engine, span: timedelta) -> None:
    """As if the database's clock had moved on by ``span``: every watch's lease ends that much earlier."""
    async with engine.begin() as conn:
        leased = (
            await conn.execute(
                sa.select(progress_watches.c.alert_id, progress_watches.c.lease_until).where(
                    progress_watches.c.lease_until.is_not(None)
                )
            )
        ).all()
        for alert_id, until in leased:
            await conn.execute(
                progress_watches.update()
                .where(progress_watches.c.alert_id == alert_id)
                .values(lease_until=until - span)
            )


async def test_after_a_restart_the_next_process_posts_the_final_report(
    uow_factory, force, alerts, worker, engine, clock
):
    await add_residents(uow_factory, resident_at(*STAFFORD), resident_at(*STAFFORD))
    alert = await send_alert(alerts)
    with SlackStandIn(TOKEN, limits=SlackLimits(post_per_channel_per_second=None)) as slack:
        client = AsyncWebClient(token=TOKEN, base_url=slack.api_url)
        progress = ProgressService(uow_factory, clock=clock)
        card = await client.chat_postMessage(
            channel=OFFICERS_CHANNEL_ID, **card_message(status_card(await progress.report(alert.id), force, clock.now))
        )
        await progress.watch(alert.id, Address(Channel.SLACK, f"{OFFICERS_CHANNEL_ID}/{card['ts']}"))

        dying = StatusBoard(ProgressService(uow_factory, clock=clock), client, force, clock=clock)
        clock.advance(seconds=4)
        await dying.tick()
        assert dying.holding == [alert.id]
        assert slack.message(OFFICERS_CHANNEL_ID, card["ts"]).edits == 1  # "Sending: 0 of 2 done"
        # ... and the process is killed here: it never ticks again. The worker finishes meanwhile.
        await worker.run_until_idle()

        restarted = StatusBoard(ProgressService(uow_factory, clock=clock), client, force, clock=clock)
        await restarted.tick()
        assert restarted.holding == []  # the dead process's lease still holds
        clock.advance(seconds=21)
        await database_clock_passes_watch_leases(engine, timedelta(seconds=21))
        await restarted.tick()
        final = slack.message(OFFICERS_CHANNEL_ID, card["ts"])
        assert any("Delivered in" in (b.get("text") or {}).get("text", "") for b in final.blocks)
        assert final.blocks[0]["text"]["text"].startswith("Sent:")
        assert restarted.holding == []  # done: released
        clock.advance(seconds=60)
        await restarted.tick()
        assert final.edits == 2  # no more updates once the final report is up


async def test_the_card_changes_at_most_every_three_seconds_and_only_when_the_counts_do(
    uow_factory, force, alerts, worker, clock
):
    await add_residents(uow_factory, resident_at(*STAFFORD))
    alert = await send_alert(alerts)
    with SlackStandIn(TOKEN, limits=SlackLimits(post_per_channel_per_second=None)) as slack:
        client = AsyncWebClient(token=TOKEN, base_url=slack.api_url)
        progress = ProgressService(uow_factory, clock=clock)
        card = await client.chat_postMessage(channel=OFFICERS_CHANNEL_ID, text="sending")
        await progress.watch(alert.id, Address(Channel.SLACK, f"{OFFICERS_CHANNEL_ID}/{card['ts']}"))
        board = StatusBoard(progress, client, force, clock=clock)
        for _ in range(5):  # five ticks within the first three seconds: no update yet
            clock.advance(seconds=0.5)
            await board.tick()
        assert slack.message(OFFICERS_CHANNEL_ID, card["ts"]).edits == 0
        clock.advance(seconds=1)
        await board.tick()
        assert slack.message(OFFICERS_CHANNEL_ID, card["ts"]).edits == 1
        for _ in range(4):  # nothing moved: the card is left alone
            clock.advance(seconds=3)
            await board.tick()
        assert slack.message(OFFICERS_CHANNEL_ID, card["ts"]).edits == 1
        await worker.run_until_idle()
        clock.advance(seconds=3)
        await board.tick()
        assert slack.message(OFFICERS_CHANNEL_ID, card["ts"]).edits == 2 and board.holding == []


async def test_a_board_stopping_cleanly_hands_its_cards_over_at_once(uow_factory, force, alerts, clock):
    await add_residents(uow_factory, resident_at(*STAFFORD))
    alert = await send_alert(alerts)
    with SlackStandIn(TOKEN, limits=SlackLimits(post_per_channel_per_second=None)) as slack:
        client = AsyncWebClient(token=TOKEN, base_url=slack.api_url)
        card = await client.chat_postMessage(channel=OFFICERS_CHANNEL_ID, text="sending")
        await ProgressService(uow_factory, clock=clock).watch(
            alert.id, Address(Channel.SLACK, f"{OFFICERS_CHANNEL_ID}/{card['ts']}")
        )
        leaving = StatusBoard(ProgressService(uow_factory, clock=clock), client, force, clock=clock, tick=0.01)
        await leaving.tick()
        assert leaving.holding == [alert.id]
        leaving.stop()  # the web process is shutting down: run() ends and hands back what it held
        await leaving.run()
        assert leaving.holding == []
        clock.advance(seconds=1)
        (taken,) = await ProgressService(uow_factory, clock=clock).claim(timedelta(seconds=20))
        assert taken.alert_id == alert.id


async def test_the_status_card_says_how_long_the_rest_will_take_at_the_pace_so_far(uow_factory, force, alerts, clock):
    await add_residents(uow_factory, *[resident_at(*STAFFORD) for _ in range(4)])
    alert = await send_alert(alerts)
    progress = ProgressService(uow_factory, clock=clock)
    nothing_yet = await progress.report(alert.id)
    assert nothing_yet.eta(clock.now) is None and "to go" not in status_card(nothing_yet, force, clock.now)[0]
    half = FakeAdapter(Channel.TELEGRAM)
    worker = DeliveryWorker(
        uow_factory, {Channel.TELEGRAM: half}, force_name=force.name, clock=clock, monotonic=clock.monotonic
    )
    rows = await worker._claim(Channel.TELEGRAM, 2)
    for row in rows:
        await worker._deliver(Channel.TELEGRAM, row)
    await worker.flush()
    clock.advance(seconds=10)
    report = await progress.report(alert.id)
    assert report.eta(clock.now) == timedelta(seconds=10)  # two done in 10 s, two to go
    assert "about 10 s to go" in status_card(report, force, clock.now)[0]
