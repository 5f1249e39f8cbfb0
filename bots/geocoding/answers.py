"""Reading a Nominatim-family provider's answers (geopy ``Location``s) into ``GeocodeCandidate``s.

Labels from the address details, the kind of place, a street's line from its
GeoJSON, one centroid for a postcode, one candidate per label. Coordinates
that come back are never logged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from geopy.location import Location
from shapely.geometry import LineString, MultiLineString, shape
from shapely.ops import linemerge

from core.errors import InvalidInput
from core.geo.coords import check_lat_lon
from core.geocoding import (
    KIND_ADDRESS,
    KIND_PLACE,
    KIND_POSTCODE,
    KIND_STREET,
    GeocodeCandidate,
    PreparedQuery,
    normalise_uk_postcode,
)


def checked_point(lat: Any, lon: Any) -> tuple[float, float] | None:
    try:
        return check_lat_lon(lat, lon)
    except InvalidInput:
        return None


def _line_from_geojson(geojson: Any) -> LineString | MultiLineString | None:
    """A street line from a provider's GeoJSON, or ``None`` if it is not a sound line."""
    if not isinstance(geojson, Mapping) or geojson.get("type") not in ("LineString", "MultiLineString"):
        return None
    try:
        line = shape(geojson)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    if line.is_empty or not _line_coordinates_valid(line):
        return None
    return line


def _line_coordinates_valid(line: LineString | MultiLineString) -> bool:
    parts = line.geoms if isinstance(line, MultiLineString) else [line]
    return all(checked_point(lat, lon) is not None for part in parts for lon, lat, *_ in part.coords)


_SETTLEMENT_TYPES = frozenset(
    {
        "city",
        "town",
        "village",
        "hamlet",
        "suburb",
        "quarter",
        "neighbourhood",
        "locality",
        "isolated_dwelling",
        "administrative",
        "county",
        "state",
        "region",
        "municipality",
    }
)


def _kind_for(raw: Mapping[str, Any], line: LineString | MultiLineString | None) -> str:
    # format=json says "class", format=jsonv2 says "category".
    osm_class = raw.get("class") or raw.get("category")
    if line is not None or osm_class == "highway":
        return KIND_STREET
    if osm_class in ("place", "boundary") and raw.get("type") in _SETTLEMENT_TYPES:
        return KIND_PLACE
    return KIND_ADDRESS


_LOCALITY_KEYS = ("city", "town", "village", "hamlet", "suburb", "municipality")
_COUNTRY_SUFFIXES = (", United Kingdom", ", UK")


def _locality(address: Mapping[str, Any]) -> str | None:
    return next((address[key] for key in _LOCALITY_KEYS if address.get(key)), None)


def _display_postcode(address: Mapping[str, Any]) -> str | None:
    postcode = address.get("postcode")
    if not isinstance(postcode, str) or not postcode.strip():
        return None
    return normalise_uk_postcode(postcode) or postcode.strip()


def _short_display_name(display_name: str) -> str:
    # Every answer is in the UK; the country only makes labels longer.
    for suffix in _COUNTRY_SUFFIXES:
        if display_name.endswith(suffix):
            return display_name[: -len(suffix)]
    return display_name


def _label_for(raw: Mapping[str, Any], kind: str, fallback: str) -> str:
    """A short, human label such as ``12 Eastgate Street, Stafford ST16 2LZ``.

    Built from Nominatim's ``address`` details when present; otherwise the
    provider's own display name, minus the country.
    """
    address = raw.get("address")
    if not isinstance(address, Mapping) or not address:
        return _short_display_name(fallback)
    name = raw.get("name") or None
    locality = _locality(address)
    if kind == KIND_PLACE:
        region = address.get("county") or address.get("state_district") or address.get("state")
        parts = [name or locality, region]
    else:
        road = address.get("road")
        house = address.get("house_number")
        street = f"{house} {road}" if house and road else road
        tail = " ".join(part for part in (locality, _display_postcode(address)) if part) or None
        named = name if name and name not in (road, locality) else None
        parts = [named, street, tail]
    label = ", ".join(part for part in parts if part)
    return label or _short_display_name(fallback)


def _raw(location: Location) -> Mapping[str, Any]:
    return location.raw if isinstance(location.raw, Mapping) else {}


def _address(location: Location) -> Mapping[str, Any]:
    address = _raw(location).get("address")
    return address if isinstance(address, Mapping) else {}


def _point_of(location: Location) -> tuple[float, float] | None:
    return checked_point(location.latitude, location.longitude)


def _candidate_from(location: Location) -> GeocodeCandidate | None:
    """A candidate from one geopy ``Location``, or ``None`` when its coordinates are unusable."""
    point = _point_of(location)
    if point is None:
        return None
    raw = _raw(location)
    line = _line_from_geojson(raw.get("geojson"))
    kind = _kind_for(raw, line)
    return GeocodeCandidate(
        label=_label_for(raw, kind, location.address or ""),
        lat=point[0],
        lon=point[1],
        kind=kind,
        line=line,
    )


def _postcode_centroid(locations: Sequence[Location], postcode: str) -> GeocodeCandidate | None:
    """One candidate at the centre of ``postcode``.

    Nominatim answers a postcode with its own postcode object (type
    ``postcode``, placed at the centroid) when it has one; failing that, the
    centre of the answers inside that postcode; failing that, the provider's
    best answer (providers without address details can say no more).
    """
    usable = [location for location in locations if _point_of(location) is not None]
    inside = [location for location in usable if _postcode_of(location) == postcode]
    postcode_objects = [location for location in inside if _raw(location).get("type") == "postcode"]
    chosen = postcode_objects[:1] or inside or usable[:1]
    if not chosen:
        return None
    points = [point for point in map(_point_of, chosen) if point is not None]
    lat = sum(point[0] for point in points) / len(points)
    lon = sum(point[1] for point in points) / len(points)
    locality = _locality(_address(chosen[0]))
    label = f"{postcode}, {locality}" if locality else postcode
    return GeocodeCandidate(label=label, lat=lat, lon=lon, kind=KIND_POSTCODE, line=None)


def _postcode_of(location: Location) -> str | None:
    postcode = _address(location).get("postcode")
    return normalise_uk_postcode(postcode) if isinstance(postcode, str) else None


def _merge_same_label(candidates: Sequence[GeocodeCandidate]) -> list[GeocodeCandidate]:
    """One candidate per label, keeping the provider's order.

    Nominatim often returns one street as several OSM ways with the same name
    and town; their lines are joined so the whole street is there to target.
    """
    merged: dict[str, GeocodeCandidate] = {}
    for candidate in candidates:
        first = merged.get(candidate.label)
        if first is None:
            merged[candidate.label] = candidate
        elif first.line is not None and candidate.line is not None:
            merged[candidate.label] = replace(first, line=_join_lines(first.line, candidate.line))
    return list(merged.values())


def _join_lines(*lines: LineString | MultiLineString) -> LineString | MultiLineString:
    parts = [part for line in lines for part in (line.geoms if isinstance(line, MultiLineString) else [line])]
    joined = linemerge(MultiLineString(parts))
    return joined if isinstance(joined, LineString | MultiLineString) else MultiLineString(parts)


def candidates_from(locations: Sequence[Location], query: PreparedQuery, limit: int) -> list[GeocodeCandidate]:
    if query.postcode is not None:
        centroid = _postcode_centroid(locations, query.postcode)
        return [centroid] if centroid is not None else []
    found = (_candidate_from(location) for location in locations)
    return _merge_same_label([candidate for candidate in found if candidate is not None])[:limit]


_STREET_KEYS = ("road", "pedestrian", "footway", "square")
_NEIGHBOURHOOD_KEYS = ("neighbourhood", "quarter", "suburb", "residential", "hamlet", "village")


def street_words(location: Location | None) -> str | None:
    """``Eastgate Street, Stafford`` (or ``Forebridge, Stafford``) from a reverse lookup's address details; None
    when they name no street or neighbourhood (a town alone says too little, a house number too much)."""
    if location is None or checked_point(location.latitude, location.longitude) is None:
        return None
    address = _address(location)
    where = next((str(address[key]) for key in (*_STREET_KEYS, *_NEIGHBOURHOOD_KEYS) if address.get(key)), None)
    if where is None:
        return None
    town = _locality(address)
    return f"{where}, {town}" if town and town != where else where
