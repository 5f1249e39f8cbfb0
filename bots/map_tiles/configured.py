"""The tile client the settings ask for (``LOOKOUT_MAP_TILES``), or None while no tile server is set."""

from __future__ import annotations

from pathlib import Path

from bots.map_tiles.cache import TileCache
from bots.map_tiles.client import TileClient, user_agent
from core.force import ForceConfig
from core.settings import Settings


def tile_client(settings: Settings, force: ForceConfig) -> TileClient | None:
    """Tiles fetched as the force (its name, and its public address or CAP sender id to reach it by), cached on disk."""
    if not settings.map_tiles:
        return None
    contact = settings.public_url or force.settings.cap_sender
    cache = TileCache(
        Path(settings.map_tiles_cache_dir), settings.map_tiles, max_bytes=settings.map_tiles_cache_mb * 1_000_000
    )
    return TileClient(
        settings.map_tiles,
        attribution=settings.map_tiles_attribution or "",
        user_agent=user_agent(force.name, contact),
        cache=cache,
    )
