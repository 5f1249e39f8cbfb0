"""``lookout bench doors``: what a stranger and a crowd do to ``lookout serve`` through its public doors.

- Oversized bodies: a 300 MB unauthenticated POST to each webhook, once with a
  declared ``Content-Length`` and once streamed (chunked). Figures: the answer,
  how much was taken before it, and the process's peak memory before and after.
- A burst of residents: 100 residents message the bot at the same moment, with
  the Telegram stand-in enforcing its published limits (30 messages a second,
  a small burst per chat). Figures: webhook answers by status, how long until
  every resident had the bot's reply, Telegram's 429s, and the server's CPU
  time per message (which does not depend on what else the machine runs).

Figures, not assertions; the tests (tests/e2e/test_hostile_doors.py,
tests/e2e/test_resident_burst.py) hold the behaviour.
"""

from __future__ import annotations

import asyncio
import select
import socket
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from benchmarks.serve_process import ServeProcess
from runtime.examples import EXAMPLE_FORCE_CONFIG
from sandbox.telegram import TelegramLimits, TelegramStandIn
from sandbox.telegram_users import SECRET_HEADER, SimulatedUser
from storage.migrate import upgrade

TOKEN = "123456:BENCHDOORS"
SECRET = "bench-doors-webhook-secret"
FORCE_CONFIG = EXAMPLE_FORCE_CONFIG
HUGE = 300 * 1024 * 1024
CHUNK = 256 * 1024
WEBHOOKS = ("/slack/events", "/whatsapp/webhook", "/telegram/webhook")


async def run_doors_benchmark(*, database_url: str | None = None, residents: int = 100) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lookout-bench-doors-") as folder:
        url = database_url or f"sqlite:///{folder}/lookout.db"
        upgrade(url)
        with TelegramStandIn(TOKEN, limits=TelegramLimits()) as telegram:
            settings = serve_settings(url, telegram)
            with ServeProcess(settings, Path(folder) / "serve.log") as serve:
                register_webhook(telegram, serve.url)
                before = serve.peak_rss_mb()
                oversized = [
                    oversized_post(serve.port, path, streamed) for path in WEBHOOKS for streamed in (False, True)
                ]
                after = serve.peak_rss_mb()
                cpu = serve.cpu_seconds()
                burst = await resident_burst(telegram, residents)
                # The figure that does not depend on what else the machine is doing.
                burst["server_cpu_ms_per_message"] = round((serve.cpu_seconds() - cpu) * 1000 / residents, 1)
            return {
                "database": "sqlite" if url.startswith("sqlite") else "postgresql",
                "oversized_posts": oversized,
                "peak_memory_mb_before": before,
                "peak_memory_mb_after": after,
                **burst,
            }


def serve_settings(url: str, telegram: TelegramStandIn) -> dict[str, str]:
    closed = "http://127.0.0.1:9"  # platforms the scenario does not talk to: any call fails fast
    return {
        "LOOKOUT_DATABASE_URL": url,
        "LOOKOUT_FORCE_CONFIG": str(FORCE_CONFIG),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": telegram.base_url,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "SLACK_BOT_TOKEN": "xoxb-bench-doors",
        "SLACK_SIGNING_SECRET": "bench-doors-signing-secret",
        "SLACK_API_BASE": f"{closed}/api/",
        "WHATSAPP_TOKEN": "bench-doors",
        "WHATSAPP_PHONE_NUMBER_ID": "100000000000001",
        "WHATSAPP_APP_SECRET": "bench-doors-app-secret",
        "WHATSAPP_API_BASE": closed,
        "LOOKOUT_GEOCODER_DOMAIN": "127.0.0.1:9",
        "LOOKOUT_GEOCODER_SCHEME": "http",
    }


def register_webhook(telegram: TelegramStandIn, serve_url: str) -> None:
    answer = httpx.post(
        f"{telegram.base_url}/bot{TOKEN}/setWebhook",
        data={"url": f"{serve_url}/telegram/webhook", "secret_token": SECRET},
    )
    answer.raise_for_status()


def oversized_post(port: int, path: str, streamed: bool) -> dict[str, Any]:
    """POST 300 MB (declared or chunked) without any credential but Telegram's secret; stop sending once answered."""
    secret = f"X-Telegram-Bot-Api-Secret-Token: {SECRET}\r\n" if path.startswith("/telegram") else ""
    framing = "Transfer-Encoding: chunked" if streamed else f"Content-Length: {HUGE}"
    chunk = b"x" * CHUNK
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" if streamed else chunk
    sent = 0
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: lookout\r\nContent-Type: application/json\r\n{secret}{framing}\r\n\r\n".encode()
        )
        status = None
        while sent < HUGE:
            readable, writable, _ = select.select([sock], [sock], [], 30)
            if readable or not writable:
                break
            try:
                sock.sendall(frame)
            except OSError:
                break
            sent += len(chunk)
        try:
            status = int(sock.recv(4096).split(b" ", 2)[1])
        except (OSError, IndexError, ValueError):
            status = None
    return {
        "path": path,
        "body": "chunked" if streamed else "declared",
        "status": status,
        "mb_sent_before_answer": round(sent / 1024 / 1024, 1),
        "seconds": round(time.perf_counter() - started, 2),
    }


async def resident_burst(telegram: TelegramStandIn, residents: int) -> dict[str, Any]:
    """``residents`` residents each send their first message at the same moment; every webhook answer and
    how long until each had the bot's reply."""
    people = [SimulatedUser(880_000 + n, first_name=f"Resident {n}") for n in range(residents)]
    webhook = telegram.webhook
    headers = {SECRET_HEADER: webhook["secret_token"]}
    updates = [
        {
            "update_id": 500_000 + n,
            "message": {
                "message_id": 1,
                "from": person.as_json(),
                "chat": person.chat(),
                "date": int(time.time()),
                "text": "/start",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            },
        }
        for n, person in enumerate(people)
    ]
    # One event loop sends them all at once (threads would compete with the stand-in for this process's GIL).
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=residents), timeout=30) as client:
        start = time.monotonic()  # the stand-in stamps what it receives with time.monotonic()
        answers = await asyncio.gather(
            *(client.post(webhook["url"], json=u, headers=headers) for u in updates), return_exceptions=True
        )
    statuses: Counter[str] = Counter(
        str(a.status_code) if isinstance(a, httpx.Response) else type(a).__name__ for a in answers
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(not telegram.messages_to(p.id) for p in people):
        await asyncio.sleep(0.05)
    waits = sorted(min(m.at for m in telegram.messages_to(p.id)) - start for p in people if telegram.messages_to(p.id))
    return {
        "residents": residents,
        "webhook_answers": dict(sorted(statuses.items())),
        "server_errors": sum(n for status, n in statuses.items() if status.startswith("5")),
        "residents_answered": len(waits),
        "reply_p50_s": round(waits[len(waits) // 2], 2) if waits else None,
        "reply_max_s": round(waits[-1], 2) if waits else None,
        "telegram_429s": telegram.rate_limited,
    }
