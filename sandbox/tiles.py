"""A local stand-in for an XYZ raster tile server: ``GET /{z}/{x}/{y}.png``, 256-pixel PNG tiles in Web Mercator.

The tiles are drawn from the Nominatim stand-in's gazetteer (its streets with
their names, its towns) and a few more features of the same Staffordshire-like
town that a street map needs and a geocoder does not (the river, the railway
and its station, a park, the main roads and some residential streets), so the
demo and the tests show an officer a map with no internet. Everything is drawn
in world pixels and clipped to the tile, so a road or a name crossing a tile's
edge continues on the next tile.

Tests can make it fail with a status, answer with something that is not an
image, and read back every request with its User-Agent.

    with TileStandIn() as tiles:
        settings = Settings(map_tiles=tiles.template, map_tiles_attribution=ATTRIBUTION)

In the one-port sandbox it is mounted at ``/tiles`` (``sandbox.service``).
"""

from __future__ import annotations

import asyncio
import io
import itertools
import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from sandbox.faults import FaultInjector
from sandbox.nominatim import Place, stafford_gazetteer
from sandbox.server import BackgroundServer, ServedStandIn, route_path

TILE = 256
MAX_ZOOM = 19
ATTRIBUTION = "Sandbox map: Lookout stand-in tiles (not a real survey)"

LAND = (242, 239, 233)
WATER = (170, 211, 223)
PARK = (200, 230, 190)
CASING = (190, 180, 170)
RAIL = (120, 120, 125)
TEXT = (50, 50, 60)
HALO = (255, 255, 255)
# OSM-like road colours and widths on the ground (metres): main roads warm, streets white, pedestrian grey.
ROAD_STYLES: dict[str, tuple[tuple[int, int, int], float]] = {
    "primary": ((252, 214, 164), 14.0),
    "secondary": ((247, 250, 191), 12.0),
    "tertiary": ((255, 255, 255), 11.0),
    "residential": ((255, 255, 255), 8.0),
    "pedestrian": ((221, 221, 232), 8.0),
}

Line = tuple[tuple[float, float], ...]  # (lon, lat) pairs


@dataclass(frozen=True)
class Road:
    name: str
    kind: str
    line: Line


# What the map shows beyond the gazetteer, laid out around its streets (lon, lat).
MAP_ROADS: tuple[Road, ...] = (
    Road("Gaolgate Street", "pedestrian", ((-2.11745, 52.80700), (-2.11725, 52.80850))),
    Road("Foregate Street", "secondary", ((-2.11725, 52.80850), (-2.11700, 52.81250))),
    Road("Stone Road", "primary", ((-2.11700, 52.81250), (-2.11950, 52.82000), (-2.12300, 52.83000))),
    Road("Sandon Road", "secondary", ((-2.11710, 52.81050), (-2.10500, 52.82000), (-2.09500, 52.83000))),
    Road("Bridge Street", "tertiary", ((-2.11795, 52.80470), (-2.11790, 52.80300))),
    Road("Lichfield Road", "primary", ((-2.11790, 52.80300), (-2.10500, 52.79700), (-2.09200, 52.79150))),
    Road("Wolverhampton Road", "primary", ((-2.11790, 52.80300), (-2.11950, 52.79500), (-2.12200, 52.78400))),
    Road("Newport Road", "secondary", ((-2.11795, 52.80470), (-2.12020, 52.80470))),
    Road("Newport Road", "secondary", ((-2.12310, 52.80360), (-2.13200, 52.80050), (-2.14600, 52.79700))),
    Road("Tixall Road", "secondary", ((-2.11140, 52.80738), (-2.10000, 52.80900), (-2.08500, 52.81200))),
    Road("Mill Street", "tertiary", ((-2.11790, 52.80560), (-2.11450, 52.80520), (-2.11200, 52.80480))),
    Road("Martin Street", "residential", ((-2.11735, 52.80780), (-2.11450, 52.80840), (-2.11200, 52.80870))),
    Road("North Walls", "tertiary", ((-2.11715, 52.80950), (-2.11300, 52.80950), (-2.11000, 52.80900))),
    Road("Corporation Street", "residential", ((-2.11705, 52.81120), (-2.11200, 52.81150), (-2.10800, 52.81100))),
    Road("Marston Road", "residential", ((-2.11000, 52.80900), (-2.10900, 52.81400), (-2.10800, 52.81900))),
    Road("Browning Street", "residential", ((-2.12000, 52.81400), (-2.11700, 52.81400))),
    Road("Rowley Avenue", "residential", ((-2.12500, 52.80100), (-2.12000, 52.79900), (-2.11900, 52.79700))),
    Road("Crooked Bridge Road", "residential", ((-2.11450, 52.80520), (-2.11400, 52.80300), (-2.11350, 52.80050))),
    Road("Riverway", "tertiary", ((-2.11200, 52.80480), (-2.10700, 52.80380), (-2.10300, 52.80250))),
    Road("Peel Terrace", "residential", ((-2.10500, 52.79700), (-2.10300, 52.80000), (-2.10300, 52.80250))),
    Road("Kingsway", "residential", ((-2.11950, 52.79500), (-2.11300, 52.79450), (-2.10700, 52.79500))),
    Road("Oxford Gardens", "residential", ((-2.12700, 52.80800), (-2.12300, 52.81000), (-2.12000, 52.81400))),
)
RIVER = (
    "River Sow",
    (
        (-2.14500, 52.80300),
        (-2.13000, 52.80400),
        (-2.12200, 52.80330),
        (-2.11790, 52.80330),
        (-2.11000, 52.80180),
        (-2.10000, 52.80420),
        (-2.08500, 52.80800),
    ),
)
RAILWAY: Line = (
    (-2.12400, 52.78000),
    (-2.12300, 52.80000),
    (-2.12350, 52.80400),
    (-2.12600, 52.82000),
    (-2.13000, 52.84000),
)
STATION = ("Stafford station", (-2.12360, 52.80410))
PARKS: tuple[tuple[str, Line], ...] = (
    ("Victoria Park", ((-2.12230, 52.80520), (-2.11980, 52.80560), (-2.11900, 52.80380), (-2.12200, 52.80350))),
)


def world_px(lon: float, lat: float, zoom: int) -> tuple[float, float]:
    """Web Mercator pixels of the whole world at ``zoom``, as every XYZ tile server cuts them."""
    size = TILE * 2**zoom
    lat_r = math.radians(max(-85.0511, min(85.0511, lat)))
    return (lon + 180.0) / 360.0 * size, (
        1.0 - math.log(math.tan(lat_r) + 1.0 / math.cos(lat_r)) / math.pi
    ) / 2.0 * size


def _metres_per_px(lat: float, zoom: int) -> float:
    return 40_075_016.686 * math.cos(math.radians(lat)) / (TILE * 2**zoom)


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):
        return ImageFont.load_default()


def roads_of(places: Iterable[Place]) -> list[Road]:
    """The gazetteer's streets (ways with a line) as roads to draw, then the map's own."""
    found = []
    for place in places:
        geometry = place.geometry or {}
        if place.category == "highway" and geometry.get("type") == "LineString":
            kind = place.type if place.type in ROAD_STYLES else "residential"
            found.append(
                Road(place.name, kind, tuple((float(lon), float(lat)) for lon, lat, *_ in geometry["coordinates"]))
            )
    return [*found, *MAP_ROADS]


class _Painter:
    """Draws features in world pixels onto one tile (offset by the tile's corner, clipped by its edges)."""

    def __init__(self, z: int, x: int, y: int) -> None:
        self.z, self.left, self.top = z, x * TILE, y * TILE
        self.image = Image.new("RGB", (TILE, TILE), LAND)
        self.draw = ImageDraw.Draw(self.image)
        self.m_per_px = _metres_per_px(52.8, z)  # one width per zoom: enough for a town's span

    def px(self, line: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
        return [(px - self.left, py - self.top) for px, py in (world_px(lon, lat, self.z) for lon, lat in line)]

    def width(self, metres: float, least: float) -> int:
        return max(round(metres / self.m_per_px), round(least))

    def near(self, points: Sequence[tuple[float, float]], reach: float) -> bool:
        """Whether anything drawn from ``points`` may show on this tile (``reach``: pixels it extends)."""
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        return max(xs) >= -reach and min(xs) <= TILE + reach and max(ys) >= -reach and min(ys) <= TILE + reach

    def label(self, text: str, at: tuple[float, float], angle: float, size: int) -> None:
        """``text`` centred at ``at``, turned to ``angle`` degrees (kept readable, never upside down), on a halo."""
        if angle > 90:
            angle -= 180
        elif angle < -90:
            angle += 180
        font = _font(size)
        width = math.ceil(self.draw.textlength(text, font=font)) + 8
        stamp = Image.new("RGBA", (width, size + 10), (0, 0, 0, 0))
        ImageDraw.Draw(stamp).text((4, 3), text, fill=(*TEXT, 255), font=font, stroke_width=2, stroke_fill=(*HALO, 255))
        stamp = stamp.rotate(angle, expand=True, resample=Image.Resampling.BICUBIC)
        corner = (round(at[0] - stamp.width / 2), round(at[1] - stamp.height / 2))
        if -stamp.width < corner[0] < TILE and -stamp.height < corner[1] < TILE:
            self.image.paste(stamp, corner, stamp)


def _longest_leg(points: Sequence[tuple[float, float]]) -> tuple[tuple[float, float], float, float]:
    """The middle of a line's longest segment, its angle in degrees (counter-clockwise on screen) and its length."""
    legs = list(itertools.pairwise(points))
    (x0, y0), (x1, y1) = max(legs, key=lambda leg: math.dist(*leg))
    return ((x0 + x1) / 2, (y0 + y1) / 2), math.degrees(math.atan2(y0 - y1, x1 - x0)), math.dist((x0, y0), (x1, y1))


def draw_tile(z: int, x: int, y: int, places: Sequence[Place]) -> bytes:
    """One tile as PNG bytes."""
    paint = _Painter(z, x, y)
    draw = paint.draw
    for _, outline in PARKS:
        points = paint.px(outline)
        if paint.near(points, 0):
            draw.polygon(points, fill=PARK)
    river = paint.px(RIVER[1])
    if paint.near(river, 40):
        draw.line(river, fill=WATER, width=paint.width(18, 3), joint="curve")
    rail = paint.px(RAILWAY)
    if paint.near(rail, 10):
        draw.line(rail, fill=RAIL, width=max(2, paint.width(4, 2)), joint="curve")
    roads = roads_of(places)
    drawn = [(road, paint.px(road.line)) for road in roads]
    for casing in (True, False):  # every casing first, so crossing roads join cleanly
        for road, points in drawn:
            colour, metres = ROAD_STYLES[road.kind]
            width = paint.width(metres, 3 if road.kind in ("primary", "secondary") else 2)
            if paint.near(points, width + 4):
                draw.line(
                    points, fill=CASING if casing else colour, width=width + 2 if casing else width, joint="curve"
                )
    for name, outline in PARKS:
        centre = paint.px(outline)
        if z >= 15:
            middle = (sum(p[0] for p in centre) / len(centre), sum(p[1] for p in centre) / len(centre))
            paint.label(name, middle, 0, 12)
    if z >= 14:
        _label_line(paint, RIVER[0], river, 13)
        station = paint.px([STATION[1]])[0]
        draw.rectangle([(station[0] - 5, station[1] - 5), (station[0] + 5, station[1] + 5)], fill=RAIL)
        paint.label(STATION[0], (station[0], station[1] + 14), 0, 12)
    for road, points in drawn:
        if z >= 15 or (z >= 13 and road.kind in ("primary", "secondary")):
            _label_line(paint, road.name, points, 13 if z >= 16 else 12)
    for place in places:
        if place.category == "place" and place.type in ("town", "village") and z <= 15:
            paint.label(place.name, paint.px([(place.lon, place.lat)])[0], 0, 22 if z >= 12 else 16)
    out = io.BytesIO()
    paint.image.save(out, format="PNG")
    return out.getvalue()


def _label_line(paint: _Painter, name: str, points: Sequence[tuple[float, float]], size: int) -> None:
    """The name along the line's longest stretch, when the stretch is long enough to carry it."""
    if len(points) < 2 or not name:
        return
    middle, angle, length = _longest_leg(points)
    if length >= paint.draw.textlength(name, font=_font(size)) * 0.8:
        paint.label(name, middle, angle, size)


@dataclass(frozen=True)
class TileRequest:
    path: str
    user_agent: str


class TileStandIn(ServedStandIn):
    """The tile server stand-in: its Starlette ``app``, its faults, what it received, and a background server."""

    def __init__(self, places: Iterable[Place] | None = None, *, port: int = 0) -> None:
        self._places = tuple(stafford_gazetteer() if places is None else places)
        self._lock = threading.Lock()
        self._requests: list[TileRequest] = []
        self._fail_status: int | None = None
        self._garbage = False
        self.app = FaultInjector(Starlette(routes=[Route("/{z:int}/{x:int}/{y:int}.png", self._tile)]))
        self._server = BackgroundServer(self.app, "tile stand-in", port)

    @property
    def template(self) -> str:
        """``LOOKOUT_MAP_TILES`` for this stand-in."""
        return f"{self.base_url}/{{z}}/{{x}}/{{y}}.png"

    def fail_with(self, status: int | None) -> None:
        """Answer every tile with this HTTP status (None: draw tiles again)."""
        with self._lock:
            self._fail_status = status

    def answer_garbage(self, on: bool = True) -> None:
        """Answer 200 with bytes that are not an image (a misconfigured proxy's page)."""
        with self._lock:
            self._garbage = on

    @property
    def requests(self) -> list[TileRequest]:
        with self._lock:
            return list(self._requests)

    async def _tile(self, request: Request) -> Response:
        with self._lock:
            self._requests.append(TileRequest(route_path(request), request.headers.get("user-agent", "")))
            fail, garbage = self._fail_status, self._garbage
        if fail is not None:
            return PlainTextResponse("The tile stand-in was told to fail.", status_code=fail)
        if garbage:
            return Response(b"<html>Service temporarily unavailable</html>", media_type="image/png")
        z, x, y = (int(request.path_params[k]) for k in ("z", "x", "y"))
        if not 0 <= z <= MAX_ZOOM or not (0 <= x < 2**z and 0 <= y < 2**z):
            return PlainTextResponse("No such tile.", status_code=404)
        png = await asyncio.to_thread(draw_tile, z, x, y, self._places)  # tens of ms: not on the loop
        return Response(png, media_type="image/png", headers={"Cache-Control": "max-age=604800"})
