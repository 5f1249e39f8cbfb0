"""How near each cell of an area's cover is to what the alert is about, for nearest-first delivery.

The distance is measured from a cell's centre to the area's focus: a circle's
centre, the nearest point of a street's line, and for a polygon 0 inside it
(and the distance to its edge for cells that only touch it). The storage
layer joins these distances to the residents' cells when it writes the
delivery rows, so the order is fixed once, in the database, and the worker
only has to claim rows in order.

Large covers are ranked on coarser cells (the parent of a place's cell is a
bit mask away in SQL), so the table stays a few thousand rows whatever the
area and precision.
"""

from __future__ import annotations

from dataclasses import dataclass

import h3
import numpy as np
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from core.geo.areas import Area, CircleArea, PolygonArea, StreetArea
from core.geo.cells import area_cells
from core.geo.projection import projection_around

MAX_RANKED_CELLS = 5000  # beyond this, rank on parent cells: about a 7th as many per step
_RES_SHIFT = 52
_RES_MASK = 0xF << _RES_SHIFT
_H3_BITS = (1 << 63) - 1


@dataclass(frozen=True)
class Nearness:
    """Metres from each ranking cell to the area's focus.

    A place's cell ``c`` (at a finer or equal resolution) belongs to the
    ranking cell ``(c & keep) | fill``: its parent at ``resolution``.
    """

    resolution: int
    keep: int
    fill: int
    metres: tuple[tuple[int, int], ...]  # (ranking cell as an integer, whole metres)


def parent_mask(resolution: int) -> tuple[int, int]:
    """(keep, fill) such that ``(cell & keep) | fill`` is the cell's parent at ``resolution``.

    An H3 index holds its resolution in bits 52–55 and one 3-bit digit per
    resolution below that; a parent has the finer digits all set to 7.
    """
    unused = (1 << (3 * (15 - resolution))) - 1
    keep = _H3_BITS & ~_RES_MASK & ~unused
    fill = (resolution << _RES_SHIFT) | unused
    return keep, fill


def nearness(area: Area, resolution: int, cells: list[str] | None = None) -> Nearness:
    """Distances for the cells covering ``area`` at ``resolution`` (``cells`` if the caller already has
    them from ``area_cells``), coarsened until few enough to join."""
    if cells is None:
        cells = area_cells(area, resolution)
    ranking = resolution
    while len(cells) > MAX_RANKED_CELLS and ranking > 0:
        ranking -= 1
        cells = list({h3.cell_to_parent(c, ranking) for c in cells})
    lat, lon = area.centre
    proj = projection_around(lat, lon)
    focus = proj.forward(_focus(area))
    # Arrays through pyproj and shapely at once: a shapely Point per cell cost ~10 µs each.
    centres = np.array([h3.cell_to_latlng(c) for c in cells], dtype=float).reshape(-1, 2)
    x, y = proj.to_metric.transform(centres[:, 1], centres[:, 0])
    distances = shapely.distance(focus, shapely.points(x, y)).astype(int)
    keep, fill = parent_mask(ranking)
    return Nearness(ranking, keep, fill, tuple(zip((h3.str_to_int(c) for c in cells), distances.tolist(), strict=True)))


def _focus(area: Area) -> BaseGeometry:
    if isinstance(area, CircleArea):
        return Point(area.lon, area.lat)
    if isinstance(area, StreetArea):
        return area.line
    if isinstance(area, PolygonArea):
        return area.polygon  # distance 0 for every point inside
    raise TypeError(f"no focus for a {type(area).__name__}")
