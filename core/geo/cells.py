"""H3 cells: where residents' places are snapped, and how areas are covered.

A resident's place is stored only as the H3 cell it falls in. An area is
matched by the set of cells that *overlap* it, so a resident whose cell touches
the area at all is included (inclusion errs outwards: at resolution 10 by at
most one cell, about 150 m). Cells are stored as 64-bit integers; all the
resolution-r descendants of a coarser cell form one contiguous integer range,
so a compacted cover becomes a short list of ranges that a B-tree index scans.
"""

from __future__ import annotations

from dataclasses import dataclass

import h3
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from core.geo.areas import Area
from core.geo.coords import check_lat_lon

MIN_RESOLUTION = 7
MAX_RESOLUTION = 12
DEFAULT_RESOLUTION = 10


def snap(lat: float, lon: float, resolution: int) -> str:
    """The H3 cell of a point: the only form in which a home is ever stored."""
    lat, lon = check_lat_lon(lat, lon)
    return h3.latlng_to_cell(lat, lon, resolution)


def cell_to_int(cell: str) -> int:
    return h3.str_to_int(cell)


def int_to_cell(value: int) -> str:
    return h3.int_to_str(value)


def cell_centre(cell: str) -> tuple[float, float]:
    return h3.cell_to_latlng(cell)


def cell_boundary(cell: str) -> tuple[tuple[float, float], ...]:
    """The cell's corners as (lat, lon), for drawing it."""
    return tuple(h3.cell_to_boundary(cell))


@dataclass(frozen=True)
class Cover:
    """The cells overlapping an area, as sorted inclusive integer ranges."""

    resolution: int
    cell_count: int
    ranges: tuple[tuple[int, int], ...]

    def contains(self, cell: str) -> bool:
        value = h3.str_to_int(cell)
        return any(lo <= value <= hi for lo, hi in self.ranges)


def cover_area(area: Area, resolution: int) -> Cover:
    """Every resolution-``resolution`` cell that overlaps ``area``."""
    return cover_of(area_cells(area, resolution), resolution)


def cover_of(cells: list[str], resolution: int) -> Cover:
    """The cover of ``cells`` (an area's, from ``area_cells``: computed once when its nearness needs them too)."""
    return Cover(resolution, len(cells), cells_to_ranges(cells, resolution))


def area_cells(area: Area, resolution: int) -> list[str]:
    """The resolution-``resolution`` cells that overlap ``area``."""
    return h3.h3shape_to_cells_experimental(_to_h3shape(area.outline()), resolution, contain="overlap")


def cells_to_ranges(cells: list[str], resolution: int) -> tuple[tuple[int, int], ...]:
    """Compact ``cells`` and turn each compacted cell into its range of descendants."""
    ranges: list[tuple[int, int]] = []
    for parent in h3.compact_cells(cells):
        if h3.get_resolution(parent) == resolution:
            value = h3.str_to_int(parent)
            ranges.append((value, value))
            continue
        children = h3.cell_to_children(parent, resolution)
        values = [h3.str_to_int(c) for c in children]
        ranges.append((min(values), max(values)))
    ranges.sort()
    return tuple(_merge_adjacent(ranges))


def _merge_adjacent(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    # Only ranges that touch or overlap merge: the integers between two
    # separate ranges may be real cells outside the area.
    merged: list[tuple[int, int]] = []
    for lo, hi in ranges:
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def _to_h3shape(geometry: BaseGeometry) -> h3.H3Shape:
    if isinstance(geometry, Polygon):
        return _polygon(geometry)
    if isinstance(geometry, MultiPolygon):
        return h3.LatLngMultiPoly(*[_polygon(p) for p in geometry.geoms])
    raise TypeError(f"cannot cover a {geometry.geom_type}")


def _polygon(polygon: Polygon) -> h3.LatLngPoly:
    def ring(coords) -> list[tuple[float, float]]:  # noqa: ANN001 - a shapely coordinate sequence
        return [(lat, lon) for lon, lat in coords]

    return h3.LatLngPoly(ring(polygon.exterior.coords), *[ring(r.coords) for r in polygon.interiors])
