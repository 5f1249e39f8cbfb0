"""The compose modal (new alert, or Edit of a draft): its blocks, reading it back, and placing errors on its fields.

Every input's ``block_id`` is named for the field it holds, and core's
``InvalidInput`` names fields the same way (``incident_number``, ``radius``…),
so ``block_errors`` puts each problem under its own field as Slack's
``response_action: errors`` wants it.

"Start from a template" (when the force has templates) sits at the top; choosing
one redraws the modal with the template's text and defaults (``apply_template``).
Slack keeps what was typed in an input across ``views.update`` while its block_id
and action_id stay the same, so the fields a template fills get an action_id of
their own (``template_action``); the form is read back whatever the action_id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bots.slack_officer.blocks.common import (
    Block,
    clip,
    context,
    option,
    plain,
    section,
)
from core.force import AlertTemplate, ForceConfig
from core.geo.areas import CircleArea, PolygonArea, StreetArea
from core.geo.coords import format_distance
from core.geocoding import normalise_uk_postcode
from core.model import Alert, AlertStatus, Audience, Urgency

CALLBACK_ID = "alert_compose"
ACTION = "value"  # every input's action_id: the block_id already says which field it is

HEADLINE = "headline"
MESSAGE = "message"
INCIDENT = "incident_number"
WHERE_KIND = "where_kind"
WHERE = "where"
NAMED_AREA = "named_area"
RADIUS = "radius"
REACH = "reach"
TOPICS = "topics"
SECTORS = "sectors"
AUDIENCE = "audience"
URGENCY = "urgency"
STATUS = "status"
EXPIRES = "expires"
CONTACT = "contact"
TEMPLATE = "template"
PHOTO = "photo"
# What the file input offers (Slack filters the picker by these); bots/photo_files.py checks the bytes themselves.
PHOTO_FILETYPES = ["jpg", "jpeg", "png", "webp", "gif"]

WHERE_KINDS: dict[str, str] = {
    "postcode": "Postcode (a circle around it)",
    "address": "Address (a circle around it)",
    "street": "Street (a band either side of it)",
    "location": "Location: LAT, LON (a circle)",
    "area": "Named area",
}
# No default: the officer says whether everyone in the area hears, or only those who chose a topic.
REACH_CHOICES: dict[str, str] = {
    "everyone": "Everyone in the area",
    "topics": "Only residents who chose the topics below",
}
EXPIRY_HOURS = (1, 3, 6, 12, 24, 48, 72, 168, 336)
MAX_SELECT_OPTIONS = 100
HEADLINE_MAX = 120
MESSAGE_MAX = 3000
CONTACT_MAX = 300

# Core's field names → the block that shows the problem.
_FIELD_BLOCKS = {
    "incident_number": INCIDENT,
    "headline": HEADLINE,
    "message": MESSAGE,
    "contact": CONTACT,
    "reach": REACH,
    "topics": TOPICS,
    "sectors": SECTORS,
    "audience": AUDIENCE,
    "urgency": URGENCY,
    "severity": URGENCY,
    "certainty": URGENCY,
    "status": STATUS,
    "expires": EXPIRES,
    "radius": RADIUS,
    "buffer": RADIUS,
    "where": WHERE,
    "where_kind": WHERE_KIND,
    "at": WHERE,
    "location": WHERE,
    "postcode": WHERE,
    "address": WHERE,
    "street": WHERE,
    "area": NAMED_AREA,
    "template": TEMPLATE,
    "photo": PHOTO,
}


@dataclass
class ComposeForm:
    """The modal's values as typed (strings, keys); ``bots.slack_officer.compose`` turns them into a request."""

    headline: str = ""
    message: str = ""
    incident_number: str = ""
    where_kind: str = ""
    where: str = ""
    named_area: str = ""
    radius: str = ""
    reach: str = ""  # "everyone" or "topics": required, so nobody is left out by a default
    topics: list[str] = field(default_factory=list)
    sectors: list[str] = field(default_factory=list)
    audience: str = Audience.BOTH.value
    urgency: str = Urgency.IMMEDIATE.value
    status: str = AlertStatus.ACTUAL.value
    expires_hours: str = ""
    contact: str = ""
    template: str = ""  # the force template it was started from, if any
    severity: str = ""  # no field of its own: a draft's, carried through Edit in the modal's private_metadata
    photo_files: list[dict[str, Any]] = field(default_factory=list)  # Slack's file objects from the file input


def template_action(key: str) -> str:
    """The action_id of the fields a template filled: new to Slack, so it shows the template's text, not what was typed."""
    return f"{ACTION}_{key}"[:255]


def apply_template(form: ComposeForm, key: str, template: AlertTemplate) -> set[str]:
    """Fill ``form`` from the template (its text, who it is for, urgency, audience, radius); the blocks it changed.

    What the template does not say (the incident number, where, expiry, contact) stays as the officer left it.
    """
    form.template = key
    form.headline, form.message = template.headline, template.message
    filled = {HEADLINE, MESSAGE}
    if template.everyone or template.topics:
        form.reach = "everyone" if template.everyone else "topics"
        form.topics = list(template.topics)
        filled |= {REACH, TOPICS}
    if template.urgency:
        form.urgency = template.urgency
        filled.add(URGENCY)
    if template.audience:
        form.audience = template.audience
        filled.add(AUDIENCE)
    if template.radius and form.where_kind not in ("street", "area"):
        form.radius = template.radius
        filled.add(RADIUS)
    return filled


def hours_label(hours: int) -> str:
    if hours % 24 == 0 and hours >= 48:
        days = hours // 24
        return "1 week" if days == 7 else "2 weeks" if days == 14 else f"{days} days"
    return "1 hour" if hours == 1 else f"{hours} hours"


def expiry_choices(force: ForceConfig) -> list[int]:
    default = force.settings.default_alert_hours
    return sorted({*EXPIRY_HOURS, default})


def compose_modal(
    force: ForceConfig,
    *,
    metadata: dict[str, Any],
    form: ComposeForm | None = None,
    title: str = "New alert",
    problems: dict[str, str] | None = None,
    filled: set[str] | None = None,
) -> dict[str, Any]:
    """The modal; ``problems`` (block id → text) are shown under their fields when Slack's own errors
    cannot be used any more (an address lookup that finished after the submission was answered).
    ``filled``: the blocks a template has just filled, drawn with the template's action_id."""
    form = form or ComposeForm(contact=force.contact, expires_hours=str(force.settings.default_alert_hours))
    problems = problems or {}
    fresh = template_action(form.template) if filled and form.template else None
    blocks: list[Block] = []
    if problems:
        blocks.append(section(":warning: *Please correct the fields marked below; nothing has been saved.*"))

    def add(block: Block) -> None:
        if fresh and block["block_id"] in (filled or ()):
            block["element"]["action_id"] = fresh
        blocks.append(block)
        if block["block_id"] in problems:
            blocks.append(context(f":warning: {problems[block['block_id']]}"))

    if force.templates:
        add(_template_input(force, form.template))
    example = force.settings.incident_example
    add(_text_input(INCIDENT, "Incident number", form.incident_number, placeholder=example or None, max_length=64))
    add(
        _text_input(
            HEADLINE, "Headline", form.headline, placeholder="What is happening, in one line", max_length=HEADLINE_MAX
        )
    )
    add(
        _text_input(
            MESSAGE,
            "Message",
            form.message,
            multiline=True,
            max_length=MESSAGE_MAX,
            placeholder="What residents should know and do",
        )
    )
    add(
        _select(
            WHERE_KIND, "Where: kind of area", [(v, k) for k, v in WHERE_KINDS.items()], form.where_kind or "postcode"
        )
    )
    add(
        _text_input(
            WHERE,
            "Where: postcode, address, street or LAT, LON",
            form.where,
            optional=True,
            max_length=200,
            hint="For a named area, choose it below instead.",
        )
    )
    if force.areas:
        add(_named_area_input(force, form.named_area))
    add(
        _text_input(
            RADIUS,
            "Radius, or width either side of a street",
            form.radius,
            optional=True,
            max_length=20,
            placeholder="500m",
            hint="Circles 50 m to 3 km (default 500 m); streets 25 m to 100 m either side (default 50 m).",
        )
    )
    topics = [(t.label, t.key) for t in force.settings.topics]
    add(_select(REACH, "Who is this for?", [(v, k) for k, v in REACH_CHOICES.items()], form.reach))
    add(
        _multi_select(
            TOPICS,
            "Topics",
            topics,
            form.topics,
            hint="Only when the alert is for residents who chose topics: those who chose any of these.",
        )
    )
    if force.sectors:
        add(
            _multi_select(
                SECTORS,
                "Business sectors",
                [(s.label, s.key) for s in force.settings.sectors],
                form.sectors,
                hint="Businesses in these sectors; none chosen: businesses by topic, like residents.",
            )
        )
    add(
        _select(
            AUDIENCE,
            "Audience",
            [("Residents and businesses", "both"), ("Residents only", "residents"), ("Businesses only", "businesses")],
            form.audience,
        )
    )
    add(_select(URGENCY, "Urgency", [(u.value, u.value) for u in Urgency if u is not Urgency.UNKNOWN], form.urgency))
    add(
        _select(
            STATUS,
            "Status",
            [
                ("Actual: a real alert", "Actual"),
                ("Exercise: testers only", "Exercise"),
                ("Test: testers only", "Test"),
            ],
            form.status,
        )
    )
    add(
        _select(
            EXPIRES,
            "Expires after",
            [(hours_label(h), str(h)) for h in expiry_choices(force)],
            form.expires_hours or str(force.settings.default_alert_hours),
        )
    )
    add(_text_input(CONTACT, "Contact", form.contact or force.contact, multiline=True, max_length=CONTACT_MAX))
    add(_photo_input(edit=bool(metadata.get("replaces"))))
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "private_metadata": json.dumps(metadata),
        "title": plain(clip(title, 24), 24),
        "submit": plain("Preview", 24),
        "close": plain("Cancel", 24),
        "blocks": blocks,
    }


def _text_input(
    block_id: str,
    label: str,
    value: str,
    *,
    multiline: bool = False,
    optional: bool = False,
    max_length: int | None = None,
    placeholder: str | None = None,
    hint: str | None = None,
) -> Block:
    element: Block = {"type": "plain_text_input", "action_id": ACTION, "multiline": multiline}
    if value:
        element["initial_value"] = value
    if max_length:
        element["max_length"] = max_length
    if placeholder:
        element["placeholder"] = plain(placeholder, 150)
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, 2000),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint, 2000)
    return block


def _photo_input(*, edit: bool) -> Block:
    """A photo for an appeal (a missing person, a wanted vehicle): one file; Lookout fetches it on submit."""
    hint = (
        "JPEG, PNG, WebP or GIF, up to 5 MB. Residents see it with the alert; marking the alert Resolved withdraws it."
    )
    if edit:
        hint = "Leave empty to keep the draft's photo. " + hint
    return {
        "type": "input",
        "block_id": PHOTO,
        "optional": True,
        "label": plain("Photo (for an appeal)", 2000),
        "hint": plain(hint, 2000),
        "element": {"type": "file_input", "action_id": ACTION, "filetypes": PHOTO_FILETYPES, "max_files": 1},
    }


def _select(block_id: str, label: str, choices: list[tuple[str, str]], chosen: str) -> Block:
    options = [option(text, value) for text, value in choices]
    element: Block = {"type": "static_select", "action_id": ACTION, "options": options}
    initial = next((o for o in options if o["value"] == chosen), None)
    if initial is not None:
        element["initial_option"] = initial
    return {"type": "input", "block_id": block_id, "label": plain(label, 2000), "element": element}


def _multi_select(block_id: str, label: str, choices: list[tuple[str, str]], chosen: list[str], *, hint: str) -> Block:
    options = [option(text, value) for text, value in choices[:MAX_SELECT_OPTIONS]]
    element: Block = {
        "type": "multi_static_select",
        "action_id": ACTION,
        "options": options,
        "placeholder": plain("Choose…", 150),
    }
    initial = [o for o in options if o["value"] in chosen]
    if initial:
        element["initial_options"] = initial
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, 2000),
        "element": element,
        "optional": True,
        "hint": plain(hint, 2000),
    }


def _template_input(force: ForceConfig, chosen: str) -> Block:
    options = [option(t.label, key) for key, t in list(force.templates.items())[:MAX_SELECT_OPTIONS]]
    element: Block = {
        "type": "static_select",
        "action_id": ACTION,
        "options": options,
        "placeholder": plain("Choose a template…", 150),
    }
    initial = next((o for o in options if o["value"] == chosen), None)
    if initial is not None:
        element["initial_option"] = initial
    # dispatch_action: choosing one sends a block action at once, and the modal is redrawn filled in.
    return {
        "type": "input",
        "block_id": TEMPLATE,
        "dispatch_action": True,
        "optional": True,
        "label": plain("Start from a template", 2000),
        "element": element,
        "hint": plain(
            "Fills in the form below. Replace each {placeholder} in the headline and message with the details.", 2000
        ),
    }


def _named_area_input(force: ForceConfig, chosen: str) -> Block:
    areas = sorted(force.areas.items(), key=lambda item: item[1].name)
    if len(areas) > MAX_SELECT_OPTIONS:  # more than a select can hold: type it
        return _text_input(
            NAMED_AREA,
            "Named area",
            chosen,
            optional=True,
            max_length=100,
            hint="The area's key or name from the force config.",
        )
    options = [option(area.name, key) for key, area in areas]
    element: Block = {
        "type": "static_select",
        "action_id": ACTION,
        "options": options,
        "placeholder": plain("Choose an area…", 150),
    }
    initial = next((o for o in options if o["value"] == chosen), None)
    if initial is not None:
        element["initial_option"] = initial
    return {
        "type": "input",
        "block_id": NAMED_AREA,
        "label": plain("Named area", 2000),
        "element": element,
        "optional": True,
        "hint": plain("Used when the kind of area is Named area.", 2000),
    }


def read_form(values: dict[str, Any]) -> ComposeForm:
    """The submitted state (``view.state.values``), whatever element each field was drawn with."""

    def entry_of(block_id: str) -> dict[str, Any]:
        entries = values.get(block_id) or {}
        if not isinstance(entries, dict):
            return {}
        entry = entries.get(ACTION) or next((e for e in entries.values() if isinstance(e, dict)), None) or {}
        return entry if isinstance(entry, dict) else {}

    def one(block_id: str) -> str:
        entry = entry_of(block_id)
        if entry.get("selected_option"):
            return str(entry["selected_option"].get("value") or "")
        return str(entry.get("value") or "")

    def many(block_id: str) -> list[str]:
        entry = entry_of(block_id)
        return [str(o.get("value")) for o in entry.get("selected_options") or [] if o.get("value")]

    return ComposeForm(
        headline=one(HEADLINE),
        message=one(MESSAGE),
        incident_number=one(INCIDENT),
        where_kind=one(WHERE_KIND),
        where=one(WHERE),
        named_area=one(NAMED_AREA),
        radius=one(RADIUS),
        reach=one(REACH),
        topics=many(TOPICS),
        sectors=many(SECTORS),
        audience=one(AUDIENCE) or Audience.BOTH.value,
        urgency=one(URGENCY) or Urgency.IMMEDIATE.value,
        status=one(STATUS) or AlertStatus.ACTUAL.value,
        expires_hours=one(EXPIRES),
        contact=one(CONTACT),
        template=one(TEMPLATE),
        photo_files=[f for f in entry_of(PHOTO).get("files") or [] if isinstance(f, dict)],
    )


def form_from_alert(alert: Alert, force: ForceConfig) -> ComposeForm:
    """A draft's values, to edit it."""
    form = ComposeForm(
        headline=alert.headline,
        message=alert.message,
        incident_number=alert.incident_number,
        reach="everyone" if alert.everyone else "topics",
        topics=list(alert.topics),
        sectors=list(alert.sectors),
        audience=alert.audience.value,
        urgency=alert.urgency.value,
        status=alert.status.value,
        contact=alert.contact,
    )
    area = alert.area
    if isinstance(area, CircleArea):
        form.radius = format_distance(area.radius_m).replace(" ", "")
        typed = area.given or area.label
        if typed and normalise_uk_postcode(typed):
            form.where_kind, form.where = "postcode", typed
        elif typed and area.given:
            form.where_kind, form.where = "address", typed
        else:
            form.where_kind, form.where = "location", f"{area.lat:.6f}, {area.lon:.6f}"
    elif isinstance(area, StreetArea):
        form.where_kind, form.where, form.radius = "street", area.name, format_distance(area.buffer_m).replace(" ", "")
    elif isinstance(area, PolygonArea):
        key = next((k for k, a in force.areas.items() if a.name == area.name), "")
        form.where_kind, form.named_area = "area", key
    if alert.expires_at is not None and alert.created_at is not None:
        wanted = (alert.expires_at - alert.created_at) / timedelta(hours=1)
        form.expires_hours = str(min(expiry_choices(force), key=lambda h: abs(h - wanted)))
    return form


def block_errors(errors: dict[str, str], force: ForceConfig) -> dict[str, str]:
    """Core's ``{field: problem}`` as ``{block_id: problem}`` for ``response_action: errors``.

    Every key must name an input block of the modal, or Slack refuses the whole answer,
    so a problem with no field of its own goes under the headline, naming its field.
    """
    shown = {
        INCIDENT,
        HEADLINE,
        MESSAGE,
        WHERE_KIND,
        WHERE,
        RADIUS,
        REACH,
        TOPICS,
        AUDIENCE,
        URGENCY,
        STATUS,
        EXPIRES,
        CONTACT,
        PHOTO,
    }
    if force.areas:
        shown.add(NAMED_AREA)
    if force.sectors:
        shown.add(SECTORS)
    if force.templates:
        shown.add(TEMPLATE)
    placed: dict[str, list[str]] = {}
    for name, problem in errors.items():
        block = _FIELD_BLOCKS.get(name)
        if block == NAMED_AREA and NAMED_AREA not in shown:
            block = WHERE
        if block == SECTORS and SECTORS not in shown:
            block = TOPICS
        text = problem if block in shown else f"{name}: {problem}"
        placed.setdefault(block if block in shown else HEADLINE, []).append(_sentence(text))
    return {block: clip(" ".join(texts), 500) for block, texts in placed.items()}


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")
