"""The geocoding adapter: ``core.geocoding.Geocoder`` over geopy (Nominatim by default)."""

from bots.geocoding.geopy_geocoder import NOMINATIM_MIN_DELAY_SECONDS, GeopyGeocoder

__all__ = ["NOMINATIM_MIN_DELAY_SECONDS", "GeopyGeocoder"]
