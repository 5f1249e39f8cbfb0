"""From the compose modal's values to core's ``AlertRequest``, as ``lookout alert preview`` does from its options.

The area is resolved through core (``resolve_area``), which geocodes postcodes,
addresses and streets; a lookup failure comes back as ``InvalidInput`` naming
the field, like any other mistake.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bots.slack_officer.blocks.compose import REACH_CHOICES, ComposeForm
from core.errors import InvalidInput
from core.force import ForceConfig
from core.geo.areas import Area, CircleArea
from core.geo.coords import parse_distance
from core.geocoding import Geocoder
from core.model import Severity
from core.services.alerts import AlertRequest, AlertService
from core.services.areas import DEFAULT_RADIUS_M, Where, resolve_area


def where_of(form: ComposeForm) -> Where:
    """The officer's "where" as core's ``Where``: the kind chosen decides what the typed text means."""
    kind = form.where_kind or ("area" if form.named_area else "")
    text = form.where.strip()
    if kind == "area":
        name = form.named_area or text
        if not name:
            raise InvalidInput.one("area", "choose the named area")
        return Where(area=name)
    if not text:
        raise InvalidInput.one("where", "say where: a postcode, an address, a street or LAT, LON")
    if kind == "street":
        buffer = parse_distance(form.radius, "buffer") if form.radius.strip() else None
        return Where(street=text, buffer_m=buffer)
    radius = parse_distance(form.radius, "radius") if form.radius.strip() else None
    if kind == "location":
        return Where(at=text, radius_m=radius)
    if kind == "address":
        return Where(address=text, radius_m=radius)
    if kind in ("postcode", ""):
        return Where(postcode=text, radius_m=radius)
    raise InvalidInput.one("where_kind", f"'{kind}' is not a kind of area Lookout knows")


def expiry_of(form: ComposeForm, now: datetime) -> datetime | None:
    if not form.expires_hours:
        return None
    try:
        hours = int(form.expires_hours)
    except ValueError:
        raise InvalidInput.one("expires", f"'{form.expires_hours}' is not a number of hours") from None
    return now + timedelta(hours=hours)


def request_from(form: ComposeForm, area: Area, now: datetime, force: ForceConfig | None = None) -> AlertRequest:
    """The request as typed; the severity (the form has no field for it) is the template's, else the edited draft's."""
    template = force.templates.get(form.template) if force is not None and form.template else None
    return AlertRequest(
        incident_number=form.incident_number,
        headline=form.headline,
        message=form.message,
        area=area,
        everyone=form.reach == "everyone",
        topics=form.topics if form.reach != "everyone" else [],
        sectors=form.sectors,
        audience=form.audience,
        urgency=form.urgency,
        status=form.status,
        contact=form.contact or None,
        expires_at=expiry_of(form, now),
        template=form.template or None,
        severity=(template.severity if template else None) or form.severity or Severity.MODERATE.value,
    )


async def checked_request(
    form: ComposeForm,
    *,
    alerts: AlertService,
    force: ForceConfig,
    geocoder: Geocoder | None,
    author: str,
    now: datetime,
) -> AlertRequest:
    """The request, or one ``InvalidInput`` naming every field that is wrong (the area and the rest together).

    When the area cannot be resolved, the other fields are still checked against a
    stand-in area, so the officer sees all their mistakes at once, not one per submission.
    """
    errors: dict[str, str] = {}
    try:
        area: Area = await resolve_area(where_of(form), force=force, geocoder=geocoder)
    except InvalidInput as exc:
        errors.update(exc.errors)
        area = CircleArea(0.0, 0.0, DEFAULT_RADIUS_M, label=form.where.strip() or "the area")
    try:
        request = request_from(form, area, now, force)
        alerts.compose(request, author)  # checks only: nothing is stored
    except InvalidInput as exc:
        errors = {**exc.errors, **errors}
    if form.reach not in REACH_CHOICES:  # Slack requires the choice; a hand-made request may still leave it out
        errors["reach"] = "choose who this is for: everyone in the area, or only residents who chose the topics below"
    if errors:
        raise InvalidInput(errors)
    return request
