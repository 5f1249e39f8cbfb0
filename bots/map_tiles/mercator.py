"""Web Mercator (EPSG:3857) as XYZ tile servers cut it: "world pixels" at a zoom, 256 to a tile."""

from __future__ import annotations

import math

TILE_SIZE = 256
MAX_LATITUDE = 85.0511287798  # where the square world of tiles ends
EARTH_CIRCUMFERENCE_M = 40_075_016.686  # at the equator, the sphere Web Mercator uses


def world_px(lat: float, lon: float, zoom: float) -> tuple[float, float]:
    """(x, y) of a point in pixels of the whole world at ``zoom`` (x east, y south, 0 at 180°W and the top)."""
    size = TILE_SIZE * 2**zoom
    lat_r = math.radians(max(-MAX_LATITUDE, min(MAX_LATITUDE, lat)))
    x = (lon + 180.0) / 360.0 * size
    y = (1.0 - math.log(math.tan(lat_r) + 1.0 / math.cos(lat_r)) / math.pi) / 2.0 * size
    return x, y


def metres_per_px(lat: float, zoom: float) -> float:
    """Ground metres one pixel spans at ``lat`` (Mercator stretches away from the equator)."""
    return EARTH_CIRCUMFERENCE_M * math.cos(math.radians(lat)) / (TILE_SIZE * 2**zoom)


def tiles_across(zoom: int) -> int:
    return 2**zoom
