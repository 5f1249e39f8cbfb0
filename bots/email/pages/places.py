"""From a typed postcode or address to one place, snapped to its cell before anything else sees it.

The geocoder may find several places ("Station Road" is in two towns); the
page then shows them as radio buttons and the person picks one. The pick is
checked against a fresh lookup of the same words (answered from the
geocoder's cache), so nothing about the candidates has to travel in the page.
"""

from __future__ import annotations

from dataclasses import dataclass

import h3

from core.errors import InvalidInput
from core.force import ForceConfig
from core.geo.cells import cell_centre, snap
from core.geocoding import Geocoder, GeocoderUnavailable, GeocodingError

MAX_CANDIDATES = 5
UNAVAILABLE_MESSAGE = "The address lookup isn't answering right now. Please try again in a minute."


@dataclass(frozen=True)
class Spot:
    """A found place as the pages keep it: its name, and the centre of its cell (never the exact point)."""

    name: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Found:
    """The outcome of a lookup: one place, or several to choose from."""

    spot: Spot | None = None
    choices: tuple[Spot, ...] = ()
    searched: str = ""


async def find_place(
    geocoder: Geocoder, force: ForceConfig, query: str, *, chosen: str = "", searched: str = ""
) -> Found:
    """One place for ``query``, or the choices when it is ambiguous and nothing valid was chosen.

    Raises ``InvalidInput`` on ``where`` (not found, lookup down) or ``place`` (a pick that no longer fits).
    """
    try:
        candidates = await geocoder.search(query, limit=MAX_CANDIDATES)
    except GeocoderUnavailable:
        raise InvalidInput.one("where", UNAVAILABLE_MESSAGE) from None
    except GeocodingError as error:
        raise InvalidInput.one("where", error.message) from None
    spots = tuple(Spot(c.label, *cell_centre(snap(c.lat, c.lon, force.resolution))) for c in candidates)
    if len(spots) == 1:
        return Found(spot=spots[0], searched=query)
    if chosen and searched == query:
        if chosen.isdigit() and int(chosen) < len(spots):
            return Found(spot=spots[int(chosen)], searched=query)
        raise InvalidInput.one("place", "Choose one of the places listed.")
    return Found(choices=spots, searched=query)


def place_options(spots: tuple[Spot, ...]) -> list[tuple[str, str, str]]:
    """The places found, as radio buttons (value: the index in the lookup's answer)."""
    return [(str(index), spot.name, "") for index, spot in enumerate(spots)]


def area_size_words(resolution: int) -> str:
    """How big the stored area is, in words people can picture (for the privacy summary)."""
    across = 2 * h3.average_hexagon_edge_length(resolution, unit="m")
    return f"about {round(across, -1):.0f} metres across" if across < 1000 else f"about {across / 1000:.1f} km across"
