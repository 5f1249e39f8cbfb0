"""``cover_area`` against a brute-force reference, near the limits of every area kind.

The reference is independent of ``core.geo``: geodesic distances on WGS84 with
``pyproj.Geod``, and a local azimuthal equidistant projection built here (exactly
centred, not the rounded, cached one the code uses) for distances to lines and
polygons. For each random resident point we snap it with ``snap`` and look at its
cell (and the ring of cells around it, so boundary cells are well represented):

* a resident more than 0.5 m inside the area must have their cell covered;
* a cell with any boundary vertex more than 0.5 m inside the area overlaps it, so
  it must be covered (this includes every cell wholly inside);
* a cell more than 0.5 m clear of the area must not be covered.

The 0.5 m slack absorbs the circumscribed buffers (≤ 0.23 m at 3 km) and the
difference between straight edges in lon/lat and in metres over short edges.
"""

from __future__ import annotations

import math
from functools import lru_cache

import h3
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import CRS, Geod, Transformer
from shapely.geometry import LineString, Point, Polygon

from core.geo.areas import MAX_RADIUS_M, MIN_RADIUS_M, CircleArea, PolygonArea, StreetArea
from core.geo.cells import Cover, cover_area, snap

GEOD = Geod(ellps="WGS84")
SLACK_M = 0.5
RESOLUTIONS = (10, 11)

PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------- strategies

uk_lat = st.floats(min_value=50.0, max_value=58.0, allow_nan=False)
uk_lon = st.floats(min_value=-6.0, max_value=1.7, allow_nan=False)
radius = st.one_of(
    st.floats(min_value=MIN_RADIUS_M, max_value=60.0),  # the smallest circles
    st.floats(min_value=2900.0, max_value=MAX_RADIUS_M),  # the largest
    st.floats(min_value=MIN_RADIUS_M, max_value=MAX_RADIUS_M),  # anything between
    st.sampled_from([MIN_RADIUS_M, MAX_RADIUS_M]),  # exactly at the limits
)
unit = st.floats(min_value=-1.0, max_value=1.0, allow_nan=False)
fraction = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
bearing = st.floats(min_value=0.0, max_value=360.0, allow_nan=False, exclude_max=True)
edge_offset = st.floats(min_value=-2.0, max_value=2.0, allow_nan=False)  # metres across the edge

# Points in a square of half-side 1.3 × the area's size, as fractions of it.
square_points = st.lists(st.tuples(unit, unit), min_size=1, max_size=12)
# Points right at the edge: where along the edge, and how far across it.
edge_points = st.lists(st.tuples(fraction, edge_offset), min_size=1, max_size=12)


# ---------------------------------------------------------------- reference


@lru_cache(maxsize=512)
def _aeqd(lat: float, lon: float) -> tuple[Transformer, Transformer]:
    crs = CRS.from_proj4(f"+proj=aeqd +lat_0={lat!r} +lon_0={lon!r} +datum=WGS84 +units=m +no_defs")
    return (
        Transformer.from_crs("EPSG:4326", crs, always_xy=True),
        Transformer.from_crs(crs, "EPSG:4326", always_xy=True),
    )


class Local:
    """Metres east/north around an exact origin."""

    def __init__(self, lat: float, lon: float) -> None:
        self.fwd, self.inv = _aeqd(lat, lon)

    def to_xy(self, lonlats: list[tuple[float, float]]) -> list[tuple[float, float]]:
        lons, lats = zip(*lonlats, strict=True)
        xs, ys = self.fwd.transform(lons, lats)
        return list(zip(xs, ys, strict=True))

    def to_latlon(self, x: float, y: float) -> tuple[float, float]:
        lon, lat = self.inv.transform(x, y)
        return lat, lon


def cell_vertices(cell: str) -> list[tuple[float, float]]:
    """The cell's boundary as (lon, lat) pairs (6 for a hexagon, more if distorted)."""
    return [(lon, lat) for lat, lon in h3.cell_to_boundary(cell)]


def cells_to_check(lat: float, lon: float, resolution: int) -> list[str]:
    """The resident's cell and its neighbours."""
    return list(h3.grid_disk(snap(lat, lon, resolution), 1))


def check_cells(cover: Cover, cells: set[str], inside_depth, clearance, what: str) -> None:
    """``inside_depth(cell)``: per-vertex depth inside the area (m, positive = inside);
    ``clearance(cell)``: distance (m) from the cell polygon to the area (0 if they touch)."""
    for cell in sorted(cells):
        covered = cover.contains(cell)
        depths = inside_depth(cell)
        if max(depths) > SLACK_M:
            kind = "wholly inside" if min(depths) > SLACK_M else "partly inside"
            assert covered, f"{what}: cell {cell} is {kind} (vertex depths {np.round(depths, 2)} m) but not covered"
            continue
        gap = clearance(cell)
        if gap > SLACK_M:
            assert not covered, f"{what}: cell {cell} is {gap:.2f} m clear of the area but covered"


def assert_cover_matches(area, residents: list[tuple[float, float]], depths, clearance, what: str) -> None:
    """At every resolution: each resident clearly inside has their cell covered, and every
    cell around a resident is covered or not as ``check_cells`` demands.
    ``depths(lonlats)``: depth inside the area (m) of each point."""
    for resolution in RESOLUTIONS:
        cover = cover_area(area, resolution)
        cells: set[str] = set()
        for r_lat, r_lon in residents:
            depth = depths([(r_lon, r_lat)])[0]
            if depth > SLACK_M:
                assert cover.contains(snap(r_lat, r_lon, resolution)), (
                    f"{what}: resident {depth:.2f} m inside at res {resolution} is not covered"
                )
            cells.update(cells_to_check(r_lat, r_lon, resolution))
        check_cells(cover, cells, lambda c: depths(cell_vertices(c)), clearance, f"{what}, res {resolution}")


# ---------------------------------------------------------------- circles


@PROPERTY_SETTINGS
@given(lat=uk_lat, lon=uk_lon, radius_m=radius, square=square_points, edge=edge_points)
def test_circle_cover_matches_geodesic_reference(lat, lon, radius_m, square, edge) -> None:
    area = CircleArea(lat, lon, radius_m)
    local = Local(lat, lon)

    # Residents: a square of half-side 1.3 r, plus points within 2 m of the circle.
    residents = [local.to_latlon(1.3 * radius_m * u, 1.3 * radius_m * v) for u, v in square]
    for where, offset in edge:
        end_lon, end_lat, _ = GEOD.fwd(lon, lat, 360.0 * where, radius_m + offset)
        residents.append((end_lat, end_lon))

    def depth_of_points(lonlats: list[tuple[float, float]]) -> np.ndarray:
        lons = [p[0] for p in lonlats]
        lats = [p[1] for p in lonlats]
        _, _, dist = GEOD.inv([lon] * len(lons), [lat] * len(lats), lons, lats)
        return radius_m - np.asarray(dist)

    def clearance(cell: str) -> float:
        return Point(0.0, 0.0).distance(Polygon(local.to_xy(cell_vertices(cell)))) - radius_m

    assert_cover_matches(area, residents, depth_of_points, clearance, f"circle r={radius_m} m at ({lat}, {lon})")


# ---------------------------------------------------------------- streets

segment = st.tuples(bearing, st.floats(min_value=20.0, max_value=800.0))


@PROPERTY_SETTINGS
@given(
    lat=uk_lat,
    lon=uk_lon,
    segments=st.lists(segment, min_size=1, max_size=4),
    buffer_m=st.one_of(st.floats(min_value=25.0, max_value=100.0), st.sampled_from([25.0, 100.0])),
    square=square_points,
    edge=edge_points,
)
def test_street_cover_matches_metric_reference(lat, lon, segments, buffer_m, square, edge) -> None:
    lonlats = [(lon, lat)]
    for azimuth, length in segments:
        next_lon, next_lat, _ = GEOD.fwd(*lonlats[-1], azimuth, length)
        lonlats.append((next_lon, next_lat))
    area = StreetArea("Test Street", LineString(lonlats), buffer_m)

    local = Local(lat, lon)
    line_xy = LineString(local.to_xy(lonlats))
    minx, miny, maxx, maxy = line_xy.buffer(buffer_m).bounds
    cx, cy, half = (minx + maxx) / 2, (miny + maxy) / 2, 1.3 * max(maxx - minx, maxy - miny) / 2

    residents = [local.to_latlon(cx + half * u, cy + half * v) for u, v in square]
    # Points right at the edge of the band: along the line, pushed out across it.
    for where, offset in edge:
        along = line_xy.interpolate(where, normalized=True)
        nearby = line_xy.interpolate(min(line_xy.length, where * line_xy.length + 0.01))
        dx, dy = nearby.x - along.x, nearby.y - along.y
        norm = math.hypot(dx, dy) or 1.0
        side = 1.0 if offset >= 0 else -1.0
        distance = buffer_m + offset
        residents.append(local.to_latlon(along.x - side * dy / norm * distance, along.y + side * dx / norm * distance))
    # ... and beyond the ends, where the band is rounded.
    for end in (0, -1):
        ex, ey = line_xy.coords[end]
        for where, offset in edge[:3]:
            angle = 2 * math.pi * where
            residents.append(
                local.to_latlon(ex + (buffer_m + offset) * math.cos(angle), ey + (buffer_m + offset) * math.sin(angle))
            )

    def depths(lonlats_: list[tuple[float, float]]) -> np.ndarray:
        return np.array([buffer_m - line_xy.distance(Point(xy)) for xy in local.to_xy(lonlats_)])

    def clearance(cell: str) -> float:
        return Polygon(local.to_xy(cell_vertices(cell))).distance(line_xy) - buffer_m

    assert_cover_matches(area, residents, depths, clearance, f"street {lonlats} ±{buffer_m} m")


# ---------------------------------------------------------------- polygons


@PROPERTY_SETTINGS
@given(
    lat=uk_lat,
    lon=uk_lon,
    spokes=st.lists(st.tuples(fraction, st.floats(min_value=150.0, max_value=1500.0)), min_size=3, max_size=9),
    square=square_points,
    edge=edge_points,
)
def test_polygon_cover_matches_metric_reference(lat, lon, spokes, square, edge) -> None:
    # A star-shaped (so simple, often concave) polygon: spoke i at an angle within
    # its own sector of the circle, at its own distance from the centre.
    n = len(spokes)
    local = Local(lat, lon)
    ring_xy = [
        (r * math.cos(2 * math.pi * (i + 0.8 * jitter) / n), r * math.sin(2 * math.pi * (i + 0.8 * jitter) / n))
        for i, (jitter, r) in enumerate(spokes)
    ]
    ring_latlon = [local.to_latlon(x, y) for x, y in ring_xy]
    polygon_ll = Polygon([(p_lon, p_lat) for p_lat, p_lon in ring_latlon])
    assert polygon_ll.is_valid, polygon_ll.wkt
    area = PolygonArea("Test Area", polygon_ll)
    polygon_xy = Polygon(local.to_xy(list(polygon_ll.exterior.coords)))

    minx, miny, maxx, maxy = polygon_xy.bounds
    cx, cy, half = (minx + maxx) / 2, (miny + maxy) / 2, 1.3 * max(maxx - minx, maxy - miny) / 2
    residents = [local.to_latlon(cx + half * u, cy + half * v) for u, v in square]
    boundary = polygon_xy.exterior
    for where, offset in edge:
        at = boundary.interpolate(where, normalized=True)
        # Push the point along the ray from the centre, so it lands either side of the edge.
        norm = math.hypot(at.x, at.y) or 1.0
        residents.append(local.to_latlon(at.x + at.x / norm * offset, at.y + at.y / norm * offset))

    def depths(lonlats_: list[tuple[float, float]]) -> np.ndarray:
        out = []
        for xy in local.to_xy(lonlats_):
            point = Point(xy)
            d = boundary.distance(point)
            out.append(d if polygon_xy.contains(point) else -d)
        return np.array(out)

    def clearance(cell: str) -> float:
        return Polygon(local.to_xy(cell_vertices(cell))).distance(polygon_xy)

    assert_cover_matches(area, residents, depths, clearance, f"polygon {polygon_ll.wkt}")


# ---------------------------------------------------------------- deterministic

STAFFORD = (52.8067, -2.1174)


def _cells_near(lat: float, lon: float, resolution: int, metres: float) -> list[str]:
    """Every cell within ``metres`` of a point, and a ring more (brute force)."""
    edge = h3.average_hexagon_edge_length(resolution, unit="m")
    k = math.ceil(metres / (1.5 * edge)) + 3
    return list(h3.grid_disk(snap(lat, lon, resolution), k))


@pytest.mark.parametrize("radius_m", [50.0, 400.0, 3000.0])
@pytest.mark.parametrize("resolution", [10, 11])
def test_ranges_are_sorted_disjoint_and_hold_exactly_the_covered_cells(radius_m: float, resolution: int) -> None:
    area = CircleArea(*STAFFORD, radius_m)
    cover = cover_area(area, resolution)
    assert cover.resolution == resolution
    assert cover.ranges, "a circle always covers something"
    for lo, hi in cover.ranges:
        assert lo <= hi
        assert h3.is_valid_cell(h3.int_to_str(lo)) and h3.is_valid_cell(h3.int_to_str(hi))
        assert h3.get_resolution(h3.int_to_str(lo)) == h3.get_resolution(h3.int_to_str(hi)) == resolution
    for (_, prev_hi), (lo, _) in zip(cover.ranges, cover.ranges[1:], strict=False):
        assert prev_hi + 1 < lo, "ranges must be sorted, non-overlapping and not merely adjacent"

    # Brute force over every cell near the circle: the ranges hold exactly cell_count
    # real cells, each overlapping the outline, and nothing but those.
    outline = area.outline()
    inside = [c for c in _cells_near(*STAFFORD, resolution, radius_m + 200) if cover.contains(c)]
    assert len(inside) == cover.cell_count
    for cell in inside:
        assert shapely.intersects(Polygon(cell_vertices(cell)), outline), (
            f"{cell} covered but does not touch the circle"
        )


def test_three_km_circle_at_res_10_has_a_sane_cell_count() -> None:
    cover = cover_area(CircleArea(*STAFFORD, 3000.0), 10)
    cell_m2 = h3.cell_area(snap(*STAFFORD, 10), unit="m^2")
    disc = math.pi * 3000.0**2
    ring = 2 * math.pi * 3000.0 * 2 * h3.average_hexagon_edge_length(10, unit="m")  # at most one cell across
    assert disc / cell_m2 * 0.97 <= cover.cell_count <= (disc + ring) / cell_m2 * 1.03, cover.cell_count
    # compacted: far fewer ranges than cells
    assert len(cover.ranges) < cover.cell_count / 4


@pytest.mark.parametrize("resolution", range(7, 13))
@pytest.mark.parametrize("where", [STAFFORD, (50.07, -5.7), (57.9, 1.69), (51.5007, -0.1246)])
def test_smallest_circle_covers_the_cell_of_its_centre(resolution: int, where: tuple[float, float]) -> None:
    cover = cover_area(CircleArea(*where, MIN_RADIUS_M), resolution)
    centre_cell = snap(*where, resolution)
    assert cover.contains(centre_cell)
    # no more cells than fit in a disc one cell wider all round
    edge = h3.average_hexagon_edge_length(resolution, unit="m")
    bound = math.pi * (MIN_RADIUS_M + 2 * edge) ** 2 / (0.9 * h3.cell_area(centre_cell, unit="m^2"))
    assert 1 <= cover.cell_count <= max(7, bound), (cover.cell_count, bound)


def test_a_far_away_cell_is_not_covered() -> None:
    cover = cover_area(CircleArea(*STAFFORD, MAX_RADIUS_M), 10)
    assert not cover.contains(snap(STAFFORD[0] + 0.05, STAFFORD[1], 10))  # ~5.6 km north
    assert not cover.contains(snap(51.5007, -0.1246, 10))  # London
