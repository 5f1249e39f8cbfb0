"""The preview's picture: the area over the force's street map, or, when tiles fail, the plain drawing.

The counts it states are the preview's own (``Preview.total``), so the title,
the picture's footer, its alt text and the card say one number. The cells only
shade where recipients live: a resident with places in two cells shades both,
so their sum can be more than the number reached and is never printed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from bots.map_tiles.client import TileClient, TileError
from bots.slack_officer.area_picture import Basemap, Captions, draw_area, frame_for
from core.rendering import residents_count, status_label
from core.services.alerts import Preview
from core.services.reach import ReachReport

logger = logging.getLogger("lookout.slack")


def captions(preview: Preview) -> Captions:
    alert = preview.alert
    reached = residents_count(preview.total)
    return Captions(
        title=f"{status_label(alert)}{alert.reference or alert.id} · {alert.headline}",
        subtitle=f"{alert.area_description} · {reached} would be reached",
        footer=f"{reached} would be reached; cells are shaded by how many of them have a place there · north up",
    )


async def preview_picture(preview: Preview, cells: Mapping[str, int], tiles: TileClient | None) -> bytes:
    """The PNG of the preview's area. Tiles that fail (slow, refused, not an image) cost one log line, not the preview."""
    area = preview.alert.area
    basemap = None
    frame = frame_for(area, cells, whole_zoom=tiles is not None)
    if tiles is not None:
        try:
            basemap = Basemap(await tiles.window(frame.window()), tiles.attribution)
        except TileError as exc:
            logger.warning(
                "map tiles for the preview of %s failed (%s); drawn without the street map",
                preview.alert.reference,
                exc,
            )
            frame = frame_for(area, cells, whole_zoom=False)
    return await asyncio.to_thread(  # a few hundred ms of drawing for a 3 km circle: off the event loop
        draw_area,
        area,
        cells,
        frame,
        captions(preview),
        basemap=basemap,
    )


async def report_picture(report: ReachReport, tiles: TileClient | None) -> bytes:
    """The report's map: the area, its cells shaded by how many residents the alert was sent to there."""
    alert = report.alert
    sent = residents_count(report.total.sent)
    labels = Captions(
        title=f"{status_label(alert)}{alert.reference} · {alert.headline}",
        subtitle=f"{alert.area_description} · sent to {sent}",
        footer=f"Sent to {sent}; cells are shaded by how many of them have a place there · north up",
    )
    cells = report.reached_cells
    frame = frame_for(alert.area, cells, whole_zoom=tiles is not None)
    basemap = None
    if tiles is not None:
        try:
            basemap = Basemap(await tiles.window(frame.window()), tiles.attribution)
        except TileError as exc:
            logger.warning(
                "map tiles for the report of %s failed (%s); drawn without the street map", alert.reference, exc
            )
            frame = frame_for(alert.area, cells, whole_zoom=False)
    return await asyncio.to_thread(draw_area, alert.area, cells, frame, labels, basemap=basemap)
