"""An alert from the command line reaches residents' Telegram through the running service."""

from __future__ import annotations

import asyncio

import pytest

from core.clock import utc_now
from sandbox.telegram import TelegramStandIn
from storage.database import make_async_engine
from storage.uow import unit_of_work_factory
from tests.support.processes import Server, lookout_env, run_json, run_lookout
from tests.support.residents import STAFFORD, add_residents, offset, resident_at

TOKEN = "123456:TEST"
COMPOSE = [
    "--incident",
    "MV-20261125-0456",
    "--headline",
    "Missing boy, 9",
    "--message",
    "Sam <9> & his dog, last seen by the canal.",
]


@pytest.fixture
def residents(database_url: str):
    async def seed():
        engine = make_async_engine(database_url)
        added = await add_residents(
            unit_of_work_factory(engine, clock=utc_now),
            resident_at(*STAFFORD),
            resident_at(*offset(*STAFFORD, north_m=300), topics=frozenset({"missing"})),
            resident_at(*offset(*STAFFORD, north_m=4000)),  # too far
        )
        await engine.dispose()
        return added

    return asyncio.run(seed())


# The processes and the platform are what this exercises; storage has its tests on both databases.
def test_send_wait_update_cancel_reach_telegram(database_url: str, residents, tmp_path) -> None:
    near, _near_missing, far = residents
    with TelegramStandIn(TOKEN) as telegram:
        env = lookout_env(database_url, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE=telegram.base_url)
        server = Server(env)
        try:
            server.wait_until_up()
            sent = run_json(
                [
                    "alert",
                    "send",
                    *COMPOSE,
                    "--at",
                    f"{STAFFORD[0]},{STAFFORD[1]}",
                    "--radius",
                    "1km",
                    "--topics",
                    "missing",
                    "--yes",
                    "--wait",
                ],
                env,
            )
            assert sent["total"] == 2 and sent["state"] == "sent"  # --wait returned after every delivery was made

            chat = int(near.address.id)
            (alert_text,) = telegram.texts_to(chat)
            assert "MV-20261125-0456" in alert_text and "Call 101" in alert_text
            assert "Sam &lt;9&gt; &amp; his dog" in alert_text  # escaped for Telegram's HTML mode
            assert telegram.texts_to(int(far.address.id)) == []
            first = next(s for s in telegram.sent if s.chat_id == chat)
            assert first.params["reply_markup"]["inline_keyboard"][0][0]["text"] == "I have information"

            run_json(["alert", "update", sent["reference"], "--message", "Sam has been found safe."], env)
            run_json(["alert", "cancel", sent["reference"], "--yes", "--reason", "Found safe and well."], env)
            _wait_for(lambda: len(telegram.texts_to(chat)) == 3)
            update, cancel = [s for s in telegram.sent if s.chat_id == chat][1:]
            assert "Sam has been found safe." in update.text
            assert int(update.params["reply_parameters"]["message_id"]) == first.message_id
            assert (
                "Cancelled" in cancel.text and int(cancel.params["reply_parameters"]["message_id"]) == first.message_id
            )
        finally:
            output = server.stop()
    assert "Traceback" not in output


# The processes and the platform are what this exercises; storage has its tests on both databases.
def test_send_at_schedules_and_the_scheduler_sends(database_url: str, residents) -> None:
    near = residents[0]
    with TelegramStandIn(TOKEN) as telegram:
        env = lookout_env(database_url, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE=telegram.base_url)
        scheduled = run_json(
            ["alert", "send", *COMPOSE, "--everyone", "--area", "town_centre", "--send-at", "3s", "--yes"], env
        )
        assert scheduled["state"] == "scheduled" and telegram.sent_count() == 0
        past = run_lookout(
            [
                "alert",
                "send",
                *COMPOSE,
                "--everyone",
                "--area",
                "town_centre",
                "--send-at",
                "2020-01-01T09:00+00:00",
                "--yes",
            ],
            env,
        )
        assert past.returncode == 2 and "send_at: that time has passed" in past.stderr
        server = Server(env)
        try:
            server.wait_until_up()
            _wait_for(lambda: len(telegram.texts_to(int(near.address.id))) == 1, timeout=30)
        finally:
            server.stop()
        assert {a["reference"]: a["state"] for a in run_json(["alert", "list"], env)}[scheduled["reference"]] == "sent"


def _wait_for(condition, timeout: float = 20) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
