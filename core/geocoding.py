"""Turning what people type (a postcode, an address, a street) into places.

Residents type where they live or where they saw something; officers type the
street an alert is about. Both go through a ``Geocoder``: a small protocol the
rest of the core depends on, with ``GeopyGeocoder`` as the implementation that
talks to a real provider (Nominatim by default, any geopy service by name).

Nominatim's usage policy shapes this module: at most one request per second
from the whole application, an identifying User-Agent, and caching of results.
Coordinates that come back are never logged (nor are the queries, which are
often someone's home address).
"""
from __future__ import annotations

import asyncio
import functools
import logging
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol, runtime_checkable

import geopy.exc
from geopy.adapters import AioHTTPAdapter
from geopy.extra.rate_limiter import AsyncRateLimiter
from geopy.geocoders import Nominatim, get_geocoder_for_service
from geopy.location import Location
from shapely.geometry import LineString, MultiLineString, shape
from shapely.ops import linemerge

from core.errors import InvalidInput, LookoutError
from core.geo.coords import check_lat_lon

logger = logging.getLogger(__name__)

MAX_QUERY_LENGTH = 200

# Nominatim's policy: "an absolute maximum of 1 request per second".
NOMINATIM_MIN_DELAY_SECONDS = 1.0

# Kinds of candidate, from most to least precise about a single point.
KIND_POSTCODE = "postcode"
KIND_ADDRESS = "address"
KIND_STREET = "street"
KIND_PLACE = "place"


# --- errors people read -------------------------------------------------------


class GeocodingError(LookoutError):
    """A place lookup failed; ``str(error)`` is fit to show to a resident or an officer."""

    default_message = "Sorry, we couldn't look that place up. Please try again."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)

    @property
    def message(self) -> str:
        return str(self)


class NoMatch(GeocodingError):
    default_message = "We couldn't find that place. Try a full postcode like ST16 2LZ, or a street and town."


class GeocoderUnavailable(GeocodingError):
    default_message = (
        "The address lookup isn't answering right now. "
        "Please try again in a minute, or share your location instead."
    )


EMPTY_QUERY_MESSAGE = "Please type a postcode, or a street and town, for us to look up."
LONG_QUERY_MESSAGE = (
    f"That's a bit long for us to look up (the limit is {MAX_QUERY_LENGTH} characters). "
    "Please try just the postcode, or the street and town."
)


# --- values and the protocol ------------------------------------------------------


@dataclass(frozen=True)
class GeocodeCandidate:
    """One answer to a lookup, for a person to pick from.

    ``line`` is a street's geometry in lon/lat order when the provider gave
    one (a ``StreetArea`` can be built from it); ``None`` otherwise.
    """

    label: str
    lat: float
    lon: float
    kind: str
    line: LineString | MultiLineString | None = None


@runtime_checkable
class Geocoder(Protocol):
    async def search(self, query: str, *, limit: int = 5) -> list[GeocodeCandidate]:
        """Candidates for ``query``, best first; never empty (raises ``NoMatch``)."""
        ...

    async def aclose(self) -> None: ...


# --- UK postcodes -------------------------------------------------------------------

# The outward code per the UK Government Data Standards pattern: each letter
# position excludes the letters Royal Mail never uses there (no Q, V, X first;
# no I, J, Z second; restricted sets for the trailing letter of A9A and AA9A).
_OUTWARD = r"(?:[A-PR-UWYZ][0-9][0-9]?|[A-PR-UWYZ][A-HK-Y][0-9][0-9ABEHMNPRV-Y]?|[A-PR-UWYZ][0-9][A-HJKPSTUW])"
# The inward code never uses C, I, K, M, O or V (they look like other characters).
_INWARD = r"[0-9][ABD-HJLNP-UW-Z]{2}"
_POSTCODE = re.compile(rf"^(?:(?P<outward>{_OUTWARD})(?P<inward>{_INWARD})|(?P<girobank>GIR0AA))$")


def normalise_uk_postcode(text: str) -> str | None:
    """``"st162lz"`` → ``"ST16 2LZ"``; ``None`` when ``text`` is not a full UK postcode."""
    if not isinstance(text, str):
        return None
    compact = "".join(text.split()).upper()
    match = _POSTCODE.match(compact)
    if match is None:
        return None
    if match.group("girobank"):
        return "GIR 0AA"
    return f"{match.group('outward')} {match.group('inward')}"


# --- queries --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Query:
    text: str  # what the provider is asked
    cache_key: str
    postcode: str | None


def _prepare_query(query: str) -> _Query:
    """Check and tidy a query before anything leaves the process."""
    text = " ".join(query.split()) if isinstance(query, str) else ""
    if not text:
        raise GeocodingError(EMPTY_QUERY_MESSAGE)
    if len(text) > MAX_QUERY_LENGTH:
        raise GeocodingError(LONG_QUERY_MESSAGE)
    postcode = normalise_uk_postcode(text)
    if postcode is not None:
        return _Query(text=postcode, cache_key=postcode.casefold(), postcode=postcode)
    return _Query(text=text, cache_key=text.casefold(), postcode=None)


# --- reading provider answers -----------------------------------------------------------


def _checked_point(lat: Any, lon: Any) -> tuple[float, float] | None:
    try:
        return check_lat_lon(lat, lon)
    except InvalidInput:
        return None


def _line_from_geojson(geojson: Any) -> LineString | MultiLineString | None:
    """A street line from a provider's GeoJSON, or ``None`` if it is not a sound line."""
    if not isinstance(geojson, Mapping) or geojson.get("type") not in ("LineString", "MultiLineString"):
        return None
    try:
        line = shape(geojson)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    if line.is_empty or not _line_coordinates_valid(line):
        return None
    return line


def _line_coordinates_valid(line: LineString | MultiLineString) -> bool:
    parts = line.geoms if isinstance(line, MultiLineString) else [line]
    return all(_checked_point(lat, lon) is not None for part in parts for lon, lat, *_ in part.coords)


_SETTLEMENT_TYPES = frozenset(
    {"city", "town", "village", "hamlet", "suburb", "quarter", "neighbourhood", "locality",
     "isolated_dwelling", "administrative", "county", "state", "region", "municipality"}
)


def _kind_for(raw: Mapping[str, Any], line: LineString | MultiLineString | None) -> str:
    # format=json says "class", format=jsonv2 says "category".
    osm_class = raw.get("class") or raw.get("category")
    if line is not None or osm_class == "highway":
        return KIND_STREET
    if osm_class in ("place", "boundary") and raw.get("type") in _SETTLEMENT_TYPES:
        return KIND_PLACE
    return KIND_ADDRESS


_LOCALITY_KEYS = ("city", "town", "village", "hamlet", "suburb", "municipality")
_COUNTRY_SUFFIXES = (", United Kingdom", ", UK")


def _locality(address: Mapping[str, Any]) -> str | None:
    return next((address[key] for key in _LOCALITY_KEYS if address.get(key)), None)


def _display_postcode(address: Mapping[str, Any]) -> str | None:
    postcode = address.get("postcode")
    if not isinstance(postcode, str) or not postcode.strip():
        return None
    return normalise_uk_postcode(postcode) or postcode.strip()


def _short_display_name(display_name: str) -> str:
    # Every answer is in the UK; the country only makes labels longer.
    for suffix in _COUNTRY_SUFFIXES:
        if display_name.endswith(suffix):
            return display_name[: -len(suffix)]
    return display_name


def _label_for(raw: Mapping[str, Any], kind: str, fallback: str) -> str:
    """A short, human label such as ``12 Eastgate Street, Stafford ST16 2LZ``.

    Built from Nominatim's ``address`` details when present; otherwise the
    provider's own display name, minus the country.
    """
    address = raw.get("address")
    if not isinstance(address, Mapping) or not address:
        return _short_display_name(fallback)
    name = raw.get("name") or None
    locality = _locality(address)
    if kind == KIND_PLACE:
        region = address.get("county") or address.get("state_district") or address.get("state")
        parts = [name or locality, region]
    else:
        road = address.get("road")
        house = address.get("house_number")
        street = f"{house} {road}" if house and road else road
        tail = " ".join(part for part in (locality, _display_postcode(address)) if part) or None
        named = name if name and name not in (road, locality) else None
        parts = [named, street, tail]
    label = ", ".join(part for part in parts if part)
    return label or _short_display_name(fallback)


def _raw(location: Location) -> Mapping[str, Any]:
    return location.raw if isinstance(location.raw, Mapping) else {}


def _address(location: Location) -> Mapping[str, Any]:
    address = _raw(location).get("address")
    return address if isinstance(address, Mapping) else {}


def _point_of(location: Location) -> tuple[float, float] | None:
    return _checked_point(location.latitude, location.longitude)


def _candidate_from(location: Location) -> GeocodeCandidate | None:
    """A candidate from one geopy ``Location``, or ``None`` when its coordinates are unusable."""
    point = _point_of(location)
    if point is None:
        return None
    raw = _raw(location)
    line = _line_from_geojson(raw.get("geojson"))
    kind = _kind_for(raw, line)
    return GeocodeCandidate(
        label=_label_for(raw, kind, location.address or ""),
        lat=point[0],
        lon=point[1],
        kind=kind,
        line=line,
    )


def _postcode_centroid(locations: Sequence[Location], postcode: str) -> GeocodeCandidate | None:
    """One candidate at the centre of ``postcode``.

    Nominatim answers a postcode with its own postcode object (type
    ``postcode``, placed at the centroid) when it has one; failing that, the
    centre of the answers inside that postcode; failing that, the provider's
    best answer (providers without address details can say no more).
    """
    usable = [location for location in locations if _point_of(location) is not None]
    inside = [location for location in usable if _postcode_of(location) == postcode]
    postcode_objects = [location for location in inside if _raw(location).get("type") == "postcode"]
    chosen = postcode_objects[:1] or inside or usable[:1]
    if not chosen:
        return None
    points = [point for point in map(_point_of, chosen) if point is not None]
    lat = sum(point[0] for point in points) / len(points)
    lon = sum(point[1] for point in points) / len(points)
    locality = _locality(_address(chosen[0]))
    label = f"{postcode}, {locality}" if locality else postcode
    return GeocodeCandidate(label=label, lat=lat, lon=lon, kind=KIND_POSTCODE, line=None)


def _postcode_of(location: Location) -> str | None:
    postcode = _address(location).get("postcode")
    return normalise_uk_postcode(postcode) if isinstance(postcode, str) else None


def _merge_same_label(candidates: Sequence[GeocodeCandidate]) -> list[GeocodeCandidate]:
    """One candidate per label, keeping the provider's order.

    Nominatim often returns one street as several OSM ways with the same name
    and town; their lines are joined so the whole street is there to target.
    """
    merged: dict[str, GeocodeCandidate] = {}
    for candidate in candidates:
        first = merged.get(candidate.label)
        if first is None:
            merged[candidate.label] = candidate
        elif first.line is not None and candidate.line is not None:
            merged[candidate.label] = replace(first, line=_join_lines(first.line, candidate.line))
    return list(merged.values())


def _join_lines(*lines: LineString | MultiLineString) -> LineString | MultiLineString:
    parts = [part for line in lines for part in (line.geoms if isinstance(line, MultiLineString) else [line])]
    joined = linemerge(MultiLineString(parts))
    return joined if isinstance(joined, LineString | MultiLineString) else MultiLineString(parts)


def _candidates_from(locations: Sequence[Location], query: _Query, limit: int) -> list[GeocodeCandidate]:
    if query.postcode is not None:
        centroid = _postcode_centroid(locations, query.postcode)
        return [centroid] if centroid is not None else []
    found = (_candidate_from(location) for location in locations)
    return _merge_same_label([candidate for candidate in found if candidate is not None])[:limit]


# --- geopy plumbing ------------------------------------------------------------------------


class _DropInvalidPlaces:
    """Mixin for Nominatim-family geocoders: check each place's raw coordinates first.

    geopy turns every place into a ``Point``, which raises on an out-of-range
    latitude (failing the whole answer for one bad place) and silently wraps
    an out-of-range longitude. Checking the raw strings first lets one bad
    place be dropped while the rest are kept.
    """

    def _parse_code(self, place: Mapping[str, Any]) -> Location | None:
        if _checked_point(place.get("lat"), place.get("lon")) is None:
            return None
        return super()._parse_code(place)  # type: ignore[misc]


@functools.cache
def _dropping_invalid_places(geocoder_class: type[Nominatim]) -> type[Nominatim]:
    return type(geocoder_class.__name__, (_DropInvalidPlaces, geocoder_class), {})


# One limiter per Nominatim server for the whole process, however many
# GeopyGeocoder objects are built: the policy is per application, not per object.
_nominatim_limiters: dict[str, AsyncRateLimiter] = {}
_nominatim_limiters_lock = threading.Lock()


async def _await_call(call: Any, *args: Any, **kwargs: Any) -> Any:
    return await call(*args, **kwargs)


def _nominatim_limiter(server: str) -> AsyncRateLimiter:
    with _nominatim_limiters_lock:
        limiter = _nominatim_limiters.get(server)
        if limiter is None:
            # No retries and no swallowed errors: a failure reaches the
            # person promptly as "try again", rather than a silent empty answer.
            limiter = AsyncRateLimiter(
                _await_call,
                min_delay_seconds=NOMINATIM_MIN_DELAY_SECONDS,
                max_retries=0,
                error_wait_seconds=NOMINATIM_MIN_DELAY_SECONDS,
                swallow_exceptions=False,
            )
            _nominatim_limiters[server] = limiter
        return limiter


def _build_geolocator(
    service: str, *, domain: str | None, scheme: str | None, user_agent: str, timeout: float
) -> Any:
    geocoder_class = get_geocoder_for_service(service)
    if issubclass(geocoder_class, Nominatim):
        geocoder_class = _dropping_invalid_places(geocoder_class)
    options: dict[str, Any] = {"user_agent": user_agent, "timeout": timeout, "adapter_factory": AioHTTPAdapter}
    if domain is not None:
        options["domain"] = domain
    if scheme is not None:
        options["scheme"] = scheme
    try:
        return geocoder_class(**options)
    except TypeError as error:
        raise ValueError(f"the {service!r} geocoder cannot be set up with {sorted(options)}: {error}") from error


class _LruCache:
    """Successful answers by normalised query, newest last (Nominatim requires caching)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[tuple[str, int], list[GeocodeCandidate]] = OrderedDict()

    def get(self, key: tuple[str, int]) -> list[GeocodeCandidate] | None:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
            return list(found)
        return None

    def put(self, key: tuple[str, int], candidates: list[GeocodeCandidate]) -> None:
        if self._size <= 0:
            return
        self._items[key] = list(candidates)
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)


class GeopyGeocoder:
    """A ``Geocoder`` over any geopy service, Nominatim by default.

    ``domain``/``scheme`` point it at a force's own Nominatim (or the local
    stand-in); ``timeout`` bounds a whole search, including any wait for the
    one-request-per-second slot.
    """

    def __init__(
        self,
        service: str = "nominatim",
        *,
        domain: str | None = None,
        scheme: str | None = None,
        user_agent: str = "lookout",
        timeout: float = 5.0,
        country_codes: str = "gb",
        cache_size: int = 2048,
    ) -> None:
        if not (math.isfinite(timeout) and timeout > 0):
            raise ValueError("timeout must be a positive number of seconds")
        self._timeout = timeout
        self._country_codes = country_codes
        self._geolocator = _build_geolocator(
            service, domain=domain, scheme=scheme, user_agent=user_agent, timeout=timeout
        )
        self._is_nominatim = isinstance(self._geolocator, Nominatim)
        self._limiter = _nominatim_limiter(self._geolocator.api) if self._is_nominatim else None
        self._cache = _LruCache(cache_size)

    async def search(self, query: str, *, limit: int = 5) -> list[GeocodeCandidate]:
        """Candidates for ``query``, best first; raises ``NoMatch`` rather than return nothing."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        prepared = _prepare_query(query)
        cache_key = (prepared.cache_key, limit)
        cached = self._cache.get(cache_key)
        if cached is not None:
            logger.debug("geocode answered from cache: %d candidate(s)", len(cached))
            return cached
        locations = await self._locations_for(prepared.text, limit)
        candidates = _candidates_from(locations, prepared, limit)
        if not candidates:
            raise NoMatch()
        self._cache.put(cache_key, candidates)
        logger.debug("geocode answered by provider: %d candidate(s)", len(candidates))
        return candidates

    async def aclose(self) -> None:
        await self._geolocator.__aexit__(None, None, None)

    async def __aenter__(self) -> GeopyGeocoder:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _locations_for(self, text: str, limit: int) -> list[Location]:
        """Ask the provider, translating every failure into a friendly error."""
        try:
            async with asyncio.timeout(self._timeout):
                answer = await self._ask_provider(text, limit)
        except geopy.exc.GeocoderQueryError as error:
            # The provider refused this query as malformed: to the person,
            # that is the same as not finding it.
            raise NoMatch() from error
        except (geopy.exc.GeopyError, TimeoutError, ValueError) as error:
            # The type alone tells operators enough; the message may echo the query.
            logger.warning("geocoder unavailable: %s", type(error).__name__)
            raise GeocoderUnavailable() from error
        if answer is None:
            return []
        locations = answer if isinstance(answer, list) else [answer]
        return [location for location in locations if location is not None]

    async def _ask_provider(self, text: str, limit: int) -> Any:
        if self._limiter is None:
            return await self._geolocator.geocode(text, exactly_one=False)
        return await self._limiter(
            self._geolocator.geocode,
            text,
            exactly_one=False,
            limit=limit,
            geometry="geojson",
            country_codes=self._country_codes,
            addressdetails=True,
        )
