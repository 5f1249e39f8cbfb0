"""Signed (or secret-bearing) requests shaped in ways the platforms never send still get a 2xx or a 4xx, never a 5xx.

The red team's two: a lone surrogate (``\\ud800``, legal in JSON, not encodable as UTF-8) in a signed tip, which
once failed on every redelivery; and a Slack ``view_submission`` without ``view.type``, which raised inside bolt.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from sandbox.slack_workspace import OFFICER_ID
from storage.tables import tips
from tests.integration.test_whatsapp_conversation import Running, app, subscribe  # noqa: F401 - app is a fixture
from tests.support.slack_officer import officer_app
from tests.support.whatsapp_phone import WhatsAppPhone

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)

LONE_SURROGATE = "\ud800"


async def test_a_lone_surrogate_in_a_signed_whatsapp_tip_is_kept_as_a_replacement_character(app: Running) -> None:
    phone = WhatsAppPhone(app.wa, "447700900404")
    await subscribe(phone)
    delivery = await phone.send(f"A van outside number 4 {LONE_SURROGATE} and a dog")
    assert delivery.status_code == 200
    await phone.tap("Yes, send it")
    answer = await phone.tap("Stay anonymous")
    assert answer.status_code == 200
    (tip,) = app.rows(sa.select(tips.c.text))
    assert tip.text == "A van outside number 4 \ufffd and a dog"


async def test_a_view_submission_without_a_view_type_is_refused_not_a_500(database_url: str, clock) -> None:
    async with officer_app(database_url, clock=clock) as running:
        for view in ({"id": "V1", "callback_id": "compose"}, {}, {"type": None, "callback_id": "compose"}):
            payload = {"type": "view_submission", "user": {"id": OFFICER_ID}, "view": view, "trigger_id": "1.2.3"}
            answer = await running.simulated.post_signed(
                urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
            )
            assert 400 <= answer.status_code < 500, (view, answer.status_code, answer.text)


async def test_a_lone_surrogate_in_a_signed_slack_request_is_refused_not_a_500(database_url: str, clock) -> None:
    async with officer_app(database_url, clock=clock) as running:
        payload = {
            "type": "block_actions",
            "user": {"id": OFFICER_ID},
            "actions": [{"action_id": "x", "value": LONE_SURROGATE}],
            "trigger_id": "4.5.6",
        }
        answer = await running.simulated.post_signed(
            urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
        )
        assert answer.status_code == 400 and "surrogate" in answer.text


async def test_a_shortcut_with_a_null_view_or_a_nul_in_its_trigger_is_answered_not_a_500(
    database_url: str, clock
) -> None:
    """Found by the fuzz suite: bolt reads any ``view`` it is given (a null one raised inside it), and PostgreSQL
    refused a trigger_id holding a NUL byte as the key of the inbound log."""
    async with officer_app(database_url, errors_expected=True, clock=clock) as running:
        for payload in (
            {"type": "shortcut", "user": {"id": OFFICER_ID}, "view": None, "trigger_id": "7.8.9"},
            {"type": "shortcut", "user": {"id": OFFICER_ID}, "callback_id": "nothing", "trigger_id": "7.8.\x00"},
        ):
            answer = await running.simulated.post_signed(
                urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
            )
            assert answer.status_code < 500, (payload, answer.status_code, answer.text)
