"""The preview's picture through the Slack door: the area over the force's street map (here the sandbox's tile
stand-in), the tiles cached, the plain drawing when tiles fail, and one count of residents everywhere."""

from __future__ import annotations

import io
import json
import logging
from dataclasses import replace

import pytest
from PIL import Image

from bots.slack_officer.area_picture import BACKGROUND, HEIGHT, MAP_BOTTOM, MAP_TOP, WIDTH, attribution_box
from core.geo.cells import snap
from core.model import Place
from sandbox.slack_records import UploadedFile
from sandbox.tiles import ATTRIBUTION, LAND, TileStandIn
from tests.support.residents import STAFFORD, add_residents, offset, resident_at
from tests.support.slack_officer import button_value, card_text, officer_app

EASTGATE = (52.80705, -2.11350)  # ST16 2LZ, where the officer's alert is


@pytest.fixture
def tiles():
    with TileStandIn() as stand_in:
        yield stand_in


def pictures(app) -> list[UploadedFile]:
    return [f for f in app.slack.files.values() if f.completed]


def opened(upload: UploadedFile) -> Image.Image:
    assert upload.content is not None
    image = Image.open(io.BytesIO(upload.content))
    image.load()
    return image


def share_of(image: Image.Image, colour: tuple[int, int, int]) -> float:
    """The share of the map band's pixels that are exactly ``colour``."""
    band = image.convert("RGB").crop((0, MAP_TOP, WIDTH, MAP_BOTTOM))
    counts = {c: n for n, c in band.getcolors(maxcolors=WIDTH * HEIGHT)}
    return counts.get(colour, 0) / (band.width * band.height)


def attribution_inked(image: Image.Image, text: str) -> int:
    """Dark pixels in the attribution's box: the credit is written there."""
    box = image.convert("L").crop(attribution_box(text))
    return sum(box.histogram()[:128])


async def test_the_preview_draws_the_area_over_the_street_map_with_its_attribution(
    database_url, clock, tiles, tmp_path
):
    async with officer_app(database_url, clock=clock, map_tiles=tiles, tile_cache=tmp_path / "tiles") as app:
        await add_residents(app.lookout.uow, resident_at(*EASTGATE, topics=frozenset({"missing"})))
        await app.raise_alert()
        (picture,) = pictures(app)
    image = opened(picture)
    assert image.format == "PNG" and image.size == (WIDTH, HEIGHT)
    assert share_of(image, LAND) > 0.2  # the tiles' ground fills the map: a street map, not the blank grid
    assert share_of(image, BACKGROUND) == 0
    assert attribution_inked(image, ATTRIBUTION) > 50
    assert tiles.requests and all(
        r.user_agent.startswith("Lookout/") and "Mercia Vale Police" in r.user_agent for r in tiles.requests
    )


async def test_a_second_preview_of_the_place_fetches_no_tile(database_url, clock, tiles, tmp_path):
    async with officer_app(database_url, clock=clock, map_tiles=tiles, tile_cache=tmp_path / "tiles") as app:
        await add_residents(app.lookout.uow, resident_at(*EASTGATE, topics=frozenset({"missing"})))
        await app.raise_alert()
        fetched = len(tiles.requests)
        await app.raise_alert(headline={"value": "Missing boy, 9: seen again"})
        _first, second = pictures(app)
    assert fetched > 0 and len(tiles.requests) == fetched
    assert share_of(opened(second), LAND) > 0.2


@pytest.mark.parametrize("failure", [503, 404, "not an image"])
async def test_when_tiles_fail_the_preview_goes_out_drawn_without_them(
    database_url, clock, tiles, tmp_path, caplog, failure
):
    if failure == "not an image":
        tiles.answer_garbage()
    else:
        tiles.fail_with(failure)
    async with officer_app(database_url, clock=clock, map_tiles=tiles, tile_cache=tmp_path / "tiles") as app:
        await add_residents(app.lookout.uow, resident_at(*EASTGATE, topics=frozenset({"missing"})))
        with caplog.at_level(logging.WARNING, logger="lookout.slack"):
            card = await app.raise_alert()
        (picture,) = pictures(app)
    assert "Would reach 1 resident" in card_text(card)
    image = opened(picture)
    assert share_of(image, BACKGROUND) > 0.2 and share_of(image, LAND) == 0  # today's drawing
    failed = [r for r in caplog.records if "map tiles" in r.getMessage()]
    assert len(failed) == 1 and "drawn without the street map" in failed[0].getMessage()
    assert not list((tmp_path / "tiles").rglob("*.tile"))  # nothing bad was cached


async def test_the_title_the_picture_and_the_card_give_one_count(database_url, clock, tmp_path):
    """A resident with places in two cells of the area is one resident reached, though they shade two cells."""
    home, work = snap(*STAFFORD, 10), snap(*offset(*STAFFORD, north_m=400), 10)
    assert home != work
    two_places = resident_at(*STAFFORD, topics=frozenset({"missing"}))
    two_places = replace(two_places, places=[Place("Home", home), Place("Work", work)])
    async with officer_app(database_url, clock=clock) as app:
        await add_residents(
            app.lookout.uow, two_places, resident_at(*offset(*STAFFORD, east_m=200), topics=frozenset({"missing"}))
        )
        card = await app.raise_alert()
        cells = await app.lookout.alerts.reach_by_cell(json.loads(button_value(card, "alert_send"))["id"])
        (picture,) = pictures(app)
    assert sum(cells.values()) == 3  # the cells count places: the count printed anywhere must not be theirs
    assert "Would reach 2 residents" in card_text(card) and "would reach 2 residents" in (card.text or "")
    image = opened(picture)
    said = f"{image.info['Title']}\n{image.info['Description']}"
    assert said.count("2 residents would be reached") == 2 and "3 residents" not in said
    assert "2 residents" in (picture.alt_txt or "")
