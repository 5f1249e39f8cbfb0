"""Postcode normalisation, the candidates and the friendly errors of core.geocoding (the adapter: test_geopy_geocoder.py)."""

from __future__ import annotations

import dataclasses

import pytest

from core.errors import LookoutError
from core.geocoding import (
    GeocodeCandidate,
    GeocoderUnavailable,
    GeocodingError,
    NoMatch,
    normalise_uk_postcode,
)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ST16 2LZ", "ST16 2LZ"),
        ("st16 2lz", "ST16 2LZ"),
        ("ST162LZ", "ST16 2LZ"),
        ("  st16   2LZ ", "ST16 2LZ"),
        ("S T 1 6 2 L Z", "ST16 2LZ"),
        ("st17\t4ah", "ST17 4AH"),
        ("M1 1AE", "M1 1AE"),  # A9 9AA
        ("B33 8TH", "B33 8TH"),  # A99 9AA
        ("CR2 6XH", "CR2 6XH"),  # AA9 9AA
        ("DN55 1PT", "DN55 1PT"),  # AA99 9AA
        ("W1A 0AX", "W1A 0AX"),  # A9A 9AA
        ("EC1A 1BB", "EC1A 1BB"),  # AA9A 9AA
        ("ec1a1bb", "EC1A 1BB"),
        ("GIR 0AA", "GIR 0AA"),
        ("gir0aa", "GIR 0AA"),
    ],
)
def test_valid_postcodes_are_normalised(typed: str, expected: str) -> None:
    assert normalise_uk_postcode(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "ST16",  # outward code only
        "2LZ",  # inward code only
        "ST16 2L",  # inward code too short
        "ST16 2LZZ",
        "ST1666 2LZ",  # outward code too long
        "16ST 2LZ",
        "QT16 2LZ",  # Q never starts a postcode
        "SZ16 2LZ",  # Z never comes second
        "ST16 2CZ",  # C is never used in the inward code
        "ST16 2LI",  # nor I
        "W1I 0AX",  # I is not allowed as the A9A letter
        "EC1C 1BB",  # C is not allowed as the AA9A letter
        "ST16-2LZ",  # hyphens are not spaces
        "12 Eastgate Street",
        "Eastgate Street, Stafford ST16 2LZ",  # contains a postcode but is not one
        "ST16 2LZ ST16 2LZ",
        "GIR 0AB",
        "ＳＴ16 2LZ",  # full-width letters
    ],
)
def test_anything_but_a_full_postcode_is_rejected(typed: str) -> None:
    assert normalise_uk_postcode(typed) is None


def test_errors_speak_politely_to_people() -> None:
    assert str(NoMatch()) == ("We couldn't find that place. Try a full postcode like ST16 2LZ, or a street and town.")
    assert str(GeocoderUnavailable()) == (
        "The address lookup isn't answering right now. Please try again in a minute, or share your location instead."
    )
    assert issubclass(NoMatch, GeocodingError)
    assert issubclass(GeocoderUnavailable, GeocodingError)
    # Bots show any LookoutError's text as it is.
    assert issubclass(GeocodingError, LookoutError)
    assert NoMatch().message == str(NoMatch())


def test_candidate_is_an_immutable_value() -> None:
    candidate = GeocodeCandidate(label="ST16 2LZ, Stafford", lat=52.807, lon=-2.1135, kind="postcode", line=None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        candidate.lat = 0.0  # type: ignore[misc]
