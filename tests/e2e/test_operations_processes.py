"""``lookout serve`` as real processes, as an operator configures them: logs in JSON from ``.env`` (uvicorn's
access lines included, never a secret), the log level honoured, and webhook timings summed over several
web processes sharing one port (prometheus multiprocess mode)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from storage.migrate import upgrade
from tests.support.processes import LOOKOUT, free_port

BOT_TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345"
WEBHOOK_SECRET = "webhook-secret-9f8e7d6c5b4a"


def env_without_settings(**extra: str) -> dict[str, str]:
    """Settings come from the ``.env`` file in the working directory only (as on a server)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LOOKOUT_", "TELEGRAM_", "SLACK_", "WHATSAPP_", "SMS_"))
    }
    env.update(extra)
    return env


def start(folder: Path, port: int, *args: str, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*LOOKOUT, "serve", "--port", str(port), *args],
        env=env_without_settings(**extra),
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
    )


def wait_until_up(process: subprocess.Popen[str], url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"lookout serve exited early:\n{process.stderr.read()}")  # type: ignore[union-attr]
        try:
            httpx.get(f"{url}/healthz", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("lookout serve did not start listening")


def stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    process.send_signal(signal.SIGTERM)
    try:
        return process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()


def write_env(folder: Path, **settings: str) -> None:
    (folder / ".env").write_text("".join(f"{name}={value}\n" for name, value in settings.items()))


def migrated(folder: Path) -> str:
    url = f"sqlite:///{folder / 'lookout.db'}"
    upgrade(url)
    return url


def test_json_logs_from_dotenv_every_line_including_access_lines_and_never_a_secret(tmp_path: Path) -> None:
    port = free_port()
    write_env(
        tmp_path,
        LOOKOUT_DATABASE_URL=migrated(tmp_path),
        LOOKOUT_LOG_FORMAT="json",
        TELEGRAM_BOT_TOKEN=BOT_TOKEN,
        TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
        TELEGRAM_API_BASE="http://127.0.0.1:9",
        LOOKOUT_GEOCODER_DOMAIN="127.0.0.1:9",
        LOOKOUT_GEOCODER_SCHEME="http",
    )
    server = start(tmp_path, port)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(server, url)
        assert httpx.get(f"{url}/healthz").status_code == 200
        # Secrets where an access line would print them: a query string, a path, a wrong guess at the webhook secret.
        assert (
            httpx.post(
                f"{url}/telegram/webhook?secret={WEBHOOK_SECRET}",
                json={"update_id": 1},
                headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"},
            ).status_code
            == 403
        )
        assert httpx.get(f"{url}/bot{BOT_TOKEN}/getMe").status_code == 404
        assert httpx.get(f"{url}/subscribe/manage?t=signed.link.token-0123456789").status_code in (200, 400, 404)
    finally:
        stdout, stderr = stop(server)
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines, "the server logged nothing"
    entries = [json.loads(line) for line in lines]  # every line is one JSON object: a stray text line fails here
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    access = [e for e in entries if e["logger"] == "uvicorn.access"]
    assert len(access) >= 4 and any("/telegram/webhook" in e["message"] and "403" in e["message"] for e in access)
    assert any(e["logger"] == "uvicorn.error" for e in entries)  # uvicorn's start-up and shutdown lines too
    assert any("platforms on: telegram" in e["message"] for e in entries)
    for secret in (WEBHOOK_SECRET, BOT_TOKEN, "signed.link.token-0123456789"):
        assert secret not in stderr and secret not in stdout


def test_the_log_level_from_dotenv_is_honoured_by_uvicorn_too(tmp_path: Path) -> None:
    port = free_port()
    write_env(tmp_path, LOOKOUT_DATABASE_URL=migrated(tmp_path), LOOKOUT_LOG_LEVEL="warning")
    server = start(tmp_path, port)
    try:
        wait_until_up(server, f"http://127.0.0.1:{port}")
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
    finally:
        _, stderr = stop(server)
    assert " INFO " not in stderr and "GET /readyz" not in stderr, stderr


def webhook_count(metrics_text: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(metrics_text)
        for sample in family.samples
        if sample.name == "lookout_webhook_seconds_count" and sample.labels["path"] == "/telegram/webhook"
    )


def test_two_web_processes_on_one_port_report_every_webhook_in_every_scrape(tmp_path: Path) -> None:
    port, requests = free_port(), 24
    metrics_dir = tmp_path / "prometheus"
    write_env(tmp_path, LOOKOUT_DATABASE_URL=migrated(tmp_path))
    servers = [
        start(
            tmp_path, port, "--no-worker", "--no-scheduler", "--reuse-port", PROMETHEUS_MULTIPROC_DIR=str(metrics_dir)
        )
        for _ in range(2)
    ]
    url = f"http://127.0.0.1:{port}"
    try:
        for server in servers:
            wait_until_up(server, url)
        for i in range(requests):  # a new connection each: the kernel spreads them over both processes
            assert httpx.post(f"{url}/telegram/webhook", json={"update_id": i}).status_code in (403, 404)
        scrapes = [httpx.get(f"{url}/metrics").text for _ in range(8)]
    finally:
        for server in servers:
            stop(server)
    assert [webhook_count(text) for text in scrapes] == [requests] * 8
    assert len(list(metrics_dir.glob("histogram_*.db"))) == 2  # both processes answered webhooks
