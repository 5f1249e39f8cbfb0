"""An officer's "where" given as an address: a circle around the house, even on a street the geocoder has a line for."""
from __future__ import annotations

import pytest

from core.errors import InvalidInput
from core.geo.areas import CircleArea, StreetArea
from bots.geocoding import GeopyGeocoder
from core.services.areas import Where, resolve_area
from sandbox.nominatim import NominatimStandIn


async def test_an_address_is_a_circle_around_it_and_a_street_is_a_band(force):
    with NominatimStandIn() as nominatim:
        async with GeopyGeocoder(domain=nominatim.domain, scheme="http", user_agent="lookout-tests") as geocoder:
            house = await resolve_area(Where(address="12 Eastgate Street, Stafford", radius_m=200), force=force, geocoder=geocoder)
            street = await resolve_area(Where(street="Eastgate Street, Stafford"), force=force, geocoder=geocoder)
            with pytest.raises(InvalidInput) as ambiguous:
                await resolve_area(Where(address="Station Road"), force=force, geocoder=geocoder)
            with pytest.raises(InvalidInput) as two:
                await resolve_area(Where(address="12 Eastgate Street", postcode="ST16 2LZ"), force=force, geocoder=geocoder)
    assert isinstance(house, CircleArea) and house.radius_m == 200
    assert (house.lat, house.lon) == pytest.approx((52.80712, -2.11321)) and "12 Eastgate Street" in (house.label or "")
    assert isinstance(street, StreetArea)
    assert set(ambiguous.value.errors) == {"address"} and "Stone" in ambiguous.value.errors["address"]
    assert "an address" in two.value.errors["where"]
