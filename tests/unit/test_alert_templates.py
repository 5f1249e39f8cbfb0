"""Alert templates: filling placeholders, the one check every alert goes through, and the Slack form drawn from them."""

from __future__ import annotations

import pytest

from bots.slack_officer.blocks.compose import (
    ACTION,
    ComposeForm,
    apply_template,
    compose_modal,
    read_form,
    template_action,
)
from core.errors import InvalidInput
from core.geo.areas import CircleArea
from core.services.alerts import AlertRequest, AlertService
from core.services.roles import Roles
from core.templates import fill, malformed_braces, parse_fills, placeholders, require_filled
from sandbox.slack_blocks import view_problems
from tests.support.clock import FakeClock
from tests.support.residents import STAFFORD


def test_placeholders_are_named_once_in_order_and_filled_where_given():
    text = "Missing: {name}, aged {age}. Have you seen {name}?"
    assert placeholders(text) == ("name", "age")
    assert fill(text, {"name": " Amy "}) == "Missing: Amy, aged {age}. Have you seen Amy?"
    assert placeholders("Costs {£5} or {Name}") == ()  # only lower-case names in braces are placeholders
    assert malformed_braces("near {street") and malformed_braces("{Name}") and not malformed_braces("near {street}")


def test_require_filled_names_every_placeholder_left_on_its_field():
    assert require_filled("Missing: Amy", "headline") == "Missing: Amy"
    with pytest.raises(InvalidInput) as left:
        require_filled("{name}, {age} and {clothing}", "message")
    assert left.value.errors == {"message": "Fill in {name}, {age} and {clothing}: replace each with the details"}


@pytest.mark.parametrize(
    ("pairs", "problem"),
    [(["name"], "should be NAME=VALUE"), (["=Amy"], "should be NAME=VALUE"), (["name=  "], "given no value")],
)
def test_parse_fills_refuses_what_it_cannot_read(pairs, problem):
    with pytest.raises(InvalidInput) as bad:
        parse_fills(pairs, "--fill")
    assert problem in bad.value.errors["--fill"]


def test_parse_fills_keeps_equals_signs_in_values_and_braces_off_names():
    assert parse_fills(["name=Amy", "{age}=9", "clothing=a top with 1=1 on it"]) == {
        "name": "Amy",
        "age": "9",
        "clothing": "a top with 1=1 on it",
    }


def test_compose_reports_unfilled_placeholders_with_every_other_mistake(force):
    service = AlertService(lambda: None, force, roles=Roles(), clock=FakeClock())  # type: ignore[arg-type,return-value]
    template = force.templates["missing_person"]
    request = AlertRequest(
        incident_number="nope",
        headline=template.headline,
        message=template.message,
        area=CircleArea(*STAFFORD, 1000),
        everyone=True,
        template="missing_person",
    )
    with pytest.raises(InvalidInput) as wrong:
        service.compose(request, "U01OFFICER1")
    assert set(wrong.value.errors) == {"incident_number", "headline", "message"}
    assert wrong.value.errors["headline"].startswith("Fill in {name} and {age}")
    request.template = "no_such_template"
    with pytest.raises(InvalidInput) as unknown:
        service.compose(request, "U01OFFICER1")
    assert "no template 'no_such_template'" in unknown.value.errors["template"]


def test_the_compose_modal_with_templates_is_within_slacks_limits(force):
    modal = compose_modal(force, metadata={"channel": "C1"})
    assert view_problems(modal) == []
    assert modal["blocks"][0]["block_id"] == "template" and modal["blocks"][0]["dispatch_action"] is True


def test_a_template_fills_its_fields_with_a_new_action_id_and_leaves_the_rest(force):
    form = ComposeForm(
        incident_number="MV-20261125-0456",
        where_kind="street",
        where="Eastgate Street, Stafford",
        radius="75m",
        headline="typed",
        contact="Call Stafford station",
    )
    filled = apply_template(form, "burglary_in_progress", force.templates["burglary_in_progress"])
    assert filled == {"headline", "message", "reach", "topics", "urgency"}  # a street keeps its width: no radius
    assert (form.reach, form.topics, form.radius, form.incident_number) == (
        "topics",
        ["burglary"],
        "75m",
        "MV-20261125-0456",
    )
    modal = compose_modal(force, metadata={}, form=form, filled=filled)
    assert view_problems(modal) == []
    actions = {b["block_id"]: b["element"]["action_id"] for b in modal["blocks"] if b.get("type") == "input"}
    assert {k for k, v in actions.items() if v == template_action("burglary_in_progress")} == filled
    assert actions["incident_number"] == actions["contact"] == ACTION
    state = {
        block_id: {action: {"type": "plain_text_input", "value": f"{block_id} typed"}}
        for block_id, action in actions.items()
    }
    state["template"] = {ACTION: {"type": "static_select", "selected_option": {"value": "burglary_in_progress"}}}
    back = read_form(state)  # read whatever the action_id
    assert back.headline == "headline typed" and back.incident_number == "incident_number typed"
    assert back.template == "burglary_in_progress"


def test_no_template_select_for_a_force_without_templates(force):
    bare = force.__class__(
        settings=force.settings.model_copy(update={"templates": {}}), areas=force.areas, source=force.source
    )
    assert "template" not in {b.get("block_id") for b in compose_modal(bare, metadata={})["blocks"]}
