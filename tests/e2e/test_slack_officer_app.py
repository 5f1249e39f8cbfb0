"""The officers' Slack app in a real ``lookout serve``: signed requests over HTTP from the sandbox's simulated
Slack, its Web API stand-in recording what the app did, residents reached on the Telegram stand-in."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlencode

import httpx
import pytest

from core.clock import utc_now
from sandbox.nominatim import NominatimStandIn
from sandbox.slack import SlackStandIn
from sandbox.slack_records import SlackLimits
from sandbox.slack_users import SimulatedSlackClient
from sandbox.slack_workspace import OFFICER_ID, OFFICERS_CHANNEL_ID, SUPERVISOR_ID
from sandbox.telegram import TelegramStandIn
from storage.database import make_async_engine
from storage.tables import alerts, audit_log, inbound_updates
from storage.uow import unit_of_work_factory
from tests.support.database import count
from tests.support.processes import Server, lookout_env
from tests.support.residents import STAFFORD, add_residents, offset, resident_at
from tests.support.slack_officer import (
    COMPOSE_VALUES,
    button_value,
    card_text,
    eventually,
)

TELEGRAM_TOKEN = "123456:TEST"
SLACK_TOKEN = "xoxb-e2e"
SECRET = "e2e-signing-secret"


@pytest.fixture
def service(database_url: str):
    """``lookout serve`` with Slack and Telegram pointed at their stand-ins, two residents near Stafford."""

    async def seed():
        engine = make_async_engine(database_url)
        await add_residents(
            unit_of_work_factory(engine, clock=utc_now),
            resident_at(*STAFFORD),
            resident_at(*offset(*STAFFORD, north_m=300), topics=frozenset({"missing"})),
        )
        await engine.dispose()

    asyncio.run(seed())
    slack = SlackStandIn(SLACK_TOKEN, SECRET, limits=SlackLimits(post_per_channel_per_second=None))
    with slack, TelegramStandIn(TELEGRAM_TOKEN) as telegram, NominatimStandIn() as nominatim:
        env = lookout_env(
            database_url,
            TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN,
            TELEGRAM_API_BASE=telegram.base_url,
            SLACK_BOT_TOKEN=SLACK_TOKEN,
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_BASE=slack.api_url,
            SLACK_OFFICER_IDS=OFFICER_ID,
            SLACK_SUPERVISOR_IDS=SUPERVISOR_ID,
            LOOKOUT_GEOCODER_DOMAIN=nominatim.domain,
            LOOKOUT_GEOCODER_SCHEME="http",
        )
        server = Server(env)
        try:
            server.wait_until_up()
            yield server, slack, telegram
        finally:
            output = server.stop()
            assert "Traceback" not in output, output
            assert "platforms on: telegram, slack" in output


async def test_an_officer_raises_previews_and_sends_and_sees_the_final_report(service, database_url):
    server, slack, telegram = service
    async with SimulatedSlackClient(slack, f"{server.url}/slack/events") as simulated:
        answer = await simulated.slash_command(OFFICER_ID, "/alert", "", OFFICERS_CHANNEL_ID)
        assert answer.status_code == 200 and answer.elapsed.total_seconds() < 3
        (modal,) = await eventually(lambda: slack.open_views(OFFICER_ID), what="the modal")
        retried = await simulated.post_signed(
            urlencode(slack.interactions[-1].body),
            "application/x-www-form-urlencoded",
            headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
        )
        assert retried.status_code == 200
        await asyncio.sleep(0.3)
        assert [v.method for v in slack.views] == ["views.open"]  # Slack's retry opened no second modal

        wrong = await simulated.view_submission(
            OFFICER_ID, modal["id"], {**COMPOSE_VALUES, "incident_number": {"value": "x"}}
        )
        assert set(wrong.json()["errors"]) == {"incident_number"}
        done = await simulated.view_submission(OFFICER_ID, modal["id"], COMPOSE_VALUES)
        assert done.status_code == 200 and done.content == b""
        (card,) = await eventually(
            lambda: [m for m in slack.messages_in(OFFICERS_CHANNEL_ID) if m.blocks], what="the preview"
        )
        assert "Would reach 2 residents" in card_text(card) and "Telegram 2" in card_text(card)
        (picture,) = [f for f in slack.files.values() if f.completed]
        assert picture.content and picture.content.startswith(b"\x89PNG")

        started = time.monotonic()
        await simulated.block_action(
            OFFICER_ID,
            "alert_send",
            button_value(card, "alert_send"),
            channel_id=OFFICERS_CHANNEL_ID,
            message_ts=card.ts,
        )
        await eventually(
            lambda: "Delivered in" in card_text(slack.message(OFFICERS_CHANNEL_ID, card.ts)),
            timeout=20,
            what="the final report",
        )
        took = time.monotonic() - started
    final = card_text(slack.message(OFFICERS_CHANNEL_ID, card.ts))
    assert "2 sent · 0 failed · 0 blocked the bot · 0 skipped (of 2)" in final
    assert telegram.sent_count() == 2 and all("MV-20261125-0456" in s.text for s in telegram.sent)
    updates = [p for m, p in slack.calls if m == "chat.update" and p.get("ts") == card.ts]
    assert 1 <= len(updates) <= 1 + took / 3
    assert count(database_url, alerts) == 1


async def test_forged_stale_and_malformed_requests_get_401_and_change_nothing(service, database_url):
    server, slack, _ = service
    url = f"{server.url}/slack/events"
    form = "command=%2Falert&text=&user_id=U01OFFICER1&channel_id=C01OFFICERS&trigger_id=1.2.3"
    async with SimulatedSlackClient(slack, url) as simulated:
        now = int(time.time())
        answers = [
            await simulated.post_signed(form, "application/x-www-form-urlencoded", signing_secret="not-the-secret"),
            await simulated.post_signed(form, "application/x-www-form-urlencoded", timestamp=now - 301),
            await simulated.post_signed(form, "application/x-www-form-urlencoded", timestamp=now + 400),
        ]
        async with httpx.AsyncClient() as http:
            plain = {"Content-Type": "application/x-www-form-urlencoded"}
            answers.append(await http.post(url, content=form, headers=plain))  # no signature at all
            answers.append(
                await http.post(
                    url,
                    content=form,
                    headers={**plain, "X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=00"},
                )
            )
            answers.append(
                await http.post(
                    url,
                    content=form,
                    headers=[
                        ("Content-Type", "application/x-www-form-urlencoded"),
                        ("X-Slack-Request-Timestamp", str(now)),
                        ("X-Slack-Signature", "v0=\xe9\xe9".encode("latin-1")),
                    ],
                )
            )  # non-ASCII
            answers.append(
                await http.post(
                    url,
                    content=b"\xff\xfe",
                    headers={**plain, "X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": "v0=" + "0" * 64},
                )
            )
            ssl_check = await http.post(url, content="ssl_check=1&token=x", headers=plain)
    assert [a.status_code for a in answers] == [401] * 7, [a.text for a in answers]
    assert all(a.json() == {"ok": False, "error": "invalid signature"} for a in answers)
    assert ssl_check.status_code == 200
    assert slack.views == [] and slack.ephemeral == []
    assert count(database_url, inbound_updates) == 0 and count(database_url, audit_log) == 0
