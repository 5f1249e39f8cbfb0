"""Telegram's paid broadcast: urgent alerts beyond the free 30/s for Stars, and the fall back to the free rate
when Telegram refuses for want of balance — against the Telegram stand-in, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from bots.telegram.adapter import TelegramAdapter, make_bot
from core.delivery.worker import DeliveryWorker
from core.geo.areas import CircleArea
from core.model import Channel, MessageKind
from core.services.alerts import AlertRequest, AlertService
from core.services.notices import OfficerNotices
from core.services.roles import Roles
from sandbox.telegram import TelegramLimits, TelegramStandIn
from storage.tables import deliveries, messages
from tests.support.residents import STAFFORD, add_residents, offset, resident_at

TOKEN = "123456:PAID"
OFFICER = "cli:test"
SLACK_OFFICER = "U0OFFICER"


def clock() -> datetime:
    # The real time, for the service and the worker alike: a 429's wait must really pass for the row to come due.
    return datetime.now(UTC)


async def send_to_everyone(uow_factory, force, urgency: str, residents: int, author: str = OFFICER) -> None:
    await add_residents(uow_factory, *[resident_at(*offset(*STAFFORD, north_m=5 * i)) for i in range(residents)])
    roles = Roles(officers=frozenset({SLACK_OFFICER}), supervisors=frozenset({"U_SUPER"}))
    service = AlertService(uow_factory, force, roles=roles, clock=clock)
    draft = await service.draft(
        AlertRequest(
            incident_number="MV-20261125-0456",
            headline="Missing boy, 9",
            message="Sam, red coat.",
            area=CircleArea(*STAFFORD, 1000),
            urgency=urgency,
            everyone=True,
        ),
        author,
    )
    await service.send(draft.id, author)


async def open_rows(uow_factory, channel: Channel) -> int:
    async with uow_factory(read_only=True) as uow:
        counts = await uow.operations.deliveries_by_state()
    return sum(
        n for (c, state), n in counts.items() if c is channel and state.value in ("pending", "sending", "failed")
    )


async def deliver(uow_factory, force, telegram: TelegramStandIn, workers: int = 1) -> None:
    adapters = [TelegramAdapter(make_bot(TOKEN, telegram.base_url)) for _ in range(workers)]
    notices = OfficerNotices(uow_factory, slack=True, clock=clock)
    several = [
        DeliveryWorker(
            uow_factory,
            {Channel.TELEGRAM: adapter},
            force_name=force.name,
            clock=clock,
            paid_rates={Channel.TELEGRAM: 1000.0},
            notices=notices,
        )
        for adapter in adapters
    ]
    try:
        # A 429 at the free rate puts its row back for a second: go round until nothing is left to send.
        for _ in range(10):
            await asyncio.gather(*(worker.run_until_idle() for worker in several))
            if not await open_rows(uow_factory, Channel.TELEGRAM):
                break
            await asyncio.sleep(1.0)
    finally:
        for adapter in adapters:
            await adapter.aclose()


@pytest.mark.parametrize("urgency, paid", [("Immediate", True), ("Expected", False)])
async def test_only_urgent_alerts_go_as_paid_broadcasts(uow_factory, force, urgency, paid):
    limits = TelegramLimits(per_bot_per_second=30, per_chat_interval=None)
    with TelegramStandIn(TOKEN, limits=limits) as telegram:
        await send_to_everyone(uow_factory, force, urgency, 60)
        await deliver(uow_factory, force, telegram)
        assert len({s.chat_id for s in telegram.sent}) == 60
        assert all(bool(s.params.get("allow_paid_broadcast")) is paid for s in telegram.sent)


async def test_refused_for_want_of_stars_falls_back_to_the_free_rate_and_says_so_once(uow_factory, force, caplog):
    limits = TelegramLimits(per_bot_per_second=30, per_chat_interval=None, stars_balance=0.0)
    with TelegramStandIn(TOKEN, limits=limits) as telegram, caplog.at_level(logging.WARNING, "lookout.worker"):
        await send_to_everyone(uow_factory, force, "Immediate", 60)
        await deliver(uow_factory, force, telegram)
        assert len({s.chat_id for s in telegram.sent}) == 60  # nobody lost: the refused ones went again, for free
        assert telegram.stars_spent == 0
        assert any(not s.params.get("allow_paid_broadcast") for s in telegram.sent)
        said = [r for r in caplog.records if "refused a paid broadcast" in r.getMessage()]
        assert len(said) == 1


async def test_officers_are_told_once_in_slack_however_many_refusals_and_workers(uow_factory, engine, force):
    limits = TelegramLimits(per_bot_per_second=30, per_chat_interval=None, stars_balance=0.0)
    with TelegramStandIn(TOKEN, limits=limits) as telegram:
        await send_to_everyone(uow_factory, force, "Immediate", 60, author=SLACK_OFFICER)
        await deliver(uow_factory, force, telegram, workers=2)
        assert len({s.chat_id for s in telegram.sent}) == 60
    async with engine.connect() as conn:
        notices = (
            await conn.execute(
                sa.select(deliveries.c.address, messages.c.body)
                .select_from(deliveries.join(messages, messages.c.id == deliveries.c.message_id))
                .where(messages.c.kind == MessageKind.OFFICER_NOTICE.value)
            )
        ).all()
    # Two workers each gave up their paid lane, and many sends were refused; the sending officer hears once.
    assert [address for address, _ in notices] == [f"slack:{SLACK_OFFICER}"]
    assert "refused a paid broadcast" in notices[0].body and "free rate" in notices[0].body
