"""Bad geographic input is refused with ``InvalidInput`` naming the field; good input round-trips."""

from __future__ import annotations

import json
import math

import pytest
from pyproj import Geod
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Polygon, mapping

from core.errors import InvalidInput
from core.geo.areas import (
    MAX_POLYGON_AREA_KM2,
    MAX_RADIUS_M,
    MAX_STREET_LENGTH_M,
    MIN_RADIUS_M,
    CircleArea,
    PolygonArea,
    StreetArea,
    area_from_dict,
    polygon_from_text,
)
from core.geo.coords import check_lat_lon, format_distance, parse_distance, parse_lat_lon

GEOD = Geod(ellps="WGS84")
NAN, INF = float("nan"), float("inf")
STAFFORD = (52.8067, -2.1174)  # lat, lon


def field_of(excinfo: pytest.ExceptionInfo[InvalidInput]) -> str:
    errors = excinfo.value.errors
    assert len(errors) == 1, errors
    (field,) = errors
    assert errors[field], "the problem must be described"
    assert str(excinfo.value).startswith(f"{field}: ")
    return field


def box(lat: float, lon: float, half_m: float) -> Polygon:
    """A square of side 2 × half_m around (lat, lon), in lon/lat."""
    north = GEOD.fwd(lon, lat, 0, half_m)[1]
    south = GEOD.fwd(lon, lat, 180, half_m)[1]
    east = GEOD.fwd(lon, lat, 90, half_m)[0]
    west = GEOD.fwd(lon, lat, 270, half_m)[0]
    return Polygon([(west, south), (east, south), (east, north), (west, north)])


def street_line(lat: float, lon: float, length_m: float, azimuth: float = 60.0) -> LineString:
    end_lon, end_lat, _ = GEOD.fwd(lon, lat, azimuth, length_m)
    return LineString([(lon, lat), (end_lon, end_lat)])


# ---------------------------------------------------------------- coordinates

BAD_LAT_LON = [
    pytest.param(NAN, 0.0, id="lat-nan"),
    pytest.param(0.0, NAN, id="lon-nan"),
    pytest.param(INF, 0.0, id="lat-inf"),
    pytest.param(-INF, 0.0, id="lat-minus-inf"),
    pytest.param(0.0, INF, id="lon-inf"),
    pytest.param(0.0, -INF, id="lon-minus-inf"),
    pytest.param(90.000001, 0.0, id="lat-above-90"),
    pytest.param(-90.5, 0.0, id="lat-below-90"),
    pytest.param(0.0, 180.000001, id="lon-above-180"),
    pytest.param(0.0, -181.0, id="lon-below-180"),
    pytest.param("north", 0.0, id="lat-text"),
    pytest.param(None, 0.0, id="lat-none"),
]


@pytest.mark.parametrize(("lat", "lon"), BAD_LAT_LON)
def test_check_lat_lon_refuses_and_names_the_field(lat, lon) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        check_lat_lon(lat, lon, "home")
    assert field_of(excinfo) == "home"


def test_check_lat_lon_default_field_and_limits() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        check_lat_lon(NAN, NAN)
    assert field_of(excinfo) == "location"
    assert check_lat_lon(90, -180) == (90.0, -180.0)
    assert check_lat_lon(-90.0, 180.0) == (-90.0, 180.0)
    assert check_lat_lon("52.8", "-2.1") == (52.8, -2.1)
    assert all(type(v) is float for v in check_lat_lon(52, -2))


@pytest.mark.parametrize(
    "text",
    [
        "nan,0",
        "0,nan",
        "inf,0",
        "0,-inf",
        "1e400,0",
        "91,0",
        "-90.1,0",
        "0,180.5",
        "0,-200",
        "52.8",
        "52.8,-2.1,7",
        ",",
        "52.8,",
        ",-2.1",
        "52.8 -2.1",
        "abc,def",
        "52.8,x",
        "",
    ],
)
def test_parse_lat_lon_refuses_and_names_the_field(text: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        parse_lat_lon(text, "at")
    assert field_of(excinfo) == "at"


def test_parse_lat_lon_reads_what_people_type() -> None:
    assert parse_lat_lon("52.8067,-2.1174") == (52.8067, -2.1174)
    assert parse_lat_lon("  52.8067 ,  -2.1174 ") == (52.8067, -2.1174)
    assert parse_lat_lon("52.8067; -2.1174") == (52.8067, -2.1174)
    with pytest.raises(InvalidInput) as excinfo:
        parse_lat_lon("x")
    assert field_of(excinfo) == "at"  # the default field


# ---------------------------------------------------------------- distances


@pytest.mark.parametrize(
    ("text", "metres"),
    [
        ("500m", 500.0),
        ("2km", 2000.0),
        ("2 km", 2000.0),
        ("750", 750.0),
        ("1.5km", 1500.0),
        (" 50 M ", 50.0),
        ("3KM", 3000.0),
        ("250 metres", 250.0),
        ("250 meters", 250.0),
        ("1 kilometre", 1000.0),
        ("0.75 kilometers", 750.0),
    ],
)
def test_parse_distance(text: str, metres: float) -> None:
    assert parse_distance(text) == pytest.approx(metres)


@pytest.mark.parametrize(
    "text", ["abc", "-5m", "", "   ", "5 miles", "km", "2km 500m", "1,5km", "1e3", "inf", "nan", "+5m"]
)
def test_parse_distance_refuses_and_names_the_field(text: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        parse_distance(text)
    assert field_of(excinfo) == "radius"
    with pytest.raises(InvalidInput) as excinfo:
        parse_distance(text, "buffer")
    assert field_of(excinfo) == "buffer"


@pytest.mark.parametrize(
    ("metres", "text"),
    [
        (0, "0 m"),
        (50, "50 m"),
        (49.6, "50 m"),
        (500, "500 m"),
        (999.4, "999 m"),
        (999.6, "1 km"),
        (1000, "1 km"),
        (1500, "1.5 km"),
        (2500, "2.5 km"),
        (2999.9, "3 km"),
        (3000, "3 km"),
        (6000, "6 km"),
        (12345, "12.3 km"),
    ],
)
def test_format_distance(metres: float, text: str) -> None:
    assert format_distance(metres) == text


@pytest.mark.parametrize("metres", [50, 120, 999, 1000, 1500, 3000])
def test_format_distance_reads_back(metres: float) -> None:
    assert parse_distance(format_distance(metres)) == pytest.approx(metres)


# ---------------------------------------------------------------- circles


@pytest.mark.parametrize(
    ("lat", "lon", "radius_m", "field"),
    [
        pytest.param(NAN, -2.1, 500.0, "location", id="lat-nan"),
        pytest.param(52.8, INF, 500.0, "location", id="lon-inf"),
        pytest.param(-INF, -2.1, 500.0, "location", id="lat-minus-inf"),
        pytest.param(95.0, -2.1, 500.0, "location", id="lat-range"),
        pytest.param(52.8, 200.0, 500.0, "location", id="lon-range"),
        pytest.param(52.8, -2.1, 49.0, "radius", id="radius-49"),
        pytest.param(52.8, -2.1, 49.999, "radius", id="radius-just-under"),
        pytest.param(52.8, -2.1, 3001.0, "radius", id="radius-3001"),
        pytest.param(52.8, -2.1, 3000.001, "radius", id="radius-just-over"),
        pytest.param(52.8, -2.1, NAN, "radius", id="radius-nan"),
        pytest.param(52.8, -2.1, INF, "radius", id="radius-inf"),
        pytest.param(52.8, -2.1, -500.0, "radius", id="radius-negative"),
        pytest.param(52.8, -2.1, 0.0, "radius", id="radius-zero"),
    ],
)
def test_circle_refuses_and_names_the_field(lat: float, lon: float, radius_m: float, field: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        CircleArea(lat, lon, radius_m)
    assert field_of(excinfo) == field


def test_circle_radius_message_gives_the_limits() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        CircleArea(*STAFFORD, 3001.0)
    assert "50 m" in excinfo.value.errors["radius"] and "3 km" in excinfo.value.errors["radius"]


@pytest.mark.parametrize("radius_m", [MIN_RADIUS_M, 1234.5, MAX_RADIUS_M])
def test_circle_limits_are_inclusive(radius_m: float) -> None:
    assert CircleArea(*STAFFORD, radius_m).radius_m == radius_m


def test_circle_outline_contains_the_circle_and_little_more() -> None:
    circle = CircleArea(*STAFFORD, 3000.0)
    outline = circle.outline()
    lat, lon = STAFFORD
    for azimuth in range(0, 360, 7):
        edge_lon, edge_lat, _ = GEOD.fwd(lon, lat, azimuth, 2999.9)
        assert outline.covers(LineString([(lon, lat), (edge_lon, edge_lat)])), azimuth
    for vlon, vlat in outline.exterior.coords:
        _, _, dist = GEOD.inv(lon, lat, vlon, vlat)
        assert 3000.0 <= dist <= 3000.0 * 1.0001 + 0.01


# ---------------------------------------------------------------- streets


@pytest.mark.parametrize("buffer_m", [24.9, 100.1, 0.0, -50.0, NAN, INF])
def test_street_buffer_outside_limits(buffer_m: float) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        StreetArea("Eastgate Street", street_line(*STAFFORD, 300), buffer_m)
    assert field_of(excinfo) == "buffer"


@pytest.mark.parametrize("buffer_m", [25.0, 50.0, 100.0])
def test_street_buffer_limits_are_inclusive(buffer_m: float) -> None:
    assert StreetArea("Eastgate Street", street_line(*STAFFORD, 300), buffer_m).buffer_m == buffer_m


def test_too_long_street() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        StreetArea("The A34", street_line(*STAFFORD, MAX_STREET_LENGTH_M + 50), 50.0)
    assert field_of(excinfo) == "street"
    assert "long" in excinfo.value.errors["street"]
    # just under the limit is fine, and measured in metres on the ground
    street = StreetArea("The A34", street_line(*STAFFORD, MAX_STREET_LENGTH_M - 50), 50.0)
    assert street.length_m() == pytest.approx(MAX_STREET_LENGTH_M - 50, abs=1.0)


def test_too_long_street_made_of_pieces() -> None:
    lat, lon = STAFFORD
    pieces = [street_line(lat, lon, 3200, 0), street_line(lat, lon, 3200, 180)]
    with pytest.raises(InvalidInput) as excinfo:
        StreetArea("Two halves", MultiLineString(pieces), 50.0)
    assert field_of(excinfo) == "street"


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(LineString(), id="empty"),
        pytest.param(Polygon([(0, 0), (1, 0), (1, 1)]), id="polygon"),
        pytest.param("Eastgate Street", id="text"),
        pytest.param(LineString([(-2.1, 52.8), (-2.1, 95.0)]), id="lat-out-of-range"),
        pytest.param("nan", id="nan"),
    ],
)
def test_street_without_a_usable_line(line) -> None:
    if line == "nan":
        with pytest.warns(RuntimeWarning):  # shapely warns when it is handed NaN
            line = LineString([(-2.1, 52.8), (NAN, 52.8)])
    with pytest.raises(InvalidInput) as excinfo:
        StreetArea("Eastgate Street", line, 50.0)
    assert field_of(excinfo) == "street"


# ---------------------------------------------------------------- polygons


def test_self_intersecting_polygon() -> None:
    lat, lon = STAFFORD
    bowtie = Polygon([(lon, lat), (lon + 0.01, lat + 0.01), (lon + 0.01, lat), (lon, lat + 0.01)])
    with pytest.raises(InvalidInput) as excinfo:
        PolygonArea("Bow tie", bowtie)
    assert field_of(excinfo) == "area"
    assert "Bow tie" in excinfo.value.errors["area"] and "crosses itself" in excinfo.value.errors["area"]


def test_too_large_polygon() -> None:
    side_m = math.sqrt(MAX_POLYGON_AREA_KM2 * 1.05) * 1000.0
    with pytest.raises(InvalidInput) as excinfo:
        PolygonArea("Most of the county", box(*STAFFORD, side_m / 2))
    assert field_of(excinfo) == "area"
    assert "km²" in excinfo.value.errors["area"]
    # just under the limit passes, and the area is measured in km² on the ground
    side_m = math.sqrt(MAX_POLYGON_AREA_KM2 * 0.95) * 1000.0
    area = PolygonArea("Nearly the county", box(*STAFFORD, side_m / 2))
    assert area.area_km2() == pytest.approx(MAX_POLYGON_AREA_KM2 * 0.95, rel=0.002)


@pytest.mark.parametrize(
    "polygon",
    [
        pytest.param(Polygon(), id="empty"),
        pytest.param(LineString([(0, 0), (1, 1)]), id="line"),
        pytest.param(None, id="none"),
        pytest.param(Polygon([(0, 0), (0, 1), (200, 1), (0, 0)]), id="lon-out-of-range"),
        pytest.param("nan", id="nan"),
    ],
)
def test_polygon_that_is_not_a_usable_polygon(polygon) -> None:
    if polygon == "nan":
        with pytest.warns(RuntimeWarning):  # shapely warns when it is handed NaN
            polygon = Polygon([(0, 0), (0, 1), (NAN, 1), (0, 0)])
    with pytest.raises(InvalidInput) as excinfo:
        PolygonArea("Somewhere", polygon)
    assert field_of(excinfo) == "area"


# ---------------------------------------------------------------- round trips


def _round_trip_cases():
    lat, lon = STAFFORD
    hole = box(lat, lon, 200).exterior.coords
    with_hole = Polygon(box(lat, lon, 1000).exterior.coords, [list(hole)[::-1]])
    two = MultiPolygon([box(lat, lon, 300), box(lat + 0.02, lon, 300)])
    return [
        pytest.param(CircleArea(lat, lon, 500.0), id="circle"),
        pytest.param(CircleArea(lat, lon, 50.0, label="Stafford station"), id="circle-labelled"),
        pytest.param(StreetArea("Eastgate Street", street_line(lat, lon, 400), 35.0), id="street"),
        pytest.param(
            StreetArea("Two bits", MultiLineString([street_line(lat, lon, 200), street_line(lat + 0.01, lon, 200)])),
            id="street-multi",
        ),
        pytest.param(PolygonArea("Town centre", box(lat, lon, 500)), id="polygon"),
        pytest.param(PolygonArea("Ring", with_hole), id="polygon-hole"),
        pytest.param(PolygonArea("Two estates", two), id="multipolygon"),
    ]


@pytest.mark.parametrize("area", _round_trip_cases())
def test_area_round_trips_through_a_dict_and_json(area) -> None:
    data = area.to_dict()
    assert data["kind"] == area.kind
    again = area_from_dict(data)
    assert type(again) is type(area)
    assert again == area
    assert again.outline().equals(area.outline())
    from_json = area_from_dict(json.loads(json.dumps(data)))
    assert from_json == area
    assert from_json.describe() == area.describe()


@pytest.mark.parametrize("data", [{"kind": "hexagon"}, {}, {"kind": None}])
def test_area_from_dict_unknown_kind(data: dict) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        area_from_dict(data)
    assert field_of(excinfo) == "area"


def test_area_from_dict_validates_again() -> None:
    data = CircleArea(*STAFFORD, 500.0).to_dict() | {"radius_m": 5000.0}
    with pytest.raises(InvalidInput) as excinfo:
        area_from_dict(data)
    assert field_of(excinfo) == "radius"


# ---------------------------------------------------------------- wording


def test_describe_wording() -> None:
    lat, lon = STAFFORD
    assert CircleArea(lat, lon, 500.0).describe() == "within 500 m of 52.80670, -2.11740"
    assert CircleArea(lat, lon, 1500.0, label="Stafford station").describe() == "within 1.5 km of Stafford station"
    assert CircleArea(lat, lon, 3000.0, label="the Market Square").describe() == "within 3 km of the Market Square"
    assert (
        StreetArea("Eastgate Street", street_line(lat, lon, 300), 25.0).describe()
        == "Eastgate Street and 25 m either side"
    )
    assert (
        StreetArea("Eastgate Street", street_line(lat, lon, 300)).describe() == "Eastgate Street and 50 m either side"
    )
    assert PolygonArea("Rowley Park", box(lat, lon, 300)).describe() == "the Rowley Park area"


# ---------------------------------------------------------------- polygon_from_text


def test_polygon_from_wkt() -> None:
    square = box(*STAFFORD, 400)
    area = polygon_from_text("Drawn", square.wkt)
    assert isinstance(area, PolygonArea)
    assert area.name == "Drawn"
    assert area.polygon.equals(square)
    assert polygon_from_text("Drawn", f"\n  {square.wkt}  \n").polygon.equals(square)


def test_polygon_from_geojson_geometry_and_feature() -> None:
    square = box(*STAFFORD, 400)
    geometry = json.dumps(mapping(square))
    feature = json.dumps({"type": "Feature", "properties": {"name": "x"}, "geometry": mapping(square)})
    assert polygon_from_text("G", geometry).polygon.equals(square)
    assert polygon_from_text("F", feature).polygon.equals(square)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        "POLYGON ((",
        "{",
        "[1, 2]",
        '{"a": 1}',
        '{"type": "Feature", "geometry": null}',
        '{"type": "Polygon", "coordinates": "x"}',
        "POINT (-2.1 52.8)",
        '{"type": "LineString", "coordinates": [[-2.1, 52.8], [-2.0, 52.9]]}',
        "POLYGON ((-2.1 52.8, -2.09 52.81, -2.09 52.8, -2.1 52.81, -2.1 52.8))",  # crosses itself
        "POLYGON ((-2.1 52.8, -2.1 95, -2.0 52.8, -2.1 52.8))",  # latitude out of range
        "POLYGON ((-3 52, 0 52, 0 54, -3 54, -3 52))",  # far too big
    ],
)
def test_polygon_from_text_refuses_garbage(text: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        polygon_from_text("Drawn", text)
    assert field_of(excinfo) == "area"
