"""Hostile input to ``POST /slack/events`` (correctly signed, so it reaches bolt) and to the parsers
officers and force administrators feed: never a 5xx, never an exception a person cannot read."""

from __future__ import annotations

import json
import tomllib
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import LookoutError
from core.force import ForceConfigError, load_force_config
from core.geo.coords import parse_distance, parse_lat_lon
from core.geocoding import normalise_uk_postcode
from runtime.examples import EXAMPLE_FORCE_CONFIG
from sandbox.slack_workspace import OFFICER_ID, STAFF_ID
from tests.fuzz.common import EXAMPLES, FUZZ, json_values
from tests.support.slack_officer import officer_app

EXAMPLE_FORCE = EXAMPLE_FORCE_CONFIG

# Huge strings come cheap (a repeated character): drawing 4,000 random characters would exhaust hypothesis's budget.
odd_text = st.one_of(
    st.text(max_size=60),
    st.integers(3000, 5000).map(lambda n: "ŵ<&" * n),
    st.sampled_from(
        [
            "/alert",
            "list",
            "update A-2026-000001",
            "cancel",
            "stats",
            "help",
            "<!channel>",
            "&amp;",
            "\x00",
            "A-9999-999999",
        ]
    ),
)
command = st.fixed_dictionaries(
    {
        "command": st.sampled_from(["/alert", "/other", ""]),
        "text": odd_text,
        "user_id": st.sampled_from([OFFICER_ID, STAFF_ID, "", "U0NOBODY"]),
    },
    optional={
        "trigger_id": st.text(max_size=20),
        "channel_id": st.text(max_size=12),
        "response_url": st.text(max_size=40),
    },
)
interaction = st.fixed_dictionaries(
    {"type": st.sampled_from(["block_actions", "view_submission", "view_closed", "shortcut", "nonsense"])},
    optional={
        "user": st.fixed_dictionaries({"id": st.sampled_from([OFFICER_ID, STAFF_ID, "U0NOBODY"])}),
        "actions": st.lists(
            st.fixed_dictionaries(
                {
                    "action_id": st.one_of(
                        st.text(max_size=20),
                        st.sampled_from(
                            ["card_send", "card_approve", "tipq:ack:T-2026-000001", "tipq:reply:x", "tipq:spam:"]
                        ),
                    ),
                    "value": odd_text,
                }
            ),
            max_size=2,
        ),
        "view": json_values,
        "trigger_id": st.text(max_size=10),
        "container": json_values,
    },
)


# An app per example costs half a second, so each example sends a batch of requests to one app.
PER_APP = 15


@settings(
    max_examples=max(1, EXAMPLES // PER_APP * 3),
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.large_base_example,
        HealthCheck.data_too_large,
    ],
)
@given(data=st.data())
async def test_signed_slack_requests_never_get_a_5xx(database_url: str, data: st.DataObject, clock) -> None:
    async with officer_app(database_url, errors_expected=True, clock=clock) as running:
        for _ in range(PER_APP):
            kind = data.draw(st.sampled_from(["command", "interaction", "raw"]))
            if kind == "command":
                body, content_type = urlencode(data.draw(command)), "application/x-www-form-urlencoded"
            elif kind == "interaction":
                payload: Any = data.draw(interaction)
                body, content_type = (
                    urlencode({"payload": json.dumps(payload, allow_nan=True)}),
                    "application/x-www-form-urlencoded",
                )
            else:
                body, content_type = (
                    json.dumps(data.draw(json_values), allow_nan=True),
                    data.draw(st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain"])),
                )
            answer = await running.simulated.post_signed(body, content_type)
            assert answer.status_code < 500, (answer.status_code, answer.text, body[:300])


@FUZZ
@given(text=st.text(max_size=80))
def test_officer_inputs_either_parse_or_say_what_is_wrong(text: str) -> None:
    for parse in (parse_lat_lon, parse_distance):
        try:
            parse(text)
        except LookoutError as exc:
            assert str(exc)
    assert normalise_uk_postcode(text) is None or isinstance(normalise_uk_postcode(text), str)


def _mutations() -> st.SearchStrategy[dict[str, Any]]:
    base = tomllib.loads(EXAMPLE_FORCE.read_text())
    keys = sorted(base)
    values = st.one_of(
        json_values,
        st.lists(
            st.dictionaries(st.sampled_from(["key", "label", "description"]), json_values, max_size=3), max_size=3
        ),
    )
    return st.builds(
        lambda drop, changes: {**{k: v for k, v in base.items() if k not in drop}, **changes},
        st.sets(st.sampled_from(keys), max_size=3),
        st.dictionaries(st.sampled_from([*keys, "surprise"]), values, max_size=3),
    )


@FUZZ
@given(config=_mutations())
def test_a_mangled_force_config_is_refused_with_file_field_and_problem(
    config: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("force")
    (folder / "areas.example.geojson").write_text((EXAMPLE_FORCE.parent / "areas.example.geojson").read_text())
    path = folder / "force.toml"
    path.write_text(_toml(config))
    try:
        load_force_config(path)
    except ForceConfigError as exc:
        assert str(exc).startswith(str(path)), exc


def _toml(value: dict[str, Any]) -> str:
    """Just enough TOML writing for the fuzzer (tomllib only reads): JSON values are valid inline TOML except nulls."""
    lines = []
    for key, item in value.items():
        if item is None:
            continue
        lines.append(f"{json.dumps(key)} = {_inline(item)}")
    return "\n".join(lines) + "\n"


def _inline(item: Any) -> str:
    if isinstance(item, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_inline(v)}" for k, v in item.items() if v is not None) + "}"
    if isinstance(item, list):
        return "[" + ", ".join(_inline(v) for v in item if v is not None) + "]"
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, float) and item != item:
        return "nan"
    if isinstance(item, float) and item in (float("inf"), float("-inf")):
        return "inf" if item > 0 else "-inf"
    return json.dumps(item)
