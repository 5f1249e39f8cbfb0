"""``lookout demo`` from an empty folder: the app, the sandbox and its console come up with no further step."""

from __future__ import annotations

import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.processes import LOOKOUT, ROOT, free_port, lookout_env

BANNER_END = "─" * 80


class Demo:
    """``lookout demo`` in ``folder`` (with a ``.venv/bin/lookout`` there, as in a checkout), its lines read as they come."""

    def __init__(self, folder: Path, *args: str) -> None:
        (folder / ".venv" / "bin").mkdir(parents=True)
        (folder / ".venv" / "bin" / "lookout").symlink_to(Path(sys.executable).parent / "lookout")
        self.folder = folder
        self.env = {**lookout_env("sqlite:///var/demo.db"), "PYTHONPATH": str(ROOT), "COLUMNS": "80"}
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [*LOOKOUT, "demo", *args],
            cwd=folder,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:  # type: ignore[union-attr]
            self.lines.append(line.rstrip("\n"))

    def banner(self, timeout: float = 90) -> list[str]:
        """The banner's lines, once it is printed (after the app answers)."""
        deadline = time.monotonic() + timeout
        while BANNER_END not in self.lines:
            assert self.process.poll() is None, self.output()
            assert time.monotonic() < deadline, "the demo did not print its banner\n" + self.output()
            time.sleep(0.1)
        end = self.lines.index(BANNER_END)
        start = next(i for i in range(end, -1, -1) if " Lookout demo " in self.lines[i])
        return self.lines[start : end + 1]

    def stop(self) -> str:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=30)
        self._reader.join(5)
        return self.output()

    def output(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port some other program is listening on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


def commands_in(banner: list[str]) -> list[str]:
    """The copy-paste commands: the banner's lines indented by two spaces after the paragraph that introduces them."""
    start = next(i for i, line in enumerate(banner) if line.startswith("  export "))
    end = banner.index("", start)
    return banner[start:end]


def test_the_demo_serves_the_console_prints_commands_that_work_in_80_columns_and_keeps_quiet(tmp_path: Path) -> None:
    app_port, sandbox_port, smtp_port = free_port(), free_port(), free_port()
    demo = Demo(
        tmp_path,
        "--port",
        str(app_port),
        "--sandbox-port",
        str(sandbox_port),
        "--smtp-port",
        str(smtp_port),
        "--residents",
        "30",
    )
    sandbox = f"http://127.0.0.1:{sandbox_port}"
    try:
        banner = demo.banner()
        state = httpx.get(f"{sandbox}/_console/api/state", timeout=5).json()
        assert httpx.get(f"http://127.0.0.1:{app_port}/readyz", timeout=5).status_code == 200
        assert state["telegram"]["webhook"]["url"] == f"http://127.0.0.1:{app_port}/telegram/webhook"
        assert state["counters"]["email"] == {"sent": 0, "refused": 0}  # the mail relay stand-in is up
        assert httpx.get(f"{sandbox}/").status_code == 200
        assert (tmp_path / "var" / "demo.db").exists()

        # Every line fits an 80-column terminal, and the commands run as printed, pasted into a shell.
        assert all(len(line) <= 80 for line in banner), "\n".join(line for line in banner if len(line) > 80)
        assert f"Console: {sandbox}/  (open it in your browser)" in banner and f"Mailbox: {sandbox}/#mailbox" in banner
        assert any(f"smtp://127.0.0.1:{smtp_port}" in line for line in banner)
        commands = commands_in(banner)
        assert commands[0] == "  export LOOKOUT_DATABASE_URL=sqlite:///var/demo.db"
        pasted = subprocess.run(
            ["bash", "-c", "\n".join(commands)], cwd=tmp_path, env=demo.env, capture_output=True, text=True, timeout=120
        )
        assert pasted.returncode == 0, pasted.stdout + pasted.stderr
        assert "A-2026-000001 (alert) queued" in pasted.stdout
        # The same settings from var/demo.env, as the banner says.
        assert any("source var/demo.env" in line for line in banner)
        sourced = subprocess.run(
            ["bash", "-c", "source var/demo.env && .venv/bin/lookout alert list --json"],
            cwd=tmp_path,
            env=lookout_env("sqlite:///elsewhere.db"),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert sourced.returncode == 0 and '"reference": "A-2026-000001"' in sourced.stdout, sourced.stderr

        # What would be chatter: the console polling, a resident writing in, an email through the relay stand-in.
        for _ in range(3):
            httpx.get(f"{sandbox}/_console/api/state", timeout=5)
            httpx.get(f"{sandbox}/mail/api/messages", timeout=5)
        assert (
            httpx.post(f"{sandbox}/_console/api/telegram/text", json={"text": "/start"}, timeout=30).json()["status"]
            == 200
        )
        deadline = time.monotonic() + 60
        while not any(
            "robin@example.org" in mail["to"]
            for mail in httpx.get(f"{sandbox}/mail/api/messages", timeout=5).json()["messages"]
        ):
            assert time.monotonic() < deadline, "Robin's email did not arrive"
            time.sleep(0.5)
    finally:
        output = demo.stop()
    assert demo.process.returncode == 0, output
    assert "Traceback" not in output, output
    assert "platforms on: telegram, whatsapp, slack, email, sms" in output  # SMS against the sandbox's stand-in
    after_banner = output.split(BANNER_END, 1)[1]
    assert "HTTP/1.1" not in output and "mail.log" not in output, after_banner  # no access lines, no SMTP chatter
    with sqlite3.connect(
        tmp_path / "var" / "demo.db"
    ) as db:  # some of the demo's residents signed up by email, some by text
        emails = {address for (address,) in db.execute("SELECT address FROM residents WHERE channel = 'email'")}
        texts = [address for (address,) in db.execute("SELECT address FROM residents WHERE channel = 'sms'")]
    assert "email:robin@example.org" in emails and len(emails) > 1
    assert texts and all(address.startswith("sms:+447") for address in texts)


def test_a_taken_port_moves_only_what_it_was_for_and_the_banner_says_where(tmp_path: Path, taken_port: int) -> None:
    sandbox_port = free_port()
    # The same port taken for the app and the mail relay: each moves to a free one, the sandbox stays where asked.
    demo = Demo(
        tmp_path,
        "--port",
        str(taken_port),
        "--sandbox-port",
        str(sandbox_port),
        "--smtp-port",
        str(taken_port),
        "--residents",
        "0",
    )
    try:
        banner = demo.banner()
        assert (
            f"Console: http://127.0.0.1:{sandbox_port}/  (open it in your browser)" in banner
        )  # still where it was asked
        app = next(line for line in banner if line.startswith("App: ")).split()[1].removesuffix("/healthz")
        assert app != f"http://127.0.0.1:{taken_port}" and httpx.get(f"{app}/readyz", timeout=5).status_code == 200
        relay = next(line for line in banner if "smtp://127.0.0.1:" in line).split("smtp://127.0.0.1:")[1].rstrip(".")
        assert int(relay) != taken_port
        env_file = (tmp_path / "var" / "demo.env").read_text()
        assert f"export LOOKOUT_SMTP_URL=smtp://127.0.0.1:{relay}" in env_file
        assert f"export LOOKOUT_GEOCODER_DOMAIN=127.0.0.1:{sandbox_port}/nominatim" in env_file
    finally:
        output = demo.stop()
    assert f"port {taken_port} is taken: the mail relay stand-in takes a free port instead" in output
    assert f"port {taken_port} is taken: the app takes port {app.rsplit(':', 1)[1]} instead" in output
    assert demo.process.returncode == 0 and "Traceback" not in output, output
