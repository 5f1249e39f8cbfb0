"""``GeopyGeocoder``: the ``Geocoder`` over any geopy service, Nominatim by default.

Nominatim's usage policy shapes this module: at most one request per second
from the whole application, an identifying User-Agent, and caching of results.
Coordinates that come back are never logged (nor are the queries, which are
often someone's home address).

Several processes (PostgreSQL) share the one request a second and the cache:
given a ``slots`` source, each request waits for a slot of a schedule kept in
the database (the one the delivery workers' send slots use, timed by the
database's clock); given a ``shared_cache``, answers are kept there for every
process, behind this process's own small cache. Without them (SQLite, one
process) the limit and the cache are this process's own.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import geopy.exc
from geopy.adapters import AioHTTPAdapter
from geopy.extra.rate_limiter import AsyncRateLimiter
from geopy.geocoders import Nominatim, get_geocoder_for_service
from geopy.location import Location

from bots.geocoding.answers import candidates_from, checked_point, street_words
from core.delivery.ratelimit import SlotSource
from core.geocoding import (
    KIND_ADDRESS,
    KIND_STREET,
    GeocodeCache,
    GeocodeCandidate,
    GeocoderUnavailable,
    NoMatch,
    prepare_query,
)

logger = logging.getLogger(__name__)

# Nominatim's policy: "an absolute maximum of 1 request per second".
NOMINATIM_MIN_DELAY_SECONDS = 1.0


class _DropInvalidPlaces:
    """Mixin for Nominatim-family geocoders: check each place's raw coordinates first.

    geopy turns every place into a ``Point``, which raises on an out-of-range
    latitude (failing the whole answer for one bad place) and silently wraps
    an out-of-range longitude. Checking the raw strings first lets one bad
    place be dropped while the rest are kept.
    """

    def _parse_code(self, place: Mapping[str, Any]) -> Location | None:
        if checked_point(place.get("lat"), place.get("lon")) is None:
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


def _build_geolocator(service: str, *, domain: str | None, scheme: str | None, user_agent: str, timeout: float) -> Any:
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
        slots: SlotSource | None = None,
        shared_cache: GeocodeCache | None = None,
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
        self._slots = slots if self._is_nominatim else None
        # One schedule per Nominatim server, whichever process asks.
        self._slot_key = f"geocoder:{urlsplit(self._geolocator.api).netloc}"[:64]
        self._cache = _LruCache(cache_size)
        self._shared = shared_cache

    @property
    def slot_key(self) -> str:
        """The shared schedule this geocoder's requests take their turns from (one per provider server)."""
        return self._slot_key

    async def search(self, query: str, *, limit: int = 5) -> list[GeocodeCandidate]:
        """Candidates for ``query``, best first; raises ``NoMatch`` rather than return nothing."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        prepared = prepare_query(query)
        cache_key = (prepared.cache_key, limit)
        cached = self._cache.get(cache_key) or await self._shared_get(f"search:{limit}:{prepared.cache_key}", cache_key)
        if cached is not None:
            logger.debug("geocode answered from cache: %d candidate(s)", len(cached))
            return cached
        locations = await self._locations_for(prepared.text, limit)
        candidates = candidates_from(locations, prepared, limit)
        if not candidates:
            raise NoMatch()
        self._cache.put(cache_key, candidates)
        if candidates[0].kind != KIND_ADDRESS:
            # A house found first means someone typed their address: that answer stays in this process's memory, never
            # in the database. Postcodes, streets and places are public geography, kept for every process.
            await self._shared_put(f"search:{limit}:{prepared.cache_key}", candidates)
        logger.debug("geocode answered by provider: %d candidate(s)", len(candidates))
        return candidates

    async def street_near(self, lat: float, lon: float) -> str | None:
        """The street at a point, in words (Nominatim's reverse lookup at street zoom), cached like searches.

        Never raises: the words are a nicety on top of the point, so a provider that fails or has no reverse
        lookup leaves the caller's own words (logged as a warning, without the point)."""
        cache_key = (f"near:{lat:.5f},{lon:.5f}", 1)
        cached = self._cache.get(cache_key) or await self._shared_get(cache_key[0], cache_key)
        if cached is not None:
            return cached[0].label or None
        try:
            async with asyncio.timeout(self._timeout):
                location = await self._reverse(lat, lon)
        except (geopy.exc.GeopyError, TimeoutError, ValueError, NotImplementedError) as error:
            logger.warning("street lookup unavailable: %s", type(error).__name__)
            return None
        words = street_words(location if isinstance(location, Location) else None)
        self._cache.put(cache_key, [GeocodeCandidate(words or "", lat, lon, KIND_STREET)])
        await self._shared_put(
            cache_key[0], [GeocodeCandidate(words or "", 0.0, 0.0, KIND_STREET)]
        )  # the words only: the point is the key's
        return words

    async def _shared_get(self, key: str, local_key: tuple[str, int]) -> list[GeocodeCandidate] | None:
        """The shared cache's answer (kept in this process's cache too); None when it has none or cannot be read."""
        if self._shared is None:
            return None
        try:
            found = await self._shared.get(key)
        except Exception as error:  # the cache is a saving, never a reason to fail a lookup
            logger.warning("shared geocoder cache unreadable: %s", type(error).__name__)
            return None
        if found:
            self._cache.put(local_key, found)
        return found or None

    async def _shared_put(self, key: str, candidates: list[GeocodeCandidate]) -> None:
        if self._shared is None:
            return
        try:
            await self._shared.put(key, candidates)
        except Exception as error:
            logger.warning("shared geocoder cache not written: %s", type(error).__name__)

    async def _in_turn(self, call: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
        """``call`` at the deployment's next free second (the database's schedule), or this process's own if the
        database cannot give one."""
        if self._slots is not None:
            try:
                delay = await self._slots.reserve(self._slot_key, 1, 1.0 / NOMINATIM_MIN_DELAY_SECONDS)
            except Exception as error:
                logger.warning(
                    "shared geocoder slot unavailable (%s); keeping to this process's own second", type(error).__name__
                )
            else:
                await asyncio.sleep(delay)
                return await call(*args, **kwargs)
        assert self._limiter is not None
        return await self._limiter(call, *args, **kwargs)

    async def _reverse(self, lat: float, lon: float) -> Any:
        if self._limiter is None:
            return await self._geolocator.reverse((lat, lon), exactly_one=True)
        return await self._in_turn(self._geolocator.reverse, (lat, lon), exactly_one=True, zoom=17, addressdetails=True)

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
        return await self._in_turn(
            self._geolocator.geocode,
            text,
            exactly_one=False,
            limit=limit,
            geometry="geojson",
            country_codes=self._country_codes,
            addressdetails=True,
        )
