"""WhatsApp's rules as Lookout applies them: the 24-hour window, the alert template, and the pair rate on replies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bots.whatsapp.graph import PAIR_RATE, THROUGHPUT, GraphError
from bots.whatsapp.replies import ReplySender
from core.channels import in_service_window
from core.geo.areas import CircleArea
from core.model import Alert, AlertStatus, AlertType, Audience
from core.outbound import OutboundMessage
from core.rendering import alert_template, with_whatsapp_window

pytestmark = pytest.mark.calendar  # make test runs it again with the clock moved

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_the_window_is_24_hours_from_the_last_message_less_a_safety_margin() -> None:
    assert in_service_window(NOW - timedelta(hours=23), NOW)
    assert not in_service_window(NOW - timedelta(hours=23, minutes=58), NOW)
    assert not in_service_window(NOW - timedelta(days=3), NOW)
    assert not in_service_window(None, NOW)


def alert(**changes: Any) -> Alert:
    fields: dict[str, Any] = dict(
        incident_number="MV-20261125-0456",
        headline="Bogus callers",
        message="Two men\nclaiming to be\tfrom the water board.",
        contact="Call 101.",
        area=CircleArea(52.8, -2.1, 500),
        area_description="500 m around ST16 2LZ",
        topics=(),
        sectors=(),
        audience=Audience.RESIDENTS,
        author="U1",
        id=7,
    )
    fields.update(changes)
    return Alert(**fields)


def test_the_alert_template_carries_one_line_parameters_and_its_quick_replies() -> None:
    template = alert_template(alert(), "police_alert")

    assert template.name == "police_alert" and template.language == "en_GB"
    assert template.parameters == (
        "Bogus callers",
        "500 m around ST16 2LZ",
        "MV-20261125-0456",
        "Two men claiming to be from the water board. Call 101.",
    )
    assert [(b.label, b.data) for b in template.quick_replies] == [
        ("Send information", "tip:7"),
        ("Stop alerts", "stop"),
        ("👍 Useful", "fb:7:u"),  # the template's quick replies for "was this useful?" (docs/whatsapp.md)
        ("👎 Not useful", "fb:7:n"),
    ]


def test_follow_ups_and_practice_alerts_say_what_they_are_and_nothing_is_too_long() -> None:
    update = alert_template(
        alert(type=AlertType.UPDATE, original_id=3, id=9, status=AlertStatus.EXERCISE), "police_alert"
    )
    cancel = alert_template(
        alert(type=AlertType.CANCEL, original_id=3, id=10, message="Both men arrested."), "police_alert"
    )
    huge = alert_template(alert(message="word " * 500, area_description="area " * 100), "police_alert")

    assert update.parameters[0] == "EXERCISE — Update: Bogus callers" and update.quick_replies[0].data == "tip:3"
    assert cancel.parameters[0] == "Cancelled: Bogus callers" and cancel.parameters[3] == "Both men arrested."
    assert sum(len(p) for p in huge.parameters) < 1024 - 200  # room for the template's own words
    assert all("\n" not in p and "     " not in p for p in huge.parameters)


def test_the_window_decides_whether_only_the_template_may_go() -> None:
    text = OutboundMessage("Police alert …")
    assert with_whatsapp_window(text, alert(), "police_alert", window_open=True).template_only is False
    closed = with_whatsapp_window(text, alert(), "police_alert", window_open=False)
    assert closed.template_only is True and closed.template is not None and closed.text == text.text


class FakeApi:
    def __init__(self, *failures: GraphError) -> None:
        self.failures = list(failures)
        self.sent: list[dict[str, Any]] = []

    async def send(self, to: str, message: dict[str, Any]) -> str:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)
        return f"wamid.{len(self.sent)}"


class Time:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_a_reply_meeting_the_pair_rate_waits_out_the_rest_of_the_interval_once() -> None:
    pair = GraphError(400, PAIR_RATE, "(#131056) pair rate limit hit")
    api, clock = FakeApi(), Time()
    sender = ReplySender(api, pair_interval=6.0, sleep=clock.sleep, monotonic=clock.monotonic)  # type: ignore[arg-type]

    await sender.send("447700900123", [{"type": "text", "text": {"body": "one"}}])
    clock.now += 2.0
    api.failures.append(pair)
    assert await sender.send("447700900123", [{"type": "text", "text": {"body": "two"}}]) == ["wamid.2"]

    assert clock.slept == [4.0]  # six seconds after the last answer, not six more


async def test_a_reply_refused_for_another_reason_fails_the_webhook() -> None:
    api, clock = FakeApi(GraphError(400, THROUGHPUT, "(#130429) Rate limit hit")), Time()
    sender = ReplySender(api, pair_interval=6.0, sleep=clock.sleep, monotonic=clock.monotonic)  # type: ignore[arg-type]

    with pytest.raises(GraphError):
        await sender.send("447700900123", [{"type": "text", "text": {"body": "one"}}])
    assert clock.slept == []
