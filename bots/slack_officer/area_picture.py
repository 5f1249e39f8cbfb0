"""A picture of an alert's area, drawn here: the outline, where the residents it reaches live, a scale bar.

No map tiles are fetched (nothing leaves the machine, and no tile server's
terms apply): the drawing is the area's own geometry and the H3 cells that
hold the recipients, in the same local metric projection the matching uses,
so what the officer sees is exactly what is matched. Each cell is shaded by
how many recipients it holds, in bands, never as numbers per cell.
"""
from __future__ import annotations

import io
import math
from collections.abc import Iterable, Mapping, Sequence

from PIL import Image, ImageDraw, ImageFont
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from core.geo.areas import Area, CircleArea, StreetArea
from core.geo.cells import cell_boundary
from core.geo.coords import format_distance
from core.geo.projection import projection_around

WIDTH, HEIGHT = 960, 720
MAP_TOP, MAP_BOTTOM = 56, 640  # the map sits between the title band and the legend band
MARGIN = 0.12  # of the area's extent, on every side
MIN_SPAN_M = 300.0
BACKGROUND = (246, 244, 238)
GRID = (226, 222, 212)
INK = (40, 40, 48)
MUTED = (110, 110, 120)
OUTLINE = (200, 30, 45)
AREA_FILL = (244, 214, 212)
STREET = (120, 20, 30)
# Recipients per cell → shade (light to dark blue); bands, so no single home stands out as a number.
BANDS: tuple[tuple[int, str, tuple[int, int, int]], ...] = (
    (1, "1-2", (198, 219, 239)),
    (3, "3-9", (133, 180, 217)),
    (10, "10-24", (66, 133, 196)),
    (25, "25+", (21, 81, 153)),
)
_NICE_LENGTHS_M = (10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000)


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


class _Frame:
    """Metres around the area's centre → pixels, north up, same scale both ways."""

    def __init__(self, bounds: Sequence[float]) -> None:
        minx, miny, maxx, maxy = bounds
        span_x, span_y = max(maxx - minx, MIN_SPAN_M), max(maxy - miny, MIN_SPAN_M)
        cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
        span_x, span_y = span_x * (1 + 2 * MARGIN), span_y * (1 + 2 * MARGIN)
        height_px = MAP_BOTTOM - MAP_TOP
        self.scale = min(WIDTH / span_x, height_px / span_y)  # pixels per metre
        self.cx, self.cy = cx, cy
        self.span_m = WIDTH / self.scale

    def px(self, x: float, y: float) -> tuple[float, float]:
        return (WIDTH / 2 + (x - self.cx) * self.scale, (MAP_TOP + MAP_BOTTOM) / 2 - (y - self.cy) * self.scale)

    def ring(self, coords: Iterable[tuple[float, ...]]) -> list[tuple[float, float]]:
        return [self.px(c[0], c[1]) for c in coords]


def draw_area(area: Area, cells: Mapping[str, int], *, title: str, subtitle: str) -> bytes:
    """The PNG: ``title`` and ``subtitle`` on top, the area and its recipients' cells, scale bar and legend."""
    lat, lon = area.centre
    projection = projection_around(lat, lon)
    outline = projection.forward(area.outline())
    cell_shapes = [(projection.forward(Polygon([(c_lon, c_lat) for c_lat, c_lon in cell_boundary(cell)])), count)
                   for cell, count in cells.items()]
    minx, miny, maxx, maxy = outline.bounds
    for shape, _ in cell_shapes:
        bx0, by0, bx1, by1 = shape.bounds
        minx, miny, maxx, maxy = min(minx, bx0), min(miny, by0), max(maxx, bx1), max(maxy, by1)
    frame = _Frame((minx, miny, maxx, maxy))

    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    scale_m = nice_scale_length(frame.span_m)
    _grid(draw, frame, scale_m)
    for polygon in _polygons(outline):  # the area under the cells, so the cells keep their shade
        draw.polygon(frame.ring(polygon.exterior.coords), fill=AREA_FILL)
        for hole in polygon.interiors:
            draw.polygon(frame.ring(hole.coords), fill=BACKGROUND)
    for shape, count in cell_shapes:
        for polygon in _polygons(shape):
            draw.polygon(frame.ring(polygon.exterior.coords), fill=_band(count), outline=(255, 255, 255))
    for polygon in _polygons(outline):
        draw.line(frame.ring(polygon.exterior.coords), fill=OUTLINE, width=3, joint="curve")
        for hole in polygon.interiors:
            draw.line(frame.ring(hole.coords), fill=OUTLINE, width=2)
    if isinstance(area, StreetArea):
        for line in _lines(projection.forward(area.line)):
            draw.line(frame.ring(line.coords), fill=STREET, width=4, joint="curve")
    if isinstance(area, CircleArea):
        x, y = frame.px(*projection.forward(_point(area)).coords[0])
        draw.line([(x - 8, y), (x + 8, y)], fill=OUTLINE, width=2)
        draw.line([(x, y - 8), (x, y + 8)], fill=OUTLINE, width=2)
    _title(draw, title, subtitle)
    _north_arrow(draw)
    _scale_bar(draw, frame, scale_m)
    _legend(draw, sum(cells.values()), len(cells))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _point(area: CircleArea) -> BaseGeometry:
    return Point(area.lon, area.lat)


def _grid(draw: ImageDraw.ImageDraw, frame: _Frame, step_m: float) -> None:
    """Faint lines every scale-bar length, so distances can be read anywhere on the picture."""
    half_w, half_h = frame.span_m / 2, (MAP_BOTTOM - MAP_TOP) / frame.scale / 2
    x = math.floor((frame.cx - half_w) / step_m) * step_m
    while x <= frame.cx + half_w:
        px, _ = frame.px(x, frame.cy)
        draw.line([(px, MAP_TOP), (px, MAP_BOTTOM)], fill=GRID, width=1)
        x += step_m
    y = math.floor((frame.cy - half_h) / step_m) * step_m
    while y <= frame.cy + half_h:
        _, py = frame.px(frame.cx, y)
        draw.line([(0, py), (WIDTH, py)], fill=GRID, width=1)
        y += step_m


def _title(draw: ImageDraw.ImageDraw, title: str, subtitle: str) -> None:
    draw.rectangle([(0, 0), (WIDTH, MAP_TOP)], fill=(255, 255, 255))
    draw.text((16, 8), title[:90], fill=INK, font=_font(20))
    draw.text((16, 33), subtitle[:130], fill=MUTED, font=_font(14))


def _north_arrow(draw: ImageDraw.ImageDraw) -> None:
    x, y = WIDTH - 36, MAP_TOP + 20
    draw.polygon([(x, y), (x - 9, y + 24), (x, y + 18), (x + 9, y + 24)], fill=INK)
    draw.text((x - 5, y + 27), "N", fill=INK, font=_font(14))


def _scale_bar(draw: ImageDraw.ImageDraw, frame: _Frame, length_m: float) -> None:
    left, base = 20, MAP_BOTTOM - 18
    right = left + length_m * frame.scale
    draw.rectangle([(left - 6, base - 24), (right + 60, base + 8)], fill=(255, 255, 255))
    draw.line([(left, base), (right, base)], fill=INK, width=3)
    for tick in (left, (left + right) / 2, right):
        draw.line([(tick, base - 6), (tick, base + 3)], fill=INK, width=2)
    draw.text((left, base - 22), "0", fill=INK, font=_font(13))
    draw.text((right - 8, base - 22), format_distance(length_m), fill=INK, font=_font(13))


def _legend(draw: ImageDraw.ImageDraw, residents: int, cells: int) -> None:
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
    summary = f"{residents:,} recipients in {cells:,} cells · drawn locally, no map tiles · north up"
    draw.text((16, top + 46), summary, fill=MUTED, font=font)
