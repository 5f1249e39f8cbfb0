"""Exactly one scheduler runs jobs; a standby takes over when the leader dies."""

from __future__ import annotations

import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from storage.database import make_sync_engine
from storage.tables import alerts, audit_log
from tests.support.population import seed_telegram_residents_and_send
from tests.support.processes import LOOKOUT, ROOT, lookout_env

pytestmark = pytest.mark.calendar  # make test runs it again with the clock moved


class LoggedProcess:
    """A ``lookout`` subprocess whose output is collected as it runs."""

    def __init__(self, args: list[str], env: dict[str, str], log_path) -> None:
        self.log_path = log_path
        self._log = open(log_path, "w")
        self.process = subprocess.Popen(
            [*LOOKOUT, *args], env=env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT
        )

    def output(self) -> str:
        return self.log_path.read_text()

    def wait_for(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            assert self.process.poll() is None, self.output()
            assert time.monotonic() < deadline, f"waited for {text!r}:\n{self.output()}"
            time.sleep(0.1)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:  # its log holds every thread's stack (dumped 25 s after the signal)
                self.process.kill()
                raise AssertionError(f"did not stop within 30 s of signal {sig}:\n{self.output()}") from None
        self._log.close()


def audit_actions(database_url: str, action: str) -> int:
    engine = make_sync_engine(database_url)
    with engine.connect() as conn:
        count = conn.execute(
            sa.select(sa.func.count()).select_from(audit_log).where(audit_log.c.action == action)
        ).scalar_one()
    engine.dispose()
    return count


def alert_state(database_url: str, reference: str) -> str:
    engine = make_sync_engine(database_url)
    with engine.connect() as conn:
        state = conn.execute(sa.select(alerts.c.state).where(alerts.c.reference == reference)).scalar_one()
    engine.dispose()
    return state


def wait_for_state(database_url: str, reference: str, state: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while alert_state(database_url, reference) != state:
        assert time.monotonic() < deadline, f"{reference} is {alert_state(database_url, reference)}, not {state}"
        time.sleep(0.2)


def test_one_leader_a_standby_and_a_takeover(database_url: str, force, tmp_path) -> None:
    env = lookout_env(database_url)
    first = LoggedProcess(["scheduler"], env, tmp_path / "first.log")
    second = None
    try:
        first.wait_for("this process is the scheduler")
        second = LoggedProcess(["scheduler"], env, tmp_path / "second.log")
        second.wait_for("another scheduler holds the lock; standing by")

        reference = seed_telegram_residents_and_send(
            database_url, force, 3, send_at=datetime.now(UTC) + timedelta(seconds=2)
        )
        wait_for_state(database_url, reference, "sending")
        time.sleep(6)  # both have had time to run the job again
        assert audit_actions(database_url, "send") == 1  # sent once, by one scheduler
        assert "this process is the scheduler" not in second.output()

        first.stop(signal.SIGKILL)  # the leader dies without letting go
        second.wait_for("this process is the scheduler", timeout=30)
        later = seed_telegram_residents_and_send(
            database_url, force, 1, send_at=datetime.now(UTC) + timedelta(seconds=1)
        )
        wait_for_state(database_url, later, "sending")
        assert audit_actions(database_url, "send") == 2
    finally:
        first.stop(signal.SIGKILL)
        if second is not None:
            second.stop()


def test_a_schedule_missed_during_downtime_is_sent_once_or_flagged(database_url: str, force, tmp_path) -> None:
    # Scheduled while no scheduler ran; due 10 minutes ago (within the 30-minute grace): sent once on start.
    recent = seed_telegram_residents_and_send(database_url, force, 2, send_at=datetime.now(UTC) + timedelta(seconds=1))
    stale = seed_telegram_residents_and_send(database_url, force, 2, send_at=datetime.now(UTC) + timedelta(seconds=1))
    engine = make_sync_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            sa.update(alerts)
            .where(alerts.c.reference == recent)
            .values(send_at=datetime.now(UTC) - timedelta(minutes=10))
        )
        conn.execute(
            sa.update(alerts).where(alerts.c.reference == stale).values(send_at=datetime.now(UTC) - timedelta(hours=2))
        )
    engine.dispose()

    scheduler = LoggedProcess(["scheduler"], lookout_env(database_url), tmp_path / "scheduler.log")
    try:
        wait_for_state(database_url, recent, "sending")
        wait_for_state(database_url, stale, "missed")
        time.sleep(6)
    finally:
        scheduler.stop()
    assert audit_actions(database_url, "send") == 1 and audit_actions(database_url, "schedule_missed") == 1
