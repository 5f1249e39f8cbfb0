"""The CLI keeps its promises: ``--json`` is never mixed with a prompt, and ``send --wait`` says by its exit code
whether everything was delivered (real processes: the CLI, a delivery worker, Telegram's stand-in)."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess

import pytest

from core.clock import utc_now
from sandbox.telegram import TelegramFaults, TelegramStandIn
from storage.database import make_async_engine
from storage.tables import alerts, deliveries
from storage.uow import unit_of_work_factory
from tests.support.database import count
from tests.support.processes import LOOKOUT, ROOT, lookout_env, run_json, run_lookout
from tests.support.residents import STAFFORD, add_residents, resident_at

TOKEN = "123456:TEST"
CHATS = [710001, 710002, 710003]
COMPOSE = [
    "--incident",
    "MV-20261125-0456",
    "--headline",
    "Bogus callers",
    "--message",
    "Two men claiming to be from the water board.",
    "--everyone",
    "--at",
    f"{STAFFORD[0]},{STAFFORD[1]}",
    "--radius",
    "500m",
]


@pytest.fixture
def residents(database_url: str) -> None:
    async def seed() -> None:
        engine = make_async_engine(database_url)
        await add_residents(
            unit_of_work_factory(engine, clock=utc_now), *(resident_at(*STAFFORD, ident=str(chat)) for chat in CHATS)
        )
        await engine.dispose()

    asyncio.run(seed())


def test_json_needs_yes_so_no_prompt_is_mixed_into_it(database_url: str, residents: None) -> None:
    env = lookout_env(database_url)
    draft = run_json(["alert", "preview", *COMPOSE], env)
    for command in (
        ["alert", "send", draft["reference"], "--json"],
        ["alert", "send", *COMPOSE, "--json"],
        ["alert", "cancel", draft["reference"], "--json"],
    ):
        done = run_lookout(command, env)
        assert done.returncode == 2, done.stdout + done.stderr
        assert done.stdout == "" and "--json needs --yes" in done.stderr
    assert count(database_url, deliveries) == 0 and count(database_url, alerts) == 1  # nothing sent, no second draft


def test_wait_exits_1_when_it_gives_up(database_url: str, residents: None) -> None:
    done = run_lookout(
        ["alert", "send", *COMPOSE, "--yes", "--json", "--wait", "--timeout", "1"], lookout_env(database_url)
    )
    assert done.returncode == 1, done.stdout + done.stderr
    report = json.loads(done.stdout)  # the JSON is still printed, whole, with how the wait ended
    assert report["wait"]["delivered"] is False and report["wait"]["gave_up"] == "timeout"
    assert report["wait"]["states"] == {"pending": len(CHATS)}
    assert "Not all delivered" in done.stderr


@pytest.mark.parametrize("blocked", [set(), {CHATS[1]}], ids=["all-delivered", "one-died"])
def test_wait_exit_code_says_whether_every_delivery_was_made(
    database_url: str, residents: None, blocked: set[int]
) -> None:
    with TelegramStandIn(TOKEN, faults=TelegramFaults(blocked_chats=set(blocked))) as telegram:
        env = lookout_env(database_url, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE=telegram.base_url)
        worker = subprocess.Popen(
            [*LOOKOUT, "worker"], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            done = run_lookout(
                ["alert", "send", *COMPOSE, "--yes", "--json", "--wait", "--timeout", "120"], env, timeout=180
            )
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.communicate(timeout=30)
    report = json.loads(done.stdout)
    if blocked:
        assert done.returncode == 1, done.stderr
        assert report["wait"] == {"delivered": False, "gave_up": None, "states": {"dead": 1, "sent": len(CHATS) - 1}}
        assert "1 delivery died" in done.stderr
    else:
        assert done.returncode == 0, done.stderr
        assert report["wait"] == {"delivered": True, "gave_up": None, "states": {"sent": len(CHATS)}}
