"""'Start from a template' in the officers' Slack form, through signed requests to the real app and the sandbox's
Slack (which checks every view against Slack's Block Kit limits), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa

from sandbox.slack_blocks import view_problems
from sandbox.slack_workspace import OFFICER_ID, STAFF_ID
from storage.tables import alerts as alerts_table
from storage.tables import audit_log
from tests.support.residents import STAFFORD, add_residents, offset, resident_at
from tests.support.slack_officer import card_text, eventually, officer_app


def values_of(view: dict[str, Any], **typed: Any) -> dict[str, dict[str, Any]]:
    """What Slack sends back for the modal as drawn (each input's initial value, under its own action_id), with
    ``typed`` fields changed as the officer typed them."""
    values: dict[str, dict[str, Any]] = {}
    for block in view["blocks"]:
        element = block.get("element") or {}
        if block.get("type") != "input":
            continue
        if "initial_value" in element:
            value: Any = element["initial_value"]
        elif "initial_option" in element:
            value = element["initial_option"]["value"]
        elif "initial_options" in element:
            value = [o["value"] for o in element["initial_options"]]
        else:
            continue
        values[block["block_id"]] = {element["action_id"]: value}
    for block_id, value in typed.items():
        element = next(b["element"] for b in view["blocks"] if b.get("block_id") == block_id)
        values[block_id] = {element["action_id"]: value}
    return values


def block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


async def choose_template(app, view_id: str, key: str, typed: dict[str, Any]) -> dict[str, Any]:
    seen = len(app.slack.views)
    answer = await app.simulated.block_action(
        OFFICER_ID,
        "value",
        key,
        view_id=view_id,
        block_id="template",
        values={k: {"value": v} for k, v in typed.items()},
    )
    assert answer.status_code == 200 and not answer.content, answer.text
    await eventually(lambda: [r for r in app.slack.views[seen:] if r.method == "views.update"], what="the redrawn form")
    view = app.slack.view(view_id)
    assert view is not None
    return view


async def test_a_template_fills_the_form_and_its_placeholders_must_be_filled_in(database_url, clock):
    async with officer_app(database_url, clock=clock) as app:
        await add_residents(app.lookout.uow, resident_at(*STAFFORD), resident_at(*offset(*STAFFORD, north_m=1500)))
        modal = await app.open_compose()
        first = modal["blocks"][0]
        assert first["block_id"] == "template" and first["dispatch_action"] is True and first["optional"] is True
        assert [o["text"]["text"] for o in first["element"]["options"]][:2] == ["Missing person", "Bogus callers"]

        typed = {"incident_number": "MV-20261125-0456", "where": "ST16 2LZ", "headline": "Typed before choosing"}
        view = await choose_template(app, modal["id"], "missing_person", typed)
        assert view_problems(view) == []
        headline, message = block(view, "headline")["element"], block(view, "message")["element"]
        assert headline["initial_value"] == "Missing: {name}, aged {age}"
        assert message["initial_value"].startswith("We are concerned for {name}, aged {age}")
        # Slack keeps what was typed in an input whose block_id and action_id stay the same: the filled ones are new.
        assert headline["action_id"] != "value" and message["action_id"] == headline["action_id"]
        assert block(view, "incident_number")["element"]["initial_value"] == "MV-20261125-0456"  # the officer's, kept
        assert block(view, "incident_number")["element"]["action_id"] == "value"
        assert block(view, "where")["element"]["initial_value"] == "ST16 2LZ"
        assert block(view, "reach")["element"]["initial_option"]["value"] == "everyone"
        assert block(view, "radius")["element"]["initial_value"] == "2km"
        assert block(view, "urgency")["element"]["initial_option"]["value"] == "Immediate"
        assert block(view, "template")["element"]["initial_option"]["value"] == "missing_person"

        left = await app.simulated.view_submission(OFFICER_ID, modal["id"], values_of(view))
        assert left.json()["response_action"] == "errors"
        errors = left.json()["errors"]
        assert set(errors) == {"headline", "message"}
        assert errors["headline"] == "Fill in {name} and {age}: replace each with the details."
        assert errors["message"].startswith("Fill in {name}, {age}, {last_seen} and {clothing}")
        async with app.lookout.engine.connect() as conn:
            assert (await conn.execute(sa.select(sa.func.count()).select_from(alerts_table))).scalar_one() == 0

        filled = (
            message["initial_value"]
            .replace("{name}", "Amy")
            .replace("{age}", "9")
            .replace("{last_seen}", "at 3pm on Eastgate Street")
            .replace("{clothing}", "a red coat")
        )
        done = await app.simulated.view_submission(
            OFFICER_ID, modal["id"], values_of(view, headline="Missing: Amy, aged 9", message=filled)
        )
        assert done.status_code == 200 and not done.content, done.text
        (card,) = await eventually(lambda: app.cards(), what="the preview card")
        assert "Missing: Amy, aged 9" in card_text(card) and "Would reach 2 residents" in card_text(
            card
        )  # 2 km, everyone
        async with app.lookout.engine.connect() as conn:
            (alert,) = (await conn.execute(sa.select(alerts_table))).all()
            (drafted,) = (await conn.execute(sa.select(audit_log).where(audit_log.c.action == "draft"))).all()
        assert alert.severity == "Severe" and alert.urgency == "Immediate" and alert.everyone  # the template's
        assert drafted.detail["template"] == "missing_person"

        seen = len(app.slack.views)
        await app.press(OFFICER_ID, card, "alert_edit")  # the form has no severity field: an edit keeps the draft's
        editing = await app.next_modal(OFFICER_ID, seen)
        assert view_problems(editing) == []
        await app.simulated.view_submission(
            OFFICER_ID, editing["id"], values_of(editing, headline="Missing: Amy Smith, aged 9")
        )
        await eventually(lambda: len(app.cards()) == 2, what="the edited preview")
        async with app.lookout.engine.connect() as conn:
            edited = (
                await conn.execute(
                    sa.select(alerts_table).where(alerts_table.c.headline == "Missing: Amy Smith, aged 9")
                )
            ).one()
        assert edited.severity == "Severe"


async def test_choosing_another_template_refills_only_what_it_says_and_a_non_officer_changes_nothing(
    database_url, clock
):
    async with officer_app(database_url, clock=clock) as app:
        modal = await app.open_compose()
        view = await choose_template(app, modal["id"], "road_closure", {"incident_number": "MV-20261125-0456"})
        assert block(view, "reach")["element"]["initial_option"]["value"] == "everyone"
        again = await choose_template(
            app,
            modal["id"],
            "bogus_callers",
            {"incident_number": "MV-20261125-0456", "headline": "Road closed: Eastgate Street"},
        )
        assert block(again, "headline")["element"]["initial_value"] == "Bogus callers in {street}"
        assert block(again, "headline")["element"]["action_id"] != block(view, "headline")["element"]["action_id"]
        assert block(again, "reach")["element"]["initial_option"]["value"] == "topics"
        assert [o["value"] for o in block(again, "topics")["element"]["initial_options"]] == ["bogus_callers"]
        assert view_problems(again) == []

        views_before = len(app.slack.views)
        for number, hostile in enumerate(
            ({"selected_option": "found_safe"}, {}, {"selected_option": {"value": "no_such_template"}})
        ):
            payload = {
                "type": "block_actions",
                "user": {"id": OFFICER_ID},
                "trigger_id": f"9.9.{number}",
                "view": {"id": modal["id"], "state": []},
                "actions": [{"type": "static_select", "action_id": "value", "block_id": "template", **hostile}],
            }
            answer = await app.simulated.post_signed(
                urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
            )
            assert answer.status_code == 200, answer.text
        assert len(app.slack.views) == views_before  # a choice that names no template changes nothing
        answer = await app.simulated.block_action(
            STAFF_ID, "value", "found_safe", view_id=modal["id"], block_id="template"
        )
        assert answer.status_code == 200
        refused = await eventually(lambda: app.ephemeral_texts(STAFF_ID), what="the refusal")
        assert refused and len(app.slack.views) == views_before
