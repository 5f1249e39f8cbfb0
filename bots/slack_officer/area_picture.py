"""A picture of an alert's area for the officer to check: the outline over a street map, where the residents it
reaches live, the centre marked and named, a scale bar and the map's attribution.

The map is the force's raster tiles (``LOOKOUT_MAP_TILES``, fetched by
``bots.map_tiles``) in Web Mercator, as the tile server cuts them; the area
and the H3 cells that hold the recipients are drawn over it, see-through, so
the streets stay readable under them. Without tiles (none configured, or the
server failed) the same frame is drawn on a plain ground with a grid every
scale-bar length, the centre still named by its street, so the preview
always goes out. Each cell is shaded by how many recipients it holds, in
bands, never as numbers per cell.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from bots.map_tiles.client import Window
from bots.map_tiles.mercator import metres_per_px, world_px
from core.geo.areas import Area, CircleArea, PolygonArea, StreetArea
from core.geo.cells import cell_boundary
from core.geo.coords import format_distance

WIDTH, HEIGHT = 960, 720
MAP_TOP, MAP_BOTTOM = 56, 640  # the map sits between the title band and the legend band
MAP_HEIGHT = MAP_BOTTOM - MAP_TOP
MARGIN = 0.12  # of the area's extent, on every side
MIN_SPAN_M = 300.0
MAX_ZOOM = 18  # the closest zoom drawn: about 350 m across the picture in Britain
BACKGROUND = (246, 244, 238)
GRID = (226, 222, 212)
INK = (40, 40, 48)
MUTED = (110, 110, 120)
HALO = (255, 255, 255)
OUTLINE = (200, 30, 45)
AREA_FILL = (244, 214, 212)
AREA_ALPHA = 70  # of 255: the area is a tint over the map
CELL_ALPHA = 150  # the cells are stronger, and the street names still show through
STREET = (120, 20, 30)
# Recipients per cell → shade (light to dark blue); bands, so no single home stands out as a number.
BANDS: tuple[tuple[int, str, tuple[int, int, int]], ...] = (
    (1, "1-2", (198, 219, 239)),
    (3, "3-9", (133, 180, 217)),
    (10, "10-24", (66, 133, 196)),
    (25, "25+", (21, 81, 153)),
)
NO_TILES_NOTE = "No map tiles: drawn without a street map"
_NICE_LENGTHS_M = (10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000)


@dataclass(frozen=True)
class Basemap:
    """The street map under the picture's map band (``WIDTH`` × ``MAP_HEIGHT``) and the credit its licence asks for."""

    image: Image.Image
    attribution: str


@dataclass(frozen=True)
class Captions:
    """What the picture says in words: the title band, and the footer's count (the preview's, the same everywhere)."""

    title: str
    subtitle: str
    footer: str


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # a Pillow built without FreeType has only the bitmap font
        return ImageFont.load_default()


def _band(count: int) -> tuple[int, int, int]:
    colour = BANDS[0][2]
    for lowest, _, shade in BANDS:
        if count >= lowest:
            colour = shade
    return colour


def _polygons(geometry: BaseGeometry) -> list[Polygon]:
    if isinstance(geometry, Polygon):
        return [geometry]
    if isinstance(geometry, MultiPolygon):
        return list(geometry.geoms)
    return []


def _lines(geometry: BaseGeometry) -> list[LineString]:
    if isinstance(geometry, LineString):
        return [geometry]
    if isinstance(geometry, MultiLineString):
        return list(geometry.geoms)
    return []


def nice_scale_length(span_m: float) -> float:
    """A round length about a quarter of the map's width."""
    target = span_m / 4
    return max((n for n in _NICE_LENGTHS_M if n <= target), default=_NICE_LENGTHS_M[0])


class MapFrame:
    """Longitude and latitude → picture pixels, in Web Mercator at ``zoom`` (north up, same scale both ways)."""

    def __init__(self, centre_x0: float, centre_y0: float, lat: float, zoom: float) -> None:
        self.zoom = zoom
        factor = 2**zoom
        # Whole world pixels at the top left, so tiles land on whole pixels.
        self.left = round(centre_x0 * factor - WIDTH / 2)
        self.top = round(centre_y0 * factor - MAP_HEIGHT / 2)
        self.metres_per_px = metres_per_px(lat, zoom)
        self.span_m = WIDTH * self.metres_per_px

    @property
    def scale(self) -> float:
        """Pixels per metre."""
        return 1 / self.metres_per_px

    def px(self, lon: float, lat: float) -> tuple[float, float]:
        x, y = world_px(lat, lon, self.zoom)
        return x - self.left, y - self.top + MAP_TOP

    def ring(self, coords: Iterable[tuple[float, ...]]) -> list[tuple[float, float]]:
        return [self.px(c[0], c[1]) for c in coords]

    def window(self) -> Window:
        """The tiles' window under the map band (the zoom must be whole)."""
        return Window(int(self.zoom), self.left, self.top, WIDTH, MAP_HEIGHT)


def _cell_polygons(cells: Mapping[str, int]) -> list[tuple[Polygon, int]]:
    return [(Polygon([(c_lon, c_lat) for c_lat, c_lon in cell_boundary(cell)]), count) for cell, count in cells.items()]


def frame_for(area: Area, cells: Mapping[str, int], *, whole_zoom: bool) -> MapFrame:
    """The frame that shows the area and its recipients' cells with a margin; ``whole_zoom`` for a tile server's zooms
    (the area then fills between half and all of the picture)."""
    shapes = [area.outline(), *(shape for shape, _ in _cell_polygons(cells))]
    minx, miny = min(s.bounds[0] for s in shapes), min(s.bounds[1] for s in shapes)
    maxx, maxy = max(s.bounds[2] for s in shapes), max(s.bounds[3] for s in shapes)
    left, bottom = world_px(miny, minx, 0)
    right, top = world_px(maxy, maxx, 0)
    lat = (miny + maxy) / 2
    least = MIN_SPAN_M / metres_per_px(lat, 0)
    span_x, span_y = max(right - left, least) * (1 + 2 * MARGIN), max(bottom - top, least) * (1 + 2 * MARGIN)
    zoom = min(math.log2(min(WIDTH / span_x, MAP_HEIGHT / span_y)), MAX_ZOOM)
    if whole_zoom:
        zoom = math.floor(zoom)
    return MapFrame((left + right) / 2, (top + bottom) / 2, lat, max(zoom, 1))


def centre_name(area: Area) -> str:
    """What the centre is called on the picture: the words residents read, for a circle the street at its centre
    (looked up when the area was made: ``core.services.areas``), with or without a map under it."""
    if isinstance(area, CircleArea):
        return area.label or f"{area.lat:.5f}, {area.lon:.5f}"
    if isinstance(area, StreetArea | PolygonArea):
        return area.name
    return ""


def draw_area(
    area: Area, cells: Mapping[str, int], frame: MapFrame, captions: Captions, *, basemap: Basemap | None
) -> bytes:
    """The PNG: captions on top, the map (or a plain ground and grid), the area and its recipients' cells, the centre
    marked and named (by the street there, see ``centre_name``), scale bar, attribution and legend."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    scale_m = nice_scale_length(frame.span_m)
    if basemap is not None:
        image.paste(basemap.image, (0, MAP_TOP))
    else:
        _grid(ImageDraw.Draw(image), frame, scale_m)
    overlay = Image.new("RGBA", (WIDTH, HEIGHT), (0, 0, 0, 0))
    tint = ImageDraw.Draw(overlay)
    outline = area.outline()
    for polygon in _polygons(outline):
        tint.polygon(frame.ring(polygon.exterior.coords), fill=(*AREA_FILL, AREA_ALPHA))
        for hole in polygon.interiors:
            tint.polygon(frame.ring(hole.coords), fill=(0, 0, 0, 0))
    for shape, count in _cell_polygons(cells):
        tint.polygon(frame.ring(shape.exterior.coords), fill=(*_band(count), CELL_ALPHA), outline=(255, 255, 255, 160))
    image = Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")
    draw = ImageDraw.Draw(image)
    for polygon in _polygons(outline):
        draw.line(frame.ring(polygon.exterior.coords), fill=OUTLINE, width=3, joint="curve")
        for hole in polygon.interiors:
            draw.line(frame.ring(hole.coords), fill=OUTLINE, width=2)
    if isinstance(area, StreetArea):
        for line in _lines(area.line):
            draw.line(frame.ring(line.coords), fill=STREET, width=4, joint="curve")
    _centre(draw, frame, area)
    _title(draw, captions)
    _north_arrow(draw)
    _scale_bar(draw, frame, scale_m)
    _attribution(draw, basemap.attribution if basemap is not None else NO_TILES_NOTE)
    _legend(draw, captions.footer)
    info = PngInfo()
    info.add_text("Title", captions.title)
    info.add_text("Description", f"{captions.subtitle}\n{captions.footer}")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True, pnginfo=info)
    return out.getvalue()


def _centre(draw: ImageDraw.ImageDraw, frame: MapFrame, area: Area) -> None:
    """A pin at the area's centre (where the officer pointed), with its name beside it on a white halo."""
    lat, lon = area.centre
    x, y = frame.px(lon, lat)
    draw.ellipse([(x - 7, y - 7), (x + 7, y + 7)], fill=OUTLINE, outline=HALO, width=2)
    draw.ellipse([(x - 2, y - 2), (x + 2, y + 2)], fill=HALO)
    name = centre_name(area)[:60]
    if name:
        font = _font(16)
        width = draw.textlength(name, font=font)
        left = min(max(x + 12, 8), WIDTH - width - 8)
        draw.text((left, y - 24), name, fill=INK, font=font, stroke_width=3, stroke_fill=HALO)


def _grid(draw: ImageDraw.ImageDraw, frame: MapFrame, step_m: float) -> None:
    """Faint lines every scale-bar length, so distances can be read anywhere on the picture."""
    step_px = step_m * frame.scale
    x = (WIDTH / 2) % step_px
    while x <= WIDTH:
        draw.line([(x, MAP_TOP), (x, MAP_BOTTOM)], fill=GRID, width=1)
        x += step_px
    y = MAP_TOP + (MAP_HEIGHT / 2) % step_px
    while y <= MAP_BOTTOM:
        draw.line([(0, y), (WIDTH, y)], fill=GRID, width=1)
        y += step_px


def _title(draw: ImageDraw.ImageDraw, captions: Captions) -> None:
    draw.rectangle([(0, 0), (WIDTH, MAP_TOP)], fill=(255, 255, 255))
    draw.text((16, 8), captions.title[:90], fill=INK, font=_font(20))
    draw.text((16, 33), captions.subtitle[:130], fill=MUTED, font=_font(14))


def _north_arrow(draw: ImageDraw.ImageDraw) -> None:
    x, y = WIDTH - 36, MAP_TOP + 20
    draw.rectangle([(x - 16, y - 6), (x + 16, y + 46)], fill=(255, 255, 255))
    draw.polygon([(x, y), (x - 9, y + 24), (x, y + 18), (x + 9, y + 24)], fill=INK)
    draw.text((x - 5, y + 27), "N", fill=INK, font=_font(14))


def _scale_bar(draw: ImageDraw.ImageDraw, frame: MapFrame, length_m: float) -> None:
    left, base = 20, MAP_BOTTOM - 18
    right = left + length_m * frame.scale
    draw.rectangle([(left - 6, base - 24), (right + 60, base + 8)], fill=(255, 255, 255))
    draw.line([(left, base), (right, base)], fill=INK, width=3)
    for tick in (left, (left + right) / 2, right):
        draw.line([(tick, base - 6), (tick, base + 3)], fill=INK, width=2)
    draw.text((left, base - 22), "0", fill=INK, font=_font(13))
    draw.text((right - 8, base - 22), format_distance(length_m), fill=INK, font=_font(13))


def attribution_box(text: str) -> tuple[int, int, int, int]:
    """Where the attribution sits: the bottom right corner of the map band."""
    width = math.ceil(ImageDraw.Draw(Image.new("RGB", (1, 1))).textlength(text[:100], font=_font(12)))
    return WIDTH - width - 12, MAP_BOTTOM - 20, WIDTH, MAP_BOTTOM


def _attribution(draw: ImageDraw.ImageDraw, text: str) -> None:
    left, top, right, bottom = attribution_box(text)
    draw.rectangle([(left, top), (right, bottom)], fill=(255, 255, 255))
    draw.text((left + 6, top + 3), text[:100], fill=INK, font=_font(12))


def _legend(draw: ImageDraw.ImageDraw, footer: str) -> None:
    top = MAP_BOTTOM
    draw.rectangle([(0, top), (WIDTH, HEIGHT)], fill=(255, 255, 255))
    font = _font(13)
    draw.rectangle([(16, top + 14), (40, top + 30)], fill=AREA_FILL, outline=OUTLINE, width=2)
    draw.text((48, top + 15), "the alert's area", fill=INK, font=font)
    x = 200
    draw.text((x, top + 15), "residents reached per cell:", fill=INK, font=font)
    x += 190
    for _, label, colour in BANDS:
        draw.rectangle([(x, top + 14), (x + 22, top + 30)], fill=colour)
        draw.text((x + 28, top + 15), label, fill=INK, font=font)
        x += 90
    draw.text((16, top + 46), footer[:140], fill=MUTED, font=font)
