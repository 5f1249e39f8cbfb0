"""The public doors of a real ``lookout serve`` process against what a stranger can send without any credential.

No body bigger than its route's limit is ever read: a declared ``Content-Length`` over it is refused (413) before
a byte is read, a streamed (chunked) body is refused as soon as it passes it. And every line the process writes,
uvicorn's access and error lines included, is scrubbed of secrets and in the configured (JSON) format.
"""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bots.body_limit import DEFAULT_LIMIT
from tests.support.processes import Server, lookout_env

VERIFY_TOKEN = "verify-token-never-logged-0123"
CLOSED = "http://127.0.0.1:9"  # every platform call fails fast: these tests never get that far
ROUTES = [
    "/slack/events",
    "/whatsapp/webhook",
    "/telegram/webhook",
    "/sms/webhook",
    "/sms/status",
    "/subscribe",
    "/healthz",
    "/no/such/route",
]
# The routes that read a body; the others answer (403, 404, 405) without reading it, which is as good.
READING = {
    "/slack/events": "",
    "/whatsapp/webhook": "",
    "/telegram/webhook": "X-Telegram-Bot-Api-Secret-Token: doors-telegram-secret\r\n",
    "/sms/webhook": "X-Twilio-Signature: c2lnbmF0dXJl\r\n",
    "/subscribe": "",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Server]:
    database = tmp_path_factory.mktemp("doors") / "lookout.db"
    database.write_bytes(sqlite_template.read_bytes())
    env = lookout_env(
        f"sqlite:///{database}",
        LOOKOUT_LOG_FORMAT="json",
        SLACK_BOT_TOKEN="xoxb-doors",
        SLACK_SIGNING_SECRET="doors-signing-secret-0123",
        SLACK_API_BASE=f"{CLOSED}/api/",
        WHATSAPP_TOKEN="doors-wa-token",
        WHATSAPP_PHONE_NUMBER_ID="100000000000001",
        WHATSAPP_APP_SECRET="doors-app-secret-0123",
        WHATSAPP_VERIFY_TOKEN=VERIFY_TOKEN,
        WHATSAPP_API_BASE=CLOSED,
        TELEGRAM_BOT_TOKEN="123456:DOORS",
        TELEGRAM_WEBHOOK_SECRET="doors-telegram-secret",
        TELEGRAM_API_BASE=CLOSED,
        LOOKOUT_SMTP_URL="smtp://127.0.0.1:9",
        LOOKOUT_LINK_SECRET="doors-link-secret-0123456789",
        SMS_ACCOUNT_SID="AC" + "d" * 32,
        SMS_AUTH_TOKEN="doors-sms-token-0123",
        SMS_FROM="+447700900000",
        SMS_API_BASE=CLOSED,
        LOOKOUT_PUBLIC_URL="http://lookout.test",
    )
    running = Server(env)
    try:
        running.wait_until_up()
        yield running
    finally:
        running.stop()


def _answer(sock: socket.socket) -> int:
    head = b""
    while b"\r\n" not in head:
        part = sock.recv(4096)
        if not part:
            break
        head += part
    return int(head.split(b" ", 2)[1])


@pytest.mark.parametrize("path", ROUTES)
def test_a_declared_body_over_the_limit_is_refused_before_it_is_read(server: Server, path: str) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: lookout\r\nContent-Type: application/json\r\n"
            f"Content-Length: {300 * 1024 * 1024}\r\n\r\n".encode()
            + b"{" * 1000
        )
        # Nothing more is sent: the answer comes without the server waiting for the 300 MB it was promised.
        assert _answer(sock) == 413


@pytest.mark.parametrize("path", ROUTES)
def test_a_streamed_body_is_refused_as_soon_as_it_passes_the_limit(server: Server, path: str) -> None:
    chunk = b"x" * 65536
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: lookout\r\nContent-Type: application/x-www-form-urlencoded\r\n{READING.get(path, '')}"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        while sent < 64 * 1024 * 1024:  # up to 64 MB, for as long as the server keeps reading
            readable, writable, _ = select.select([sock], [sock], [], 10)
            if readable:
                break
            assert writable, "the server neither read nor answered"
            sock.sendall(frame)
            sent += len(chunk)
        status = _answer(sock)
    assert status == 413 if path in READING else 400 <= status < 500
    # Stopped within the route's limit (1 MB for the webhooks) plus what the sockets' buffers held in between.
    assert sent < 16 * 1024 * 1024, f"{sent} bytes were taken before the refusal"


def test_small_bodies_still_reach_the_doors(server: Server) -> None:
    assert (
        httpx.post(f"{server.url}/whatsapp/webhook", content=b"{}").status_code == 401
    )  # the signature check, as before
    assert httpx.post(f"{server.url}/slack/events", content=b"x" * (DEFAULT_LIMIT + 1)).status_code == 401
    assert httpx.post(f"{server.url}/subscribe", content=b"x" * (DEFAULT_LIMIT + 1)).status_code == 413
    assert (
        httpx.post(f"{server.url}/sms/webhook", content=b"Body=hi", headers={"X-Twilio-Signature": "x"}).status_code
        == 403
    )


def test_every_line_uvicorn_writes_is_scrubbed_and_in_the_app_format(server: Server) -> None:
    verified = httpx.get(
        f"{server.url}/whatsapp/webhook",
        params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "42"},
    )
    assert verified.text == "42"
    httpx.get(f"{server.url}/subscribe/manage", params={"t": "eyJzaWduZWQiOiJsaW5rIn0.signature"})
    output = server.stop()
    assert VERIFY_TOKEN not in output and "eyJzaWduZWQiOiJsaW5rIn0" not in output
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]  # every line is JSON, uvicorn's too
    access = [entry for entry in lines if entry["logger"] == "uvicorn.access"]
    assert any("hub.verify_token=***" in entry["message"] for entry in access)
    assert any(entry["logger"] == "uvicorn.error" for entry in lines)
