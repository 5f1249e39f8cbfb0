"""``lookout demo`` from an empty folder: the app, the sandbox and its console come up with no further step."""
from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx

from tests.support.processes import LOOKOUT, ROOT, free_port, lookout_env


def test_the_demo_serves_the_console_with_the_telegram_webhook_registered(tmp_path: Path) -> None:
    app_port, sandbox_port = free_port(), free_port()
    env = lookout_env("sqlite:///var/demo.db")  # the demo picks its own database and settings
    demo = subprocess.Popen([*LOOKOUT, "demo", "--port", str(app_port), "--sandbox-port", str(sandbox_port), "--residents", "30"],
                            cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, errors="replace")
    try:
        deadline = time.monotonic() + 60
        while True:
            assert demo.poll() is None, demo.stdout.read()  # type: ignore[union-attr]
            try:
                state = httpx.get(f"http://127.0.0.1:{sandbox_port}/_console/api/state", timeout=1).json()
                if httpx.get(f"http://127.0.0.1:{app_port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the demo did not come up"
            time.sleep(0.2)
        assert state["telegram"]["webhook"]["url"] == f"http://127.0.0.1:{app_port}/telegram/webhook"
        assert state["counters"]["email"] == {"sent": 0, "refused": 0}  # the mail relay stand-in is up
        assert httpx.get(f"http://127.0.0.1:{sandbox_port}/").status_code == 200
        assert (tmp_path / "var" / "demo.db").exists()
    finally:
        demo.send_signal(signal.SIGINT)
        output, _ = demo.communicate(timeout=20)
    assert demo.returncode == 0, output
    # Up to the stop: a scheduler job that Ctrl+C cuts short still logs its CancelledError (runtime/scheduler.py).
    assert "Traceback" not in output.split("Shutting down")[0], output
    assert f"Console: http://127.0.0.1:{sandbox_port}/" in output
    assert f"Mailbox: http://127.0.0.1:{sandbox_port}/#mailbox" in output
    assert "platforms on: telegram, whatsapp, slack, email, sms" in output  # SMS against the sandbox's stand-in
    with sqlite3.connect(tmp_path / "var" / "demo.db") as db:  # some of the demo's residents signed up by email, some by text
        emails = {address for (address,) in db.execute("SELECT address FROM residents WHERE channel = 'email'")}
        texts = [address for (address,) in db.execute("SELECT address FROM residents WHERE channel = 'sms'")]
    assert "email:robin@example.org" in emails and len(emails) > 1
    assert texts and all(address.startswith("sms:+447") for address in texts)
