"""The geopy adapter offline: it satisfies the core's protocol, and refuses bad queries before any request."""

from __future__ import annotations

import pytest

from bots.geocoding import GeopyGeocoder
from core.geocoding import MAX_QUERY_LENGTH, Geocoder, GeocoderUnavailable, GeocodingError


# Port 9 (discard) on loopback: if a request were made it would fail as
# GeocoderUnavailable, so a plain GeocodingError proves nothing was sent.
@pytest.fixture
async def offline_geocoder():
    geocoder = GeopyGeocoder(domain="127.0.0.1:9", scheme="http", user_agent="lookout-tests", timeout=1.0)
    yield geocoder
    await geocoder.aclose()


def test_geopy_geocoder_satisfies_the_protocol(offline_geocoder: GeopyGeocoder) -> None:
    assert isinstance(offline_geocoder, Geocoder)


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
async def test_empty_queries_are_refused_before_any_request(offline_geocoder: GeopyGeocoder, query: str) -> None:
    with pytest.raises(GeocodingError) as caught:
        await offline_geocoder.search(query)
    assert type(caught.value) is GeocodingError
    assert "postcode" in str(caught.value)


async def test_absurdly_long_queries_are_refused_before_any_request(offline_geocoder: GeopyGeocoder) -> None:
    with pytest.raises(GeocodingError) as caught:
        await offline_geocoder.search("Eastgate Street " * 20)
    assert type(caught.value) is GeocodingError
    assert str(MAX_QUERY_LENGTH) in str(caught.value)


async def test_a_query_of_exactly_the_limit_is_sent(offline_geocoder: GeopyGeocoder) -> None:
    # Nothing listens on port 9, so "sent" shows up as the provider being unavailable.
    with pytest.raises(GeocoderUnavailable):
        await offline_geocoder.search("x" * MAX_QUERY_LENGTH)


async def test_limit_must_be_positive(offline_geocoder: GeopyGeocoder) -> None:
    with pytest.raises(ValueError):
        await offline_geocoder.search("ST16 2LZ", limit=0)


def test_unknown_service_is_a_configuration_error() -> None:
    with pytest.raises(ValueError):
        GeopyGeocoder("no-such-geocoder")
