"""GeopyGeocoder against the Nominatim stand-in, over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import pytest
from shapely.geometry import LineString

from bots.geocoding import NOMINATIM_MIN_DELAY_SECONDS, GeopyGeocoder
from core.geocoding import GeocoderUnavailable, NoMatch
from sandbox.nominatim import NominatimStandIn, Place, street_place

USER_AGENT = "lookout-tests"
EASTGATE_LINE = [(-2.11615, 52.80676), (-2.11480, 52.80690), (-2.11321, 52.80710), (-2.11140, 52.80738)]

# The stand-in stamps each request on arrival, a moment after the rate
# limiter granted its slot; the first request also pays for opening the
# connection, so two arrivals can land a few milliseconds closer than the slots.
ARRIVAL_JITTER_SECONDS = 0.05


@pytest.fixture
def nominatim() -> Iterator[NominatimStandIn]:
    # A fresh server (and so a fresh port) per test: the geocoder's rate
    # limiter is per server for the whole process, so tests don't wait on each other.
    with NominatimStandIn() as stand_in:
        yield stand_in


def geocoder_for(nominatim: NominatimStandIn, *, timeout: float = 5.0) -> GeopyGeocoder:
    return GeopyGeocoder(domain=nominatim.domain, scheme="http", user_agent=USER_AGENT, timeout=timeout)


@pytest.fixture
async def geocoder(nominatim: NominatimStandIn) -> AsyncIterator[GeopyGeocoder]:
    async with geocoder_for(nominatim) as geocoder:
        yield geocoder


async def test_a_postcode_finds_its_centroid(nominatim: NominatimStandIn, geocoder: GeopyGeocoder) -> None:
    candidates = await geocoder.search("st16 2lz")

    assert len(candidates) == 1
    (postcode,) = candidates
    assert postcode.kind == "postcode"
    assert postcode.label == "ST16 2LZ, Stafford"
    assert (postcode.lat, postcode.lon) == pytest.approx((52.80705, -2.11350))
    assert postcode.line is None


async def test_requests_follow_the_nominatim_contract(nominatim: NominatimStandIn, geocoder: GeopyGeocoder) -> None:
    await geocoder.search("st16 2lz", limit=3)

    (request,) = nominatim.search_requests
    assert request.params == {
        "q": "ST16 2LZ",  # the normalised postcode, not what was typed
        "format": "json",
        "limit": "3",
        "polygon_geojson": "1",
        "addressdetails": "1",
        "countrycodes": "gb",
    }
    assert request.user_agent == USER_AGENT


async def test_an_address_finds_the_house(geocoder: GeopyGeocoder) -> None:
    candidates = await geocoder.search("12 Eastgate Street, Stafford")

    first = candidates[0]
    assert first.label == "12 Eastgate Street, Stafford ST16 2LZ"
    assert first.kind == "address"
    assert (first.lat, first.lon) == pytest.approx((52.80712, -2.11321))
    assert first.line is None


async def test_a_street_comes_with_its_line_in_lon_lat_order(geocoder: GeopyGeocoder) -> None:
    candidates = await geocoder.search("Eastgate Street, Stafford")

    street = candidates[0]
    assert street.kind == "street"
    assert street.label == "Eastgate Street, Stafford ST16 2LZ"
    assert isinstance(street.line, LineString)
    assert [c for point in street.line.coords for c in point] == pytest.approx(
        [c for point in EASTGATE_LINE for c in point]
    )
    # The house on that street is offered too, after the street itself.
    assert [candidate.kind for candidate in candidates] == ["street", "address"]


async def test_an_ambiguous_street_offers_each_town(geocoder: GeopyGeocoder) -> None:
    candidates = await geocoder.search("Station Road")

    streets = [candidate for candidate in candidates if candidate.kind == "street"]
    assert {street.label for street in streets} == {
        "Station Road, Stafford ST16 2AE",
        "Station Road, Stone ST15 8BA",
    }
    assert all(street.line is not None for street in streets)
    assert len({candidate.label for candidate in candidates}) == len(candidates)


async def test_a_town_is_a_place(geocoder: GeopyGeocoder) -> None:
    candidates = await geocoder.search("Stone")

    assert candidates[0].kind == "place"
    assert candidates[0].label == "Stone, Staffordshire"


async def test_an_unknown_place_is_no_match_with_a_friendly_message(geocoder: GeopyGeocoder) -> None:
    with pytest.raises(NoMatch) as caught:
        await geocoder.search("Nowhere Lane, Atlantis")

    assert str(caught.value) == (
        "We couldn't find that place. Try a full postcode like ST16 2LZ, or a street and town."
    )


async def test_a_slow_server_is_unavailable_within_the_timeout(nominatim: NominatimStandIn) -> None:
    nominatim.set_delay(3.0)
    started = time.monotonic()
    async with geocoder_for(nominatim, timeout=1.0) as geocoder:
        with pytest.raises(GeocoderUnavailable) as caught:
            await geocoder.search("ST16 2LZ")
    elapsed = time.monotonic() - started

    assert 0.9 <= elapsed < 1.5
    assert "try again in a minute" in str(caught.value)


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_a_server_error_is_unavailable(nominatim: NominatimStandIn, geocoder: GeopyGeocoder, status: int) -> None:
    nominatim.fail_with(status)

    with pytest.raises(GeocoderUnavailable):
        await geocoder.search("ST16 2LZ")


async def test_failures_are_not_cached(nominatim: NominatimStandIn) -> None:
    async with geocoder_for(nominatim) as geocoder:
        nominatim.fail_with(500)
        with pytest.raises(GeocoderUnavailable):
            await geocoder.search("ST16 2LZ")
        nominatim.fail_with(None)
        candidates = await geocoder.search("ST16 2LZ")

    assert candidates[0].label == "ST16 2LZ, Stafford"
    assert len(nominatim.search_requests) == 2


async def test_repeated_queries_are_answered_from_the_cache(
    nominatim: NominatimStandIn, geocoder: GeopyGeocoder
) -> None:
    first = await geocoder.search("ST16 2LZ")
    again = [await geocoder.search(typed) for typed in ("st162lz", "  St16   2lZ ")]
    street = await geocoder.search("Eastgate Street")
    street_again = await geocoder.search("  eastgate   STREET")

    assert again == [first, first]
    assert street_again == street
    assert [request.params["q"] for request in nominatim.search_requests] == ["ST16 2LZ", "Eastgate Street"]


async def test_different_queries_reach_nominatim_at_least_a_second_apart(
    nominatim: NominatimStandIn, geocoder: GeopyGeocoder
) -> None:
    await geocoder.search("ST16 2LZ")
    await geocoder.search("Greengate Street")

    first, second = nominatim.search_requests
    assert second.at - first.at >= NOMINATIM_MIN_DELAY_SECONDS - ARRIVAL_JITTER_SECONDS


async def test_the_one_request_a_second_rule_holds_across_geocoders_and_tasks(nominatim: NominatimStandIn) -> None:
    # Two geocoder objects, searching at the same moment: still one request a second.
    async with geocoder_for(nominatim) as one, geocoder_for(nominatim) as other:
        await asyncio.gather(one.search("ST16 3AA"), other.search("ST17 4AH"))

    first, second = nominatim.search_requests
    assert second.at - first.at >= NOMINATIM_MIN_DELAY_SECONDS - ARRIVAL_JITTER_SECONDS


async def test_places_with_impossible_coordinates_are_dropped(nominatim: NominatimStandIn) -> None:
    good = street_place("Mill Street", "Stafford", [(-2.1190, 52.8060), (-2.1200, 52.8050)], osm_id=1)
    nominatim.add(
        _moved(
            street_place("Mill Street", "Stafford", [(-2.1190, 52.8060)], osm_id=2), lat=95.0, town="Stafford North"
        ),
        _moved(street_place("Mill Street", "Stone", [(-2.1460, 52.9030)], osm_id=3), lon=200.0, town="Stone"),
        _moved(
            street_place("Mill Street", "Eccleshall", [(-2.2500, 52.8580)], osm_id=4),
            lat=float("nan"),
            town="Eccleshall",
        ),
        good,
    )
    async with geocoder_for(nominatim) as geocoder:
        candidates = await geocoder.search("Mill Street")

    assert [candidate.label for candidate in candidates] == ["Mill Street, Stafford"]


async def test_only_impossible_coordinates_is_no_match(nominatim: NominatimStandIn) -> None:
    nominatim.add(
        _moved(street_place("Bad Lane", "Stafford", [(-2.1190, 52.8060)], osm_id=5), lat=-91.0, town="Stafford")
    )
    async with geocoder_for(nominatim) as geocoder:
        with pytest.raises(NoMatch):
            await geocoder.search("Bad Lane")


async def test_segments_of_one_street_become_one_candidate(nominatim: NominatimStandIn) -> None:
    nominatim.add(
        street_place("Foregate Street", "Stafford", [(-2.1180, 52.8080), (-2.1178, 52.8090)], osm_id=6),
        street_place("Foregate Street", "Stafford", [(-2.1178, 52.8090), (-2.1175, 52.8100)], osm_id=7),
    )
    async with geocoder_for(nominatim) as geocoder:
        candidates = await geocoder.search("Foregate Street")

    (street,) = candidates
    assert isinstance(street.line, LineString)
    assert street.line.length == pytest.approx(
        LineString([(-2.1180, 52.8080), (-2.1178, 52.8090), (-2.1175, 52.8100)]).length
    )


async def test_coordinates_never_reach_the_logs(geocoder: GeopyGeocoder, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    await geocoder.search("Eastgate Street, Stafford")
    await geocoder.search("Eastgate Street, Stafford")

    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "52.80" not in logged and "-2.11" not in logged


def _moved(place: Place, *, town: str, lat: float | None = None, lon: float | None = None) -> Place:
    """The same place with a broken coordinate (and its own town, so its label is distinct)."""
    address = {**place.address, "town": town}
    return replace(place, lat=place.lat if lat is None else lat, lon=place.lon if lon is None else lon, address=address)
