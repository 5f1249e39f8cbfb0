"""``GET /metrics`` through the app: the queue, tips and webhook timings, on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from core.geo.areas import CircleArea
from core.model import Address, Channel
from core.services.alerts import AlertRequest, AlertService
from core.services.roles import Roles
from core.services.tips import NewTip, TipService
from core.settings import Settings
from runtime.app import build, create_app
from runtime.scheduler import SCHEDULER_LOCK
from runtime.version import lookout_version
from tests.support.residents import STAFFORD, add_residents, resident_at


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


@pytest.fixture
async def client(database_url: str, clock):
    lookout = build(
        Settings(
            LOOKOUT_DATABASE_URL=database_url,
            TELEGRAM_BOT_TOKEN="1:X",
            TELEGRAM_API_BASE="http://127.0.0.1:9",
            TELEGRAM_WEBHOOK_SECRET="s",
            SLACK_TIPS_CHANNEL="C01TIPSQUEUE",
        ),
        clock=clock,
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(lookout)), base_url="http://lookout.test"
    ) as http:
        yield http
    await lookout.aclose()


async def test_metrics_report_the_queue_tips_and_webhook_latency(client, uow_factory, force, clock):
    residents = await add_residents(uow_factory, *(resident_at(*STAFFORD) for _ in range(3)))
    alerts = AlertService(uow_factory, force, roles=Roles(), channels=(Channel.TELEGRAM,), clock=clock)
    draft = await alerts.draft(
        AlertRequest(
            everyone=True,
            incident_number="MV-20261125-0456",
            headline="h",
            message="m",
            area=CircleArea(*STAFFORD, 500),
        ),
        "cli:test",
    )
    await alerts.send(draft.id, "cli:test")
    tips = TipService(
        uow_factory, force, roles=Roles(), officer_queue=Address(Channel.SLACK, "C01TIPSQUEUE"), clock=clock
    )
    await tips.submit(residents[0].address, NewTip("seen something"))
    assert (await client.post("/telegram/webhook", json={"update_id": 1})).status_code == 403

    answer = await client.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    found = samples(answer.text)
    assert found[("lookout_deliveries", (("channel", "telegram"), ("state", "pending")))] == 3
    assert found[("lookout_deliveries", (("channel", "telegram"), ("state", "sent")))] == 0
    assert found[("lookout_queue_due", (("channel", "telegram"),))] == 3
    assert found[("lookout_queue_due", (("channel", "slack"),))] == 2  # the day's thread root and the tip
    assert found[("lookout_queue_oldest_due_seconds", (("channel", "telegram"),))] >= 0
    assert found[("lookout_tips", (("state", "new"),))] == 1
    assert found[("lookout_webhook_seconds_count", (("path", "/telegram/webhook"), ("status", "403")))] == 1


async def test_metrics_need_the_bearer_token_when_one_is_set(database_url: str, clock):
    lookout = build(Settings(LOOKOUT_DATABASE_URL=database_url, LOOKOUT_METRICS_TOKEN="scrape-me-please"), clock=clock)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(lookout)), base_url="http://lookout.test"
        ) as http:
            for headers in (
                {},
                {"Authorization": "Bearer wrong"},
                {"Authorization": "Basic scrape-me-please"},
                {"Authorization": "Bearer scrape-me-pleasex"},
                {"Authorization": "Bearer"},
            ):
                refused = await http.get("/metrics", headers=headers)
                assert refused.status_code == 401 and "lookout_deliveries" not in refused.text, headers
                assert refused.headers["www-authenticate"].startswith("Bearer")
            allowed = await http.get("/metrics", headers={"Authorization": "Bearer scrape-me-please"})
            assert allowed.status_code == 200 and "lookout_deliveries" in allowed.text
    finally:
        await lookout.aclose()


async def test_metrics_name_the_version_and_whether_a_scheduler_leads(database_url: str, clock):
    lookout = build(Settings(LOOKOUT_DATABASE_URL=database_url), clock=clock)
    # Another process's scheduler: its own engine, as a separate `lookout scheduler` would have.
    other = build(Settings(LOOKOUT_DATABASE_URL=database_url), clock=clock)
    leader = other.lock(SCHEDULER_LOCK)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(lookout)), base_url="http://lookout.test"
        ) as http:
            before = samples((await http.get("/metrics")).text)
            assert before[("lookout_scheduler_leaders", ())] == 0
            assert before[("lookout_build_info", (("version", lookout_version()),))] == 1
            assert await leader.try_acquire()
            assert samples((await http.get("/metrics")).text)[("lookout_scheduler_leaders", ())] == 1
            await leader.release()
            assert samples((await http.get("/metrics")).text)[("lookout_scheduler_leaders", ())] == 0
    finally:
        await leader.release()
        await other.aclose()
        await lookout.aclose()
