"""The sandbox's map tiles on its one port: what ``make demo`` points LOOKOUT_MAP_TILES at."""

from __future__ import annotations

import io

import httpx
from PIL import Image

from core.settings import Settings
from sandbox.service import Sandbox
from sandbox.tiles import LAND, TILE, world_px


def test_the_sandbox_serves_street_map_tiles_the_app_settings_accept() -> None:
    with Sandbox() as sandbox:
        env = sandbox.app_environment()
        settings = Settings(_env_file=None, **env)
        assert (
            settings.map_tiles == f"{sandbox.base_url}/tiles/{{z}}/{{x}}/{{y}}.png" and settings.map_tiles_attribution
        )
        x, y = (int(v // TILE) for v in world_px(-2.11350, 52.80705, 16))  # Eastgate Street
        tile = httpx.get(settings.map_tiles.format(z=16, x=x, y=y))
        far = httpx.get(settings.map_tiles.format(z=16, x=0, y=0))  # the Pacific: no Stafford there
        missing = httpx.get(settings.map_tiles.format(z=3, x=8, y=0))
        requests = sandbox.tiles.requests
    assert tile.status_code == 200 and tile.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(tile.content)).convert("RGB")
    assert image.size == (TILE, TILE)
    colours = {colour for _, colour in image.getcolors(maxcolors=TILE * TILE)}
    assert LAND in colours and len(colours) > 20  # streets, casings and their names on the ground
    assert {c for _, c in Image.open(io.BytesIO(far.content)).convert("RGB").getcolors()} == {LAND}
    assert missing.status_code == 404
    assert [r.path for r in requests][:1] == [f"/16/{x}/{y}.png"]
