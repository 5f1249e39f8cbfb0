"""deploy/monitoring: the Prometheus alert rules and the Grafana dashboard use only metrics the app exports
(read from a real ``/metrics`` scrape), and the rules file has the shape Prometheus loads."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import yaml
from prometheus_client.parser import text_string_to_metric_families

from core.settings import Settings
from runtime.app import build, create_app
from runtime.examples import EXAMPLE_FORCE_CONFIG
from storage.migrate import upgrade

MONITORING = Path(__file__).resolve().parents[2] / "deploy" / "monitoring"
_METRIC = re.compile(r"\blookout_[a-z0-9_]+")
_HISTOGRAM_PARTS = re.compile(r"_(bucket|count|sum)$")
REQUIRED_ALERTS = {
    "LookoutDeliveriesWaiting",
    "LookoutDeliveriesDying",
    "LookoutWebhookSlow",
    "LookoutNoSchedulerLeader",
}


async def exported_metrics(database_url: str) -> set[str]:
    lookout = build(Settings(LOOKOUT_DATABASE_URL=database_url, LOOKOUT_FORCE_CONFIG=str(EXAMPLE_FORCE_CONFIG)))
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(lookout)), base_url="http://lookout.test"
        ) as http:
            await http.post("/telegram/webhook", json={"update_id": 1})  # so the latency histogram has a series
            text = (await http.get("/metrics")).text
    finally:
        await lookout.aclose()
    # prometheus_client's text parser reads a histogram's ``_created`` line as a family of its own.
    return {family.name for family in text_string_to_metric_families(text) if not family.name.endswith("_created")}


def metrics_in(expression: str) -> set[str]:
    return {_HISTOGRAM_PARTS.sub("", name) for name in _METRIC.findall(expression)}


async def test_alert_rules_cover_the_four_cases_with_exported_metrics_only(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/lookout.db"
    upgrade(url)
    exported = await exported_metrics(url)
    rules = yaml.safe_load((MONITORING / "lookout-alerts.yml").read_text())
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    assert REQUIRED_ALERTS <= {rule["alert"] for rule in alerts}
    for rule in alerts:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule["alert"]
        used = metrics_in(rule["expr"])
        assert used and used <= exported, (rule["alert"], used - exported)

    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    used = set().union(*(metrics_in(e) for e in expressions))
    assert used <= exported, used - exported
    assert used == exported  # every exported metric has a panel
