"""Alert areas: a circle, a street, or a named polygon, all measured in metres.

Geometries are held in lon/lat (WGS84); anything metric is done in a local
projection around the area (see ``projection.py``), never in degrees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import shapely
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry

from core.errors import InvalidInput
from core.geo.coords import check_lat_lon, format_distance
from core.geo.projection import projection_around

MIN_RADIUS_M = 50.0
MAX_RADIUS_M = 3000.0
MIN_STREET_BUFFER_M = 25.0
MAX_STREET_BUFFER_M = 100.0
DEFAULT_STREET_BUFFER_M = 50.0
MAX_STREET_LENGTH_M = 6000.0
MAX_POLYGON_AREA_KM2 = 100.0

# Buffers are polygons with this many segments per quarter circle; the radius is
# stretched by 1/cos(pi / (4 * segments)) so the polygon contains the true
# circle (inclusion errs outwards, by design).
_QUAD_SEGMENTS = 64
_CIRCUMSCRIBE = 1.0 / math.cos(math.pi / (4 * _QUAD_SEGMENTS))


@dataclass(frozen=True)
class CircleArea:
    lat: float
    lon: float
    radius_m: float
    label: str | None = None  # the centre in residents' words: "Eastgate Street, Stafford"
    given: str | None = None  # what the officer typed (a postcode, an address), so an edit starts from it
    kind: Literal["circle"] = "circle"

    def __post_init__(self) -> None:
        check_lat_lon(self.lat, self.lon, "location")
        if not math.isfinite(self.radius_m) or not MIN_RADIUS_M <= self.radius_m <= MAX_RADIUS_M:
            raise InvalidInput.one(
                "radius",
                f"the radius must be between {format_distance(MIN_RADIUS_M)} and "
                f"{format_distance(MAX_RADIUS_M)} (got {_exact_metres(self.radius_m)})",
            )

    @property
    def centre(self) -> tuple[float, float]:
        return self.lat, self.lon

    def outline(self) -> BaseGeometry:
        """The area in lon/lat, drawn just outside the true circle."""
        proj = projection_around(self.lat, self.lon)
        disc = proj.forward(Point(self.lon, self.lat)).buffer(self.radius_m * _CIRCUMSCRIBE, quad_segs=_QUAD_SEGMENTS)
        return proj.inverse(disc)

    def describe(self) -> str:
        where = self.label or f"{self.lat:.5f}, {self.lon:.5f}"
        return f"within {format_distance(self.radius_m)} of {where}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "lat": self.lat,
            "lon": self.lon,
            "radius_m": self.radius_m,
            "label": self.label,
            "given": self.given,
        }


@dataclass(frozen=True)
class StreetArea:
    """A street's line, and everyone within ``buffer_m`` either side of it."""

    name: str
    line: LineString | MultiLineString
    buffer_m: float = DEFAULT_STREET_BUFFER_M
    kind: Literal["street"] = "street"

    def __post_init__(self) -> None:
        if not isinstance(self.line, LineString | MultiLineString) or self.line.is_empty:
            raise InvalidInput.one("street", "the street has no line to follow")
        for lon, lat in _all_coords(self.line):
            check_lat_lon(lat, lon, "street")
        if not math.isfinite(self.buffer_m) or not MIN_STREET_BUFFER_M <= self.buffer_m <= MAX_STREET_BUFFER_M:
            raise InvalidInput.one(
                "buffer",
                f"the distance either side of a street must be between {format_distance(MIN_STREET_BUFFER_M)} "
                f"and {format_distance(MAX_STREET_BUFFER_M)}",
            )
        if self.length_m() > MAX_STREET_LENGTH_M:
            raise InvalidInput.one(
                "street",
                f"that street is {_exact_metres(self.length_m())} long; Lookout targets up to "
                f"{format_distance(MAX_STREET_LENGTH_M)} — use a circle or a named area instead",
            )

    @property
    def centre(self) -> tuple[float, float]:
        c = self.line.centroid
        return c.y, c.x

    def length_m(self) -> float:
        lat, lon = self.centre
        return projection_around(lat, lon).forward(self.line).length

    def outline(self) -> BaseGeometry:
        lat, lon = self.centre
        proj = projection_around(lat, lon)
        band = proj.forward(self.line).buffer(self.buffer_m * _CIRCUMSCRIBE, quad_segs=_QUAD_SEGMENTS)
        return proj.inverse(band)

    def describe(self) -> str:
        return f"{self.name} and {format_distance(self.buffer_m)} either side"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "line": mapping(self.line), "buffer_m": self.buffer_m}


@dataclass(frozen=True)
class PolygonArea:
    """A named neighbourhood (from the force config) or a drawn polygon."""

    name: str
    polygon: Polygon | MultiPolygon
    kind: Literal["polygon"] = "polygon"

    def __post_init__(self) -> None:
        if not isinstance(self.polygon, Polygon | MultiPolygon) or self.polygon.is_empty:
            raise InvalidInput.one("area", "the area must be a polygon")
        for lon, lat in _all_coords(self.polygon):
            check_lat_lon(lat, lon, "area")
        if not self.polygon.is_valid:
            raise InvalidInput.one(
                "area", f"the outline of '{self.name}' crosses itself ({shapely.is_valid_reason(self.polygon)})"
            )
        if self.area_km2() > MAX_POLYGON_AREA_KM2:
            raise InvalidInput.one(
                "area",
                f"'{self.name}' covers {self.area_km2():.0f} km²; the most Lookout targets is {MAX_POLYGON_AREA_KM2:.0f} km²",
            )

    @property
    def centre(self) -> tuple[float, float]:
        c = self.polygon.centroid
        return c.y, c.x

    def area_km2(self) -> float:
        lat, lon = self.centre
        return projection_around(lat, lon).forward(self.polygon).area / 1e6

    def outline(self) -> BaseGeometry:
        return self.polygon

    def describe(self) -> str:
        return f"the {self.name} area"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "polygon": mapping(self.polygon)}


Area = CircleArea | StreetArea | PolygonArea


def area_from_dict(data: dict[str, Any]) -> Area:
    """Rebuild an area stored with ``to_dict``."""
    kind = data.get("kind")
    if kind == "circle":
        return CircleArea(
            float(data["lat"]), float(data["lon"]), float(data["radius_m"]), data.get("label"), data.get("given")
        )
    if kind == "street":
        return StreetArea(str(data["name"]), shape(data["line"]), float(data["buffer_m"]))
    if kind == "polygon":
        return PolygonArea(str(data["name"]), shape(data["polygon"]))
    raise InvalidInput.one("area", f"unknown area kind {kind!r}")


def polygon_from_text(name: str, text: str) -> PolygonArea:
    """A polygon from WKT or a GeoJSON geometry/feature string."""
    import json

    stripped = text.strip()
    try:
        if stripped.startswith("{"):
            data = json.loads(stripped)
            geometry = shape(data.get("geometry", data))
        else:
            geometry = shapely.from_wkt(stripped)
    except (ValueError, TypeError, KeyError, AttributeError, shapely.errors.GEOSException):
        raise InvalidInput.one("area", "that outline could not be read as WKT or as a GeoJSON polygon") from None
    return PolygonArea(name, geometry)


def _exact_metres(metres: float) -> str:
    """The value as given, so a rejected 3000.4 m is not shown as an allowed "3 km"."""
    if not math.isfinite(metres):
        return str(metres)
    return f"{metres:.1f}".rstrip("0").rstrip(".") + " m"


def _all_coords(geometry: BaseGeometry) -> list[tuple[float, float]]:
    return [tuple(xy) for xy in shapely.get_coordinates(geometry).tolist()]
