"""The Slack app's pure parts: reading the compose modal, placing core's errors on its blocks, request identity,
and the picture of the area."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image

from bots.slack_officer.area_picture import (
    HEIGHT,
    WIDTH,
    Captions,
    centre_name,
    draw_area,
    frame_for,
    nice_scale_length,
)
from bots.slack_officer.blocks.cards import duration, parse_card_value, preview_card, progress_text
from bots.slack_officer.blocks.compose import (
    ComposeForm,
    block_errors,
    compose_modal,
    form_from_alert,
    read_form,
)
from bots.slack_officer.blocks.listing import LIST_LIMIT, alert_list
from bots.slack_officer.compose import where_of
from bots.slack_officer.dedupe import parse_body, request_key
from core.errors import InvalidInput
from core.geo.areas import CircleArea
from core.geo.cells import cover_area, snap
from core.model import AlertState, Channel, DeliveryState
from core.services.alerts import AlertRequest, AlertService, DailyLimitForecast, Preview
from core.services.inbound_once import stored_key
from core.services.progress import DeliveryReport
from core.services.roles import Roles
from tests.support.clock import FakeClock
from tests.support.residents import STAFFORD, offset

INPUTS = {
    "photo",
    "incident_number",
    "headline",
    "message",
    "where_kind",
    "where",
    "named_area",
    "radius",
    "reach",
    "topics",
    "sectors",
    "audience",
    "urgency",
    "status",
    "expires",
    "contact",
    "template",
}


def test_every_field_core_can_name_lands_on_a_block_of_the_modal(force):
    modal = compose_modal(force, metadata={"channel": "C1"})
    blocks = {b["block_id"] for b in modal["blocks"] if b["type"] == "input"}
    assert blocks == INPUTS
    core_fields = [
        "incident_number",
        "headline",
        "message",
        "contact",
        "reach",
        "topics",
        "sectors",
        "audience",
        "urgency",
        "severity",
        "certainty",
        "status",
        "expires",
        "radius",
        "buffer",
        "where",
        "at",
        "postcode",
        "address",
        "street",
        "area",
        "send_at",
        "address_line",
        "template",
        "photo",
    ]
    placed = block_errors({name: "is wrong" for name in core_fields}, force)
    assert set(placed) <= blocks
    assert "Send_at: is wrong." in placed["headline"]  # a field the modal does not have is named under the headline
    assert placed["radius"] == "Is wrong. Is wrong."  # radius and buffer share the block


def test_the_modal_reads_back_what_was_chosen(force):
    values = {
        "headline": {"value": {"type": "plain_text_input", "value": "Bogus callers"}},
        "where_kind": {"value": {"type": "static_select", "selected_option": {"value": "street"}}},
        "topics": {
            "value": {
                "type": "multi_static_select",
                "selected_options": [{"value": "bogus_callers"}, {"value": "fraud"}],
            }
        },
        "status": {"value": {"type": "static_select", "selected_option": None}},
    }
    form = read_form(values)
    assert (form.headline, form.where_kind, form.topics, form.status, form.audience) == (
        "Bogus callers",
        "street",
        ["bogus_callers", "fraud"],
        "Actual",
        "both",
    )


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        (
            ComposeForm(where_kind="postcode", where="ST16 2LZ", radius="1km"),
            {"postcode": "ST16 2LZ", "radius_m": 1000.0},
        ),
        (
            ComposeForm(where_kind="address", where="12 Eastgate Street"),
            {"address": "12 Eastgate Street", "radius_m": None},
        ),
        (
            ComposeForm(where_kind="street", where="Eastgate Street", radius="75 m"),
            {"street": "Eastgate Street", "buffer_m": 75.0},
        ),
        (ComposeForm(where_kind="location", where="52.8, -2.1"), {"at": "52.8, -2.1"}),
        (ComposeForm(where_kind="area", named_area="town_centre", where="ignored"), {"area": "town_centre"}),
    ],
)
def test_the_kind_of_area_decides_what_the_typed_text_means(form, expected):
    where = where_of(form)
    assert {k: getattr(where, k) for k in expected} == expected


@pytest.mark.parametrize(
    ("form", "field"),
    [
        (ComposeForm(where_kind="postcode", where=""), "where"),
        (ComposeForm(where_kind="area"), "area"),
        (ComposeForm(where_kind="postcode", where="ST16 2LZ", radius="far"), "radius"),
        (ComposeForm(where_kind="street", where="Eastgate Street", radius="wide"), "buffer"),
        (ComposeForm(where_kind="teleport", where="x"), "where_kind"),
    ],
)
def test_a_bad_where_names_its_field(form, field):
    with pytest.raises(InvalidInput) as raised:
        where_of(form)
    assert set(raised.value.errors) == {field}


def test_an_edited_draft_comes_back_as_it_was_typed(force):
    service = AlertService(lambda: None, force, roles=Roles(), clock=FakeClock())  # type: ignore[arg-type,return-value]
    request = AlertRequest(
        incident_number="MV-20261125-0456",
        headline="H",
        message="M",
        area=CircleArea(*STAFFORD, 750, label="ST16 2LZ"),
        topics=["burglary"],
        status="Test",
    )
    form = form_from_alert(service.compose(request, "U1"), force)
    assert (form.where_kind, form.where, form.radius, form.topics, form.status) == (
        "postcode",
        "ST16 2LZ",
        "750m",
        ["burglary"],
        "Test",
    )
    assert form.expires_hours == str(force.settings.default_alert_hours)


def test_requests_are_known_by_the_identity_slack_gives_them():
    command = parse_body(
        b"command=%2Falert&text=&trigger_id=123.456.abc&user_id=U1", "application/x-www-form-urlencoded"
    )
    assert request_key(command) == "command:123.456.abc"
    action = parse_body(
        b'payload={"type":"block_actions","trigger_id":"9.9.z","actions":[{"action_ts":"1.2"}]}',
        "application/x-www-form-urlencoded",
    )
    assert request_key(action) == "block_actions:9.9.z"
    event = parse_body(b'{"type":"event_callback","event_id":"Ev01"}', "application/json")
    assert request_key(event) == "event:Ev01"
    assert request_key(parse_body(b'{"type":"url_verification","challenge":"x"}', "application/json")) is None
    assert parse_body(b"payload=not-json", "application/x-www-form-urlencoded") == {}
    long = request_key({"type": "view_submission", "trigger_id": "t" * 500})
    assert long is not None and len(stored_key(long)) <= 128  # the inbound log keeps an over-long id by its hash


def test_card_buttons_carry_the_alert_and_nothing_else_is_accepted():
    assert parse_card_value('{"id": 7, "ref": "A-2026-000007"}') == (7, "A-2026-000007")
    for value in ("", "7", '{"id": "7", "ref": "A"}', "[1, 2]"):
        with pytest.raises(ValueError):
            parse_card_value(value)


def test_durations_read_as_an_officer_would_say_them():
    from datetime import timedelta

    assert [duration(timedelta(seconds=s)) for s in (0.42, 42, 125, 3725)] == [
        "0.4 s",
        "42 s",
        "2 min 5 s",
        "1 h 2 min",
    ]


def test_the_picture_is_a_png_with_the_recipients_cells_shaded_and_the_centre_named():
    area = CircleArea(*STAFFORD, 500, label="Eastgate Street, Stafford")
    cover = cover_area(area, 10)
    cells = {snap(*STAFFORD, 10): 30, snap(*offset(*STAFFORD, north_m=300), 10): 2}
    assert all(cover.contains(c) for c in cells)
    captions = Captions("A-2026-000001 · Missing boy, 9", "within 500 m of Eastgate Street, Stafford", "2 residents")

    def picture(counts: dict[str, int]) -> Image.Image:
        png = draw_area(area, counts, frame_for(area, counts, whole_zoom=False), captions, basemap=None)
        return Image.open(io.BytesIO(png))

    image, empty = picture(cells), picture({})
    assert image.format == "PNG" and image.size == (WIDTH, HEIGHT)
    assert centre_name(area) == "Eastgate Street, Stafford"

    def bluish(shot: Image.Image) -> int:  # the cells' bands, see-through over the ground
        return sum(1 for r, g, b in shot.convert("RGB").get_flattened_data() if b > r + 40)

    assert bluish(image) > bluish(empty) + 1000


def test_the_scale_bar_is_a_round_length_about_a_quarter_of_the_width():
    assert nice_scale_length(8000) == 2000 and nice_scale_length(900) == 200 and nice_scale_length(30) == 10


def test_the_preview_and_the_report_give_the_daily_limit_in_numbers(force):
    clock = FakeClock()
    service = AlertService(lambda **_: None, force, roles=Roles(), clock=clock)  # type: ignore[arg-type]
    alert = service.compose(
        AlertRequest(
            incident_number="MV-20261125-0456",
            headline="Missing boy, 9",
            message="Sam.",
            area=CircleArea(*STAFFORD, 500),
            everyone=True,
        ),
        "U0OFFICER",
    )
    alert.reference = "A-2026-000001"
    forecast = DailyLimitForecast(Channel.WHATSAPP, limit=2000, left=300, now=420, held=1_580)
    preview = Preview(alert, alert.area_description, {Channel.WHATSAPP: 2000}, False, None, daily_limit=forecast)
    text = str(preview_card(preview, force)[1])
    assert "Over the daily limit" in text and "300 of 2,000 people left" in text
    assert "420 of the 2,000 WhatsApp residents get it now" in text and "1,580 are held" in text

    alert.state, alert.sent_at = AlertState.SENDING, clock.now
    sending = DeliveryReport(
        alert,
        {Channel.WHATSAPP: {DeliveryState.SENT: 420, DeliveryState.PENDING: 1_580}},
        0,
        0,
        clock.now,
        limit_held=1_580,
    )
    assert "1,580 held by the WhatsApp daily limit" in progress_text(sending, clock.now + timedelta(minutes=1))
    ended = DeliveryReport(
        alert,
        {Channel.WHATSAPP: {DeliveryState.SENT: 1_000, DeliveryState.SKIPPED: 1_000}},
        0,
        0,
        clock.now,
        limit_skipped=1_000,
    )
    assert "1,000 never sent: WhatsApp daily limit" in progress_text(ended, clock.now + timedelta(hours=30))


def test_the_list_offers_a_sent_alerts_buttons_within_slacks_fifty_blocks(force):
    service = AlertService(lambda **_: None, force, roles=Roles(), clock=FakeClock())  # type: ignore[arg-type]
    listed = []
    for n, state in enumerate([AlertState.SENT] * 14 + [AlertState.DRAFT], start=1):
        alert = service.compose(
            AlertRequest(
                incident_number="MV-20261125-0456",
                headline=f"Alert {n}",
                message="Sam.",
                area=CircleArea(*STAFFORD, 500),
                everyone=True,
            ),
            "U0OFFICER",
        )
        alert.id, alert.reference, alert.state, alert.message_id = (
            n,
            f"A-2026-{n:06d}",
            state,
            n if state is AlertState.SENT else None,
        )
        listed.append(alert)
    assert len(listed) == LIST_LIMIT
    _, blocks = alert_list(listed, force)
    assert len(blocks) <= 50
    rows = [b for b in blocks if b["type"] == "actions"]
    assert len(rows) == 14 and len({b["block_id"] for b in rows}) == 14  # the draft has none; block ids are unique
    assert [e["text"]["text"] for e in rows[0]["elements"]] == ["Update", "Resolved", "Cancel", "Report"]
    assert parse_card_value(rows[0]["elements"][0]["value"]) == (1, "A-2026-000001")
