"""Turning what people type (a postcode, an address, a street) into places.

Residents type where they live or where they saw something; officers type the
street an alert is about. Both go through a ``Geocoder``: a small protocol the
rest of the core depends on. This module holds it with what every geocoder
shares: the candidates it answers, the errors people read, the checks a query
passes before anything leaves the process, and UK postcode normalisation. The
implementation that talks to a real provider (geopy: Nominatim by default, any
geopy service by name) is an adapter, ``bots/geocoding/``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from shapely.geometry import LineString, MultiLineString, mapping, shape

from core.errors import LookoutError

MAX_QUERY_LENGTH = 200

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
        "The address lookup isn't answering right now. Please try again in a minute, or share your location instead."
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


class GeocodeCache(Protocol):
    """Answers kept for every process of a deployment (storage: a table, each answer with an expiry).

    Nominatim's policy asks for caching per application, not per process; a process's own small cache sits in
    front of this one."""

    async def get(self, key: str) -> list[GeocodeCandidate] | None:
        """The answer kept for ``key`` if it has not expired, else None."""
        ...

    async def put(self, key: str, candidates: list[GeocodeCandidate]) -> None: ...


def candidates_to_json(candidates: list[GeocodeCandidate]) -> str:
    """Candidates as JSON text (a street's line as GeoJSON), for a cache to keep."""
    return json.dumps(
        [
            {
                "label": c.label,
                "lat": c.lat,
                "lon": c.lon,
                "kind": c.kind,
                "line": mapping(c.line) if c.line is not None else None,
            }
            for c in candidates
        ]
    )


def candidates_from_json(text: str) -> list[GeocodeCandidate]:
    """The candidates ``candidates_to_json`` wrote."""
    return [
        GeocodeCandidate(
            item["label"], item["lat"], item["lon"], item["kind"], shape(item["line"]) if item.get("line") else None
        )
        for item in json.loads(text)
    ]


@runtime_checkable
class Geocoder(Protocol):
    async def search(self, query: str, *, limit: int = 5) -> list[GeocodeCandidate]:
        """Candidates for ``query``, best first; never empty (raises ``NoMatch``)."""
        ...

    async def street_near(self, lat: float, lon: float) -> str | None:
        """The street (or else the neighbourhood) at a point, with its town: ``Eastgate Street, Stafford``,
        how residents read where an alert is. None when the provider knows none there or cannot be reached."""
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
class PreparedQuery:
    text: str  # what the provider is asked
    cache_key: str
    postcode: str | None  # the query is this full UK postcode


def prepare_query(query: str) -> PreparedQuery:
    """Check and tidy a query before anything leaves the process (every ``Geocoder`` does this first)."""
    text = " ".join(query.split()) if isinstance(query, str) else ""
    if not text:
        raise GeocodingError(EMPTY_QUERY_MESSAGE)
    if len(text) > MAX_QUERY_LENGTH:
        raise GeocodingError(LONG_QUERY_MESSAGE)
    postcode = normalise_uk_postcode(text)
    if postcode is not None:
        return PreparedQuery(text=postcode, cache_key=postcode.casefold(), postcode=postcode)
    return PreparedQuery(text=text, cache_key=text.casefold(), postcode=None)
