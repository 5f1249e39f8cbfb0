"""The "Useful / Not useful" buttons as data: what they carry, where they go, and what is not an answer."""

from __future__ import annotations

import pytest

from bots.whatsapp.messages import MAX_BUTTON_TITLE, MAX_BUTTONS
from core.channels import PUBLISHED_LIMITS
from core.model import AlertType, Channel
from core.rendering import alert_buttons, alert_template, render_alert
from core.services.feedback import feedback_data, parse_feedback
from tests.unit.test_whatsapp_window_and_replies import alert


def test_an_answer_round_trips_through_its_button_data_within_64_bytes() -> None:
    assert feedback_data(7, True) == "fb:7:u" and feedback_data(7, False) == "fb:7:n"
    assert parse_feedback("7:u") == (7, True) and parse_feedback("7:n") == (7, False)
    assert len(feedback_data(2**63, False).encode()) <= 64


@pytest.mark.parametrize("rest", ["", "7", "7:", "7:maybe", "x:u", "-7:u", "٧:u", "7:u:extra", "1" * 13 + ":u"])
def test_anything_else_is_not_an_answer(rest: str) -> None:
    assert parse_feedback(rest) is None


def test_alerts_and_updates_ask_and_a_cancellation_does_not() -> None:
    for kind in (AlertType.ALERT, AlertType.UPDATE):
        tip, useful, not_useful = alert_buttons(alert(type=kind, original_id=3 if kind is AlertType.UPDATE else None))
        assert (useful.data, not_useful.data) == ("fb:7:u", "fb:7:n")  # the message's own alert, update included
        assert not tip.beside and not useful.beside and not_useful.beside  # a pair, on a row of its own
    assert alert_buttons(alert(type=AlertType.CANCEL, original_id=3)) == ()
    marked = [b.label for b in alert_buttons(alert(), chosen=False)]
    assert marked == ["I have information", "👍 Useful", "✅ Not useful"]


def test_every_app_with_buttons_can_show_them() -> None:
    telegram = render_alert(alert(), "Mercia Vale Police", Channel.TELEGRAM)
    whatsapp = render_alert(alert(), "Mercia Vale Police", Channel.WHATSAPP)
    assert [b.data for b in telegram.buttons] == [b.data for b in whatsapp.buttons] == ["tip:7", "fb:7:u", "fb:7:n"]
    assert len(whatsapp.buttons) <= MAX_BUTTONS == PUBLISHED_LIMITS[Channel.WHATSAPP].max_buttons
    assert all(len(b.label) <= MAX_BUTTON_TITLE for b in whatsapp.buttons)
    # Email lays out two links instead; SMS asks nothing (docs/sms.md).
    email = render_alert(alert(), "Mercia Vale Police", Channel.EMAIL)
    assert email.buttons == () and email.parts is not None and email.parts.feedback_alert_id == 7
    sms = render_alert(alert(), "Mercia Vale Police", Channel.SMS)
    assert sms.buttons == () and "Useful" not in sms.text


def test_the_template_has_four_quick_replies_within_metas_limits() -> None:
    replies = alert_template(alert(), "police_alert").quick_replies
    assert len(replies) == 4 <= 10 and all(len(b.label) <= 25 for b in replies)
