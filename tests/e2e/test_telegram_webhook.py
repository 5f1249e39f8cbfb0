"""``POST /telegram/webhook`` through the real app, fed by the sandbox's simulated Telegram users."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from core.clock import utc_now
from sandbox.telegram import TelegramStandIn
from sandbox.telegram_users import SECRET_HEADER, SimulatedUser, TelegramUsers
from storage.database import make_async_engine
from storage.tables import inbound_updates, residents
from storage.uow import unit_of_work_factory
from tests.support.database import count
from tests.support.processes import Server, lookout_env, run_lookout
from tests.support.residents import STAFFORD, add_residents, resident_at

TOKEN = "123456:TEST"
SECRET = "webhook-secret-0123456789"


@pytest.fixture
def service(database_url: str):
    """The app serving Telegram's webhook, registered with the stand-in by `lookout telegram set-webhook`."""
    with TelegramStandIn(TOKEN) as telegram:
        env = lookout_env(
            database_url, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE=telegram.base_url, TELEGRAM_WEBHOOK_SECRET=SECRET
        )
        server = Server(env)
        env["LOOKOUT_PUBLIC_URL"] = server.url
        try:
            server.wait_until_up()
            registered = run_lookout(["telegram", "set-webhook"], env)
            assert registered.returncode == 0, registered.stderr
            assert f"{server.url}/telegram/webhook" in registered.stdout
            yield telegram, server
        finally:
            output = server.stop()
            assert "Traceback" not in output, output


def test_blocking_the_bot_marks_the_resident_inactive_once(service, database_url: str) -> None:
    telegram, _ = service
    assert telegram.webhook["secret_token"] == SECRET  # registered by `lookout telegram set-webhook`
    assert "my_chat_member" in telegram.webhook["allowed_updates"]

    async def seed():
        engine = make_async_engine(database_url)
        (someone,) = await add_residents(unit_of_work_factory(engine, clock=utc_now), resident_at(*STAFFORD))
        await engine.dispose()
        return someone

    someone = asyncio.run(seed())
    users = TelegramUsers(telegram)
    answer = users.blocks_bot(SimulatedUser(int(someone.address.id)))
    assert answer.status_code == 200 and answer.json() == {"ok": True}
    assert count(database_url, residents, residents.c.active.is_(False)) == 1

    repeat = users.post(
        {k: v for k, v in users.last_update.items() if k != "update_id"}, update_id=users.last_update["update_id"]
    )
    assert repeat.status_code == 200 and repeat.json()["duplicate"] is True
    assert count(database_url, inbound_updates) == 1


# The refusals happen before the database is touched; one database shows it.
def test_a_wrong_or_missing_secret_gets_403_and_stores_nothing(service, database_url: str) -> None:
    _, server = service
    for secret in (None, "wrong", SECRET[:-1], SECRET + "x", "ünïcode-sécret"):
        headers = (
            {} if secret is None else {SECRET_HEADER: secret.encode("utf-8")}
        )  # raw bytes, as an attacker may send
        answer = httpx.post(f"{server.url}/telegram/webhook", json={"update_id": 1, "message": {}}, headers=headers)
        assert answer.status_code == 403, secret
    assert count(database_url, inbound_updates) == 0


def test_malformed_updates_get_400_store_nothing_and_crash_nothing(service, database_url: str) -> None:
    _, server = service
    bodies = [
        b"not json",
        b"[1, 2, 3]",
        b'{"update_id": "x"}',
        b'{"no_update_id": true}',
        b"{" * 5000 + b"}" * 5000,
        b'{"update_id": 5, "message": {"message_id": "nope"}}',
        b"\xff\xfe\x00",
    ]
    for body in bodies:
        answer = httpx.post(
            f"{server.url}/telegram/webhook",
            content=body,
            headers={SECRET_HEADER: SECRET, "content-type": "application/json"},
        )
        assert answer.status_code == 400, body[:40]
    too_big = httpx.post(f"{server.url}/telegram/webhook", content=b" " * 1_000_001, headers={SECRET_HEADER: SECRET})
    assert too_big.status_code == 413
    assert count(database_url, inbound_updates) == 0
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_a_stranger_is_answered_and_the_command_menu_is_registered_per_language(service, database_url: str) -> None:
    telegram, _ = service
    users = TelegramUsers(telegram)
    answer = users.sends_text(SimulatedUser(777), "hello")
    assert answer.status_code == 200
    assert (
        "are you 12 or older?" in telegram.messages_to(777)[-1].visible
    )  # never silence: the welcome, as /start gives
    deadline = time.monotonic() + 5  # marked handled just after the answer went back
    while count(database_url, inbound_updates, inbound_updates.c.handled_at.is_not(None)) != 1:
        assert time.monotonic() < deadline, "the update was never marked handled"
        time.sleep(0.05)
    english = {c["command"]: c["description"] for c in telegram.commands_by_language[""]}
    polish = {c["command"]: c["description"] for c in telegram.commands_by_language["pl"]}
    assert (
        {"start", "places", "topics", "business", "pause", "resume", "quiet", "language", "mydata", "stop", "help"}
        == set(english)
        == set(polish)
    )
    assert english["help"] == "Help" and polish["help"] != "Help"
