"""An officer's "where" given as an address: a circle around the house, even on a street the geocoder has a line for."""

from __future__ import annotations

import pytest

from bots.geocoding import GeopyGeocoder
from core.errors import InvalidInput
from core.geo.areas import CircleArea, StreetArea
from core.services.areas import Where, resolve_area
from sandbox.nominatim import NominatimStandIn


async def test_an_address_is_a_circle_around_it_and_a_street_is_a_band(force):
    with NominatimStandIn() as nominatim:
        async with GeopyGeocoder(domain=nominatim.domain, scheme="http", user_agent="lookout-tests") as geocoder:
            house = await resolve_area(
                Where(address="12 Eastgate Street, Stafford", radius_m=200), force=force, geocoder=geocoder
            )
            street = await resolve_area(Where(street="Eastgate Street, Stafford"), force=force, geocoder=geocoder)
            with pytest.raises(InvalidInput) as ambiguous:
                await resolve_area(Where(address="Station Road"), force=force, geocoder=geocoder)
            with pytest.raises(InvalidInput) as two:
                await resolve_area(
                    Where(address="12 Eastgate Street", postcode="ST16 2LZ"), force=force, geocoder=geocoder
                )
    assert isinstance(house, CircleArea) and house.radius_m == 200
    assert (house.lat, house.lon) == pytest.approx((52.80712, -2.11321))
    assert house.label == "Eastgate Street, Stafford" and house.given == "12 Eastgate Street, Stafford"
    assert isinstance(street, StreetArea)
    assert set(ambiguous.value.errors) == {"address"} and "Stone" in ambiguous.value.errors["address"]
    assert "an address" in two.value.errors["where"]


async def test_residents_read_a_circle_by_its_street_or_town_never_by_a_postcode_alone(force):
    with NominatimStandIn() as nominatim:
        async with GeopyGeocoder(domain=nominatim.domain, scheme="http", user_agent="lookout-tests") as geocoder:
            by_postcode = await resolve_area(Where(postcode="st16 2lz", radius_m=1000), force=force, geocoder=geocoder)
            by_point = await resolve_area(Where(at="52.80705, -2.11350"), force=force, geocoder=geocoder)
            no_street_near = await resolve_area(Where(postcode="ST17 4AH"), force=force, geocoder=geocoder)
            await geocoder.search("ST16 2DH", limit=1)
            nominatim.fail_with(503)  # the postcode's answer is cached; the street lookup fails
            unreachable = await resolve_area(Where(postcode="ST16 2DH"), force=force, geocoder=geocoder)
    assert by_postcode.describe() == "within 1 km of Eastgate Street, Stafford"
    assert by_point.describe() == "within 500 m of Eastgate Street, Stafford"
    assert no_street_near.describe() == "within 500 m of ST17 4AH, Stafford"
    assert unreachable.describe() == "within 500 m of ST16 2DH, Stafford"
    assert isinstance(by_postcode, CircleArea) and by_postcode.given == "ST16 2LZ"  # an edit starts from what was typed
