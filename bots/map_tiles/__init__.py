"""Raster map tiles from a force's XYZ tile server (``LOOKOUT_MAP_TILES``), for pictures officers check.

``TileClient`` fetches tiles with an identifying User-Agent, at most two at a
time, through a bounded disk cache every process of the host shares
(``TileCache``); ``mercator`` holds the Web Mercator arithmetic tile servers
use. The OpenStreetMap tile usage policy asks exactly this of a client:
identification, caching, no bulk downloading (docs/platforms.md, "Map tiles").
"""
