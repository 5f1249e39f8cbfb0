"""The sign-up pages' pieces that need no server: reading addresses, choosing a place, hiding tokens from the log."""

from __future__ import annotations

import pytest

from bots.email.pages.forms import email_address, mobile_in_words, mobile_number
from bots.email.pages.places import area_size_words, find_place
from core.errors import InvalidInput
from core.geo.cells import cell_centre, snap
from core.geocoding import GeocodeCandidate, GeocoderUnavailable, NoMatch


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Ada@Example.ORG", "ada@example.org"),
        ("  ada.lovelace+alerts@example.org ", "ada.lovelace+alerts@example.org"),
        ("ada@bücher.example", "ada@xn--bcher-kva.example"),
    ],
)
def test_addresses_are_stored_lower_cased_and_in_ascii(typed: str, stored: str) -> None:
    assert email_address(typed).id == stored
    assert str(email_address(typed)) == f"email:{stored}"


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "Enter your email address"),
        ("ada", "correct format"),
        ("ada@", "correct format"),
        ("ada@localhost", "correct format"),
        ("a@" + "b" * 260 + ".org", "too long"),
        ("o'brien@example.org", "apostrophes or accents"),
        ("zoë@example.org", "apostrophes or accents"),
    ],
)
def test_unusable_addresses_are_refused_with_a_message_for_the_email_field(typed: str, says: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        email_address(typed)
    assert says in refused.value.errors["email"]


class Gazetteer:
    def __init__(self, *answers: GeocodeCandidate | Exception) -> None:
        self.answers = answers

    async def search(self, query: str, *, limit: int = 5) -> list[GeocodeCandidate]:
        if self.answers and isinstance(self.answers[0], Exception):
            raise self.answers[0]
        return list(self.answers)  # type: ignore[arg-type]

    async def street_near(self, lat: float, lon: float) -> str | None:
        return None

    async def aclose(self) -> None:
        pass


STAFFORD = GeocodeCandidate("Station Road, Stafford", 52.8041, -2.1218, "street")
STONE = GeocodeCandidate("Station Road, Stone", 52.9039, -2.1459, "street")


async def test_one_match_is_the_place_and_only_its_cell_centre_is_kept(force) -> None:
    found = await find_place(Gazetteer(STAFFORD), force, "Station Road")
    assert found.spot is not None and not found.choices
    assert (found.spot.lat, found.spot.lon) == cell_centre(snap(STAFFORD.lat, STAFFORD.lon, force.resolution))
    assert (found.spot.lat, found.spot.lon) != (STAFFORD.lat, STAFFORD.lon)


async def test_several_matches_ask_for_a_choice_and_a_choice_counts_only_for_the_same_words(force) -> None:
    geocoder = Gazetteer(STAFFORD, STONE)
    asked = await find_place(geocoder, force, "Station Road")
    assert asked.spot is None and [s.name for s in asked.choices] == ["Station Road, Stafford", "Station Road, Stone"]
    chosen = await find_place(geocoder, force, "Station Road", chosen="1", searched="Station Road")
    assert chosen.spot is not None and chosen.spot.name == "Station Road, Stone"
    retyped = await find_place(geocoder, force, "Station Rd", chosen="1", searched="Station Road")
    assert retyped.spot is None and len(retyped.choices) == 2
    with pytest.raises(InvalidInput) as stale:
        await find_place(geocoder, force, "Station Road", chosen="7", searched="Station Road")
    assert "place" in stale.value.errors


@pytest.mark.parametrize(
    ("failure", "says"), [(NoMatch(), "couldn't find that place"), (GeocoderUnavailable(), "try again in a minute")]
)
async def test_lookup_failures_become_messages_on_the_address_field(force, failure: Exception, says: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        await find_place(Gazetteer(failure), force, "ST16 2LZ")
    assert says in refused.value.errors["where"]
    assert "share your location" not in refused.value.errors["where"]  # there is no such button on a web page


@pytest.mark.parametrize(
    "typed",
    [
        "07700 900123",
        "07700900123",
        "+44 7700 900123",
        "+447700900123",
        "+44 (0)7700 900123",
        "+44 07700 900123",
        "0044 7700 900123",
        "447700900123",
        "(07700) 900-123",
        "07700.900.123",
        " 07700 900 123 ",
    ],
)
def test_uk_mobile_numbers_in_any_usual_form_are_stored_in_e164(typed: str) -> None:
    assert str(mobile_number(typed)) == "sms:+447700900123"
    assert mobile_in_words("+447700900123") == "07700 900123"


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "Enter your mobile phone number"),
        ("01785 123456", "landline"),
        ("020 7946 0000", "landline"),
        ("+1 415 555 0100", "only send texts to UK mobile numbers"),
        ("0033 6 12 34 56 78", "only send texts to UK mobile numbers"),
        ("07700 9OO123", "digits only"),
        ("07700 90012", "11 digits starting 07"),
        ("07700 9001234", "11 digits starting 07"),
        ("07000 123456", "11 digits starting 07"),  # personal numbering, not a mobile
        ("07600 123456", "11 digits starting 07"),  # a pager
        ("0" * 40, "too long"),
    ],
)
def test_other_numbers_are_refused_with_a_message_for_the_mobile_field(typed: str, says: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        mobile_number(typed)
    assert list(refused.value.errors) == ["mobile"] and says in refused.value.errors["mobile"]


def test_the_area_kept_is_described_in_metres() -> None:
    assert area_size_words(10) == "about 150 metres across"
    assert area_size_words(7).endswith("km across")
