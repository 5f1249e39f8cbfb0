"""The geocoder's one request a second and its cache, shared by every process through the database (both databases).

Each ``GeopyGeocoder`` here stands for a process: its own in-process cache, the deployment's database behind it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bots.geocoding import NOMINATIM_MIN_DELAY_SECONDS, GeopyGeocoder
from sandbox.nominatim import NominatimStandIn
from storage.database import make_async_engine
from storage.geocode_cache import SqlGeocodeCache
from storage.rate_buckets import slot_source
from storage.tables import geocode_answers, rate_buckets

ARRIVAL_JITTER_SECONDS = 0.05  # as in test_geocoding_nominatim: a request lands a moment after its slot


@pytest.fixture
def nominatim() -> Iterator[NominatimStandIn]:
    with NominatimStandIn() as stand_in:
        yield stand_in


def process_geocoder(nominatim: NominatimStandIn, engine, *, keep: timedelta = timedelta(days=30)) -> GeopyGeocoder:
    return GeopyGeocoder(
        domain=nominatim.domain,
        scheme="http",
        user_agent="lookout-tests",
        slots=slot_source(engine),
        shared_cache=SqlGeocodeCache(engine, keep=keep),
    )


async def test_an_answer_one_process_got_is_given_to_another_without_asking_again(
    nominatim: NominatimStandIn, engine
) -> None:
    async with process_geocoder(nominatim, engine) as first, process_geocoder(nominatim, engine) as second:
        street = await first.search("Eastgate Street, Stafford")
        assert await second.search("eastgate  street, stafford") == street  # the line too, through the table
        assert await second.street_near(52.80700, -2.11400) == await first.street_near(52.80700, -2.11400)
    assert [r.params["q"] for r in nominatim.search_requests] == ["Eastgate Street, Stafford"]
    assert len([r for r in nominatim.requests if r.path == "/reverse"]) == 1
    async with engine.connect() as conn:
        stored = (await conn.execute(sa.select(geocode_answers.c.key, geocode_answers.c.answer))).all()
    assert len(stored) == 2 and all(len(key) == 64 for key, _ in stored)
    assert not any("eastgate" in key.lower() for key, _ in stored)  # keyed by a hash, not by what was typed


async def test_a_house_someone_typed_is_never_kept_in_the_database(nominatim: NominatimStandIn, engine) -> None:
    async with process_geocoder(nominatim, engine) as first, process_geocoder(nominatim, engine) as second:
        house = await first.search("12 Eastgate Street, Stafford")
        assert house[0].kind == "address"
        assert (
            await second.search("12 Eastgate Street, Stafford") == house
        )  # asked again: the other process never saw it
    assert len(nominatim.search_requests) == 2
    async with engine.connect() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(geocode_answers))).scalar_one() == 0


async def test_an_expired_answer_is_asked_for_again_and_dropped(nominatim: NominatimStandIn, engine) -> None:
    async with process_geocoder(nominatim, engine) as first:
        await first.search("ST16 2LZ")
    async with engine.begin() as conn:  # the database's clock passes the answer's expiry
        ((key, expires_at),) = (
            await conn.execute(sa.select(geocode_answers.c.key, geocode_answers.c.expires_at))
        ).all()
        await conn.execute(
            geocode_answers.update()
            .where(geocode_answers.c.key == key)
            .values(expires_at=expires_at - timedelta(days=31))
        )
    async with process_geocoder(nominatim, engine) as later:
        await later.search("Greengate Street")  # its write drops the expired answer beside it
        async with engine.connect() as conn:
            assert (await conn.execute(sa.select(sa.func.count()).select_from(geocode_answers))).scalar_one() == 1
        await later.search("ST16 2LZ")
    assert [r.params["q"] for r in nominatim.search_requests] == ["ST16 2LZ", "Greengate Street", "ST16 2LZ"]


async def test_a_request_waits_for_the_seconds_another_process_has_taken(
    nominatim: NominatimStandIn, engine, database_url
) -> None:
    async with process_geocoder(nominatim, engine) as geocoder:
        other_process = make_async_engine(database_url)
        try:
            asked = time.monotonic()
            # The other process has just booked the next two seconds of this Nominatim server's schedule.
            await slot_source(other_process).reserve(geocoder.slot_key, 2, 1.0 / NOMINATIM_MIN_DELAY_SECONDS)
        finally:
            await other_process.dispose()
        await geocoder.search("ST16 3AA")
    (request,) = nominatim.search_requests
    assert request.at - asked >= 2 * NOMINATIM_MIN_DELAY_SECONDS - ARRIVAL_JITTER_SECONDS
    async with engine.connect() as conn:
        keys = (await conn.execute(sa.select(rate_buckets.c.key))).scalars().all()
    assert keys == [geocoder.slot_key] and geocoder.slot_key == f"geocoder:{nominatim.domain}"


async def test_without_the_database_each_process_keeps_its_own_second_and_cache(nominatim: NominatimStandIn) -> None:
    """SQLite, one process: no slot source, no shared cache; the limit and the cache are the process's own."""
    async with GeopyGeocoder(domain=nominatim.domain, scheme="http", user_agent="lookout-tests") as geocoder:
        await geocoder.search("ST16 2LZ")
        await geocoder.search("ST16 2LZ")
        await geocoder.search("Greengate Street")
    first, second = nominatim.search_requests
    assert second.at - first.at >= NOMINATIM_MIN_DELAY_SECONDS - ARRIVAL_JITTER_SECONDS
