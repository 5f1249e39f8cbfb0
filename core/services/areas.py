"""Turning an officer's "where" into an area: a point, a postcode, an address, a street or a named area.

A circle is named for residents by the street at its centre ("within 1 km of
Eastgate Street, Stafford"): a postcode alone means little to most people, a
point's coordinates nothing, and an address's house number says more about
one household than an alert should.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.errors import InvalidInput
from core.force import ForceConfig
from core.geo.areas import DEFAULT_STREET_BUFFER_M, Area, CircleArea, StreetArea
from core.geo.coords import parse_lat_lon
from core.geocoding import Geocoder, GeocoderUnavailable, GeocodingError, normalise_uk_postcode

DEFAULT_RADIUS_M = 500.0
STREET_FALLBACK_RADIUS_M = 150.0
# The lookup's own words ask a resident to share their location; an officer has other ways to say where.
LOOKUP_DOWN = (
    "the address lookup isn't answering right now, so this place can't be found. Try again in a minute, "
    "or give the centre as a location (LAT,LON) or a named area instead."
)


def _lookup_problem(exc: GeocodingError) -> str:
    """What an officer reads when a lookup fails."""
    return LOOKUP_DOWN if isinstance(exc, GeocoderUnavailable) else str(exc)


@dataclass(frozen=True)
class Where:
    """Exactly one of ``at`` ("LAT,LON"), ``postcode``, ``address`` (a circle around it),
    ``street`` ("NAME, TOWN": a band along it) or ``area`` (a named area)."""

    at: str | None = None
    postcode: str | None = None
    street: str | None = None
    area: str | None = None
    address: str | None = None
    radius_m: float | None = None
    buffer_m: float | None = None

    def chosen(self) -> list[str]:
        return [name for name in ("at", "postcode", "address", "street", "area") if (getattr(self, name) or "").strip()]


async def resolve_area(where: Where, *, force: ForceConfig, geocoder: Geocoder | None) -> Area:
    chosen = where.chosen()
    if len(chosen) != 1:
        raise InvalidInput.one(
            "where",
            "say where the alert is for: exactly one of a location (LAT,LON), a postcode, an address, a street or a named area",
        )
    kind = chosen[0]
    if kind == "at":
        lat, lon = parse_lat_lon(where.at or "", "at")
        label = await geocoder.street_near(lat, lon) if geocoder is not None else None
        return CircleArea(lat, lon, where.radius_m or DEFAULT_RADIUS_M, label=label)
    if kind == "area":
        return force.area(where.area or "")
    if geocoder is None:
        raise InvalidInput.one(
            kind, "address lookup is not configured here; give a location as LAT,LON or a named area"
        )
    if kind == "postcode":
        return await _postcode_area(where, geocoder)
    if kind == "address":
        return await _address_area(where, geocoder)
    return await _street_area(where, geocoder)


async def _postcode_area(where: Where, geocoder: Geocoder) -> CircleArea:
    postcode = normalise_uk_postcode(where.postcode or "")
    if postcode is None:
        raise InvalidInput.one("postcode", f"'{where.postcode}' is not a UK postcode, for example ST16 2LZ")
    try:
        best = (await geocoder.search(postcode, limit=1))[0]
    except GeocodingError as exc:
        raise InvalidInput.one("postcode", _lookup_problem(exc)) from None
    # Without a street, the postcode with its town ("ST16 2LZ, Stafford"), never the bare postcode.
    label = await geocoder.street_near(best.lat, best.lon) or best.label
    return CircleArea(best.lat, best.lon, where.radius_m or DEFAULT_RADIUS_M, label=label, given=postcode)


async def _address_area(where: Where, geocoder: Geocoder) -> CircleArea:
    """A circle around the best match for an address (even when the provider also knows a street line)."""
    query = (where.address or "").strip()
    try:
        candidates = await geocoder.search(query, limit=5)
    except GeocodingError as exc:
        raise InvalidInput.one("address", _lookup_problem(exc)) from None
    labels = list(dict.fromkeys(c.label for c in candidates))
    if len(labels) > 1:
        raise InvalidInput.one(
            "address", f"'{query}' matches several places: {'; '.join(labels[:5])}. Add the town or a postcode."
        )
    best = candidates[0]
    label = await geocoder.street_near(best.lat, best.lon) or _without_house_number(best.label)
    return CircleArea(best.lat, best.lon, where.radius_m or DEFAULT_RADIUS_M, label=label, given=query)


def _without_house_number(label: str) -> str:
    """``12 Eastgate Street, Stafford ST16 2LZ`` → ``Eastgate Street, Stafford ST16 2LZ``."""
    return re.sub(r"^\s*\d+[A-Za-z]?(?:-\d+[A-Za-z]?)?,?\s+", "", label) or label


async def _street_area(where: Where, geocoder: Geocoder) -> Area:
    query = (where.street or "").strip()
    try:
        candidates = await geocoder.search(query, limit=5)
    except GeocodingError as exc:
        raise InvalidInput.one("street", _lookup_problem(exc)) from None
    streets = [c for c in candidates if c.line is not None] or candidates
    labels = list(dict.fromkeys(c.label for c in streets))
    if len(labels) > 1:
        raise InvalidInput.one(
            "street", f"'{query}' matches several places: {'; '.join(labels[:5])}. Add the town or a postcode."
        )
    best = streets[0]
    if best.line is not None:
        return StreetArea(best.label, best.line, where.buffer_m or DEFAULT_STREET_BUFFER_M)
    # No line from the provider: a small circle around the point it found.
    return CircleArea(best.lat, best.lon, where.radius_m or STREET_FALLBACK_RADIUS_M, label=best.label)
