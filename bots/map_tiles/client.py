"""Fetching raster tiles from the force's XYZ tile server, through the shared cache.

Every request says who is asking (``User-Agent``: Lookout, the force and how
to reach it), at most ``CONNECTIONS`` at a time per process, and only the
tiles one picture needs: the OpenStreetMap tile usage policy's rules on
identification and load, which any force's own server is glad of too.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

import httpx
from PIL import Image, UnidentifiedImageError

from bots.map_tiles.cache import TileCache
from bots.map_tiles.mercator import TILE_SIZE, tiles_across

logger = logging.getLogger("lookout.tiles")

CONNECTIONS = 2
TIMEOUT_SECONDS = 5.0  # the preview waits for its picture; past this it is drawn without tiles
MAX_TILE_BYTES = 2_000_000
MAX_ZOOM = 19


class TileError(Exception):
    """A tile could not be had; ``str()`` says why in a few words, for one log line."""


def user_agent(force_name: str, contact: str) -> str:
    """``Lookout/1.2 (Mercia Vale Police; https://alerts.force.example)``: who is asking, and how to reach them."""
    try:
        release = version("lookout")
    except PackageNotFoundError:
        release = "dev"
    who = "; ".join(part for part in (force_name.strip(), contact.strip()) if part)
    return f"Lookout/{release} ({who})" if who else f"Lookout/{release}"


@dataclass(frozen=True)
class Window:
    """A rectangle of the world at an integer ``zoom``, in world pixels (see ``mercator.world_px``)."""

    zoom: int
    left: float
    top: float
    width: int
    height: int

    def tiles(self) -> list[tuple[int, int]]:
        """(x, y) of every tile the window touches; x wraps round the antimeridian, y stops at the poles."""
        first_x, last_x = int(self.left // TILE_SIZE), int((self.left + self.width - 1) // TILE_SIZE)
        first_y, last_y = int(self.top // TILE_SIZE), int((self.top + self.height - 1) // TILE_SIZE)
        rows = range(max(first_y, 0), min(last_y, tiles_across(self.zoom) - 1) + 1)
        return [(x, y) for y in rows for x in range(first_x, last_x + 1)]


class TileClient:
    def __init__(
        self,
        template: str,
        *,
        attribution: str,
        user_agent: str,
        cache: TileCache,
        timeout: float = TIMEOUT_SECONDS,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.attribution = attribution  # drawn on every picture made of these tiles
        self._template = template
        self._cache = cache
        self._http = httpx.AsyncClient(
            headers={"User-Agent": user_agent}, timeout=timeout, transport=transport, follow_redirects=True
        )
        self._gate = asyncio.Semaphore(CONNECTIONS)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def window(self, window: Window) -> Image.Image:
        """The window's map as one RGB image, or ``TileError`` when any of its tiles cannot be had."""
        if not 0 <= window.zoom <= MAX_ZOOM:
            raise TileError(f"zoom {window.zoom} is outside 0-{MAX_ZOOM}")
        wanted = window.tiles()
        contents = await asyncio.gather(*(self.tile(window.zoom, x, y) for x, y in wanted))
        return await asyncio.to_thread(_stitch, window, zip(wanted, contents, strict=True))

    async def tile(self, z: int, x: int, y: int) -> bytes:
        """One tile's image bytes (checked to be an image), from the cache or the server."""
        x %= tiles_across(z)
        cached = await asyncio.to_thread(self._cache.get, z, x, y)
        if cached is not None:
            return cached
        url = self._template.format(z=z, x=x, y=y)
        async with self._gate:
            try:
                answer = await self._http.get(url)
            except httpx.TimeoutException:
                raise TileError(f"the tile server did not answer within {self._http.timeout.read:g} s") from None
            except httpx.HTTPError as exc:
                raise TileError(f"the tile server could not be reached ({type(exc).__name__})") from None
        if answer.status_code != 200:
            raise TileError(f"the tile server answered {answer.status_code} for tile {z}/{x}/{y}")
        content = answer.content
        if len(content) > MAX_TILE_BYTES or not _is_image(content):
            raise TileError(f"the tile server's answer for tile {z}/{x}/{y} is not an image")
        try:
            await asyncio.to_thread(self._cache.put, z, x, y, content)
        except OSError as exc:  # a full or read-only disk costs the cache, not the picture
            logger.warning("map tile cache not written (%s)", type(exc).__name__)
        return content


def _is_image(content: bytes) -> bool:
    try:
        with Image.open(io.BytesIO(content)) as image:
            image.verify()
        return True
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False


def _stitch(window: Window, tiles: Iterable[tuple[tuple[int, int], bytes]]) -> Image.Image:
    canvas = Image.new("RGB", (window.width, window.height), (255, 255, 255))
    for (x, y), content in tiles:
        try:
            with Image.open(io.BytesIO(content)) as opened:
                tile = opened.convert("RGB")
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            raise TileError(f"tile {window.zoom}/{x}/{y} could not be read as an image") from None
        if tile.size != (TILE_SIZE, TILE_SIZE):  # a high-density server's 512-pixel tiles
            tile = tile.resize((TILE_SIZE, TILE_SIZE), Image.Resampling.LANCZOS)
        canvas.paste(tile, (round(x * TILE_SIZE - window.left), round(y * TILE_SIZE - window.top)))
    return canvas
