"""The delivery worker as real processes against a local Telegram Bot API.

SIGKILLs at random points lose nothing; two workers on PostgreSQL share the
rate and never send a row twice.
"""

from __future__ import annotations

import random
import signal
import subprocess
import time

import sqlalchemy as sa

from sandbox.telegram import TelegramLimits, TelegramStandIn
from storage.database import is_sqlite, make_sync_engine
from storage.tables import deliveries
from tests.support.population import seed_telegram_residents_and_send
from tests.support.processes import LOOKOUT, ROOT, lookout_env

TOKEN = "123456:TEST"


def start_worker(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*LOOKOUT, "worker"], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def open_rows(database_url: str) -> int:
    engine = make_sync_engine(database_url)
    with engine.connect() as conn:
        count = conn.execute(
            sa.select(sa.func.count())
            .select_from(deliveries)
            .where(deliveries.c.state.in_(["pending", "sending", "failed"]))
        ).scalar_one()
    engine.dispose()
    return count


def wait_until_done(database_url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while open_rows(database_url) and time.monotonic() < deadline:
        time.sleep(0.25)
    assert open_rows(database_url) == 0, "deliveries still open"


def wait_for_more(telegram: TelegramStandIn, than: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while telegram.sent_count() <= than:
        assert time.monotonic() < deadline, "the worker sent nothing"
        time.sleep(0.02)


def stop(process: subprocess.Popen[str]) -> str:
    """SIGTERM, as a service manager stops it: it must finish cleanly."""
    process.send_signal(signal.SIGTERM)
    try:
        output = process.communicate(timeout=30)[0]
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError(f"the worker did not stop on SIGTERM:\n{process.communicate()[0]}") from None
    assert process.returncode == 0, output
    assert "Traceback" not in output, output
    return output


def test_sigkill_at_random_points_loses_nothing(database_url: str, force) -> None:
    recipients, kills = 240, 5
    seed_telegram_residents_and_send(database_url, force, recipients)
    rng = random.Random(20261125)
    with TelegramStandIn(TOKEN, limits=TelegramLimits(per_bot_per_second=30, per_chat_interval=1)) as telegram:
        env = lookout_env(
            database_url,
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE=telegram.base_url,
            LOOKOUT_WORKER_LEASE_SECONDS="2",
        )
        for _ in range(kills):
            before = telegram.sent_count()
            worker = start_worker(env)
            wait_for_more(telegram, before)  # it is sending now: kill it mid fan-out
            time.sleep(rng.uniform(0.05, 0.8))
            worker.send_signal(signal.SIGKILL)
            worker.wait()
        assert 0 < telegram.sent_count() < recipients, "the kills should land mid fan-out"
        worker = start_worker(env)
        try:
            wait_until_done(database_url, timeout=60)
        finally:
            stop(worker)
        per_chat: dict[int, int] = {}
        for record in telegram.sent:
            per_chat[record.chat_id] = per_chat.get(record.chat_id, 0) + 1
    assert len(per_chat) == recipients  # everyone reached
    assert all(1 <= n <= 1 + kills for n in per_chat.values())
    duplicates = sum(n - 1 for n in per_chat.values())
    print(f"\n{kills} kills, {recipients} recipients: {duplicates} duplicate(s) at the receiver")


def test_two_workers_share_the_rate_and_never_send_a_row_twice(database_url: str, force) -> None:
    """On PostgreSQL two workers share the channel's rate; SQLite supports one worker, so the second
    says so and stops, and the first sends everything at the rate on its own."""
    recipients, limit = 300, 30
    seed_telegram_residents_and_send(database_url, force, recipients)
    with TelegramStandIn(TOKEN, limits=TelegramLimits(per_bot_per_second=limit, per_chat_interval=1)) as telegram:
        env = lookout_env(database_url, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE=telegram.base_url)
        first = start_worker(env)
        if is_sqlite(database_url):
            wait_for_more(telegram, than=0)  # the first holds SQLite's one worker lock
        second = start_worker(env)
        workers = [first, second]
        try:
            if is_sqlite(database_url):
                refused = second.communicate(timeout=30)[0]
                assert (
                    second.returncode != 0
                    and "Another delivery worker is already running on this SQLite database" in refused
                )
                assert "Traceback" not in refused
                workers = [first]
            wait_until_done(database_url, timeout=90)
        finally:
            outputs = [stop(w) for w in workers]
        chats = [r.chat_id for r in telegram.sent]
        times = [r.at for r in telegram.sent]
    assert len(chats) == recipients and len(set(chats)) == recipients  # no row twice
    assert all("delivery worker started" in out for out in outputs)  # every worker still running really worked
    achieved = (len(times) - 1) / (times[-1] - times[0])
    busiest_second = max(sum(1 for t in times if start <= t < start + 1) for start in times)
    print(
        f"\n{len(workers)} worker(s): {achieved:.1f} msg/s against a limit of {limit}; busiest second {busiest_second}; "
        f"429s {telegram.rate_limited}"
    )
    assert achieved <= limit
    assert busiest_second <= limit
