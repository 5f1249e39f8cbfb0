"""Coordinates as people type them, checked before anything is stored."""

from __future__ import annotations

import math
import re

from core.errors import InvalidInput

_DISTANCE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|km|metres?|meters?|kilometres?|kilometers?)?\s*$", re.I)


def check_lat_lon(lat: float, lon: float, field: str = "location") -> tuple[float, float]:
    """Return ``(lat, lon)`` as floats, or raise naming ``field``.

    NaN and ±inf fail every comparison, so they are caught by the explicit
    finiteness test rather than slipping through the range checks.
    """
    try:
        lat_f, lon_f = float(lat), float(lon)
    except (TypeError, ValueError):
        raise InvalidInput.one(field, "latitude and longitude must be numbers") from None
    if not (math.isfinite(lat_f) and math.isfinite(lon_f)):
        raise InvalidInput.one(field, "latitude and longitude must be finite numbers")
    if not -90.0 <= lat_f <= 90.0:
        raise InvalidInput.one(field, f"latitude {lat_f} is outside -90 to 90")
    if not -180.0 <= lon_f <= 180.0:
        raise InvalidInput.one(field, f"longitude {lon_f} is outside -180 to 180")
    return lat_f, lon_f


def parse_lat_lon(text: str, field: str = "at") -> tuple[float, float]:
    """Parse ``"52.8067,-2.1174"`` (spaces allowed) into checked floats."""
    parts = [p.strip() for p in text.replace(";", ",").split(",")]
    if len(parts) != 2 or not all(parts):
        raise InvalidInput.one(field, f"'{text}' should be LAT,LON, for example 52.8067,-2.1174")
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        raise InvalidInput.one(field, f"'{text}' should be two numbers, LAT,LON") from None
    return check_lat_lon(lat, lon, field)


def parse_distance(text: str, field: str = "radius") -> float:
    """Parse ``500m``, ``2km``, ``750`` (metres) into metres."""
    match = _DISTANCE.match(text)
    if not match:
        raise InvalidInput.one(field, f"'{text}' should be a distance such as 500m or 2km")
    value = float(match.group(1))
    unit = (match.group(2) or "m").lower()
    return value * 1000.0 if unit.startswith("k") else value


def format_distance(metres: float) -> str:
    """``50 m``, ``500 m``, ``1.5 km``, ``3 km``: how an officer would say it."""
    if round(metres) < 1000:  # 999.6 m reads "1 km", not "1000 m"
        return f"{round(metres):d} m"
    km = metres / 1000.0
    return f"{km:.1f} km".replace(".0 km", " km")
