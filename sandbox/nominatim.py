"""A local stand-in for a Nominatim server, speaking Nominatim's own JSON.

It answers ``GET /search`` (``format=json`` or ``jsonv2``, ``limit``,
``polygon_geojson``, ``addressdetails``, ``countrycodes``), ``GET /reverse``
(``lat``, ``lon``: the nearest street within ``REVERSE_REACH_M``, else the
nearest town, else Nominatim's "Unable to geocode") and ``GET /status``
from a small built-in gazetteer of a Staffordshire-like town centred on
Stafford, so the geocoder, the demo and end-to-end tests never leave the
machine. Tests can add places, slow the server down, make it fail with a given
status, and read back every request it received with a monotonic timestamp.

    with NominatimStandIn() as nominatim:
        geocoder = GeopyGeocoder(  # bots.geocodingdomain=nominatim.domain, scheme=nominatim.scheme)

Run on its own for the demo: ``python -m sandbox.nominatim --port 8089``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import re
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from sandbox.faults import FaultInjector
from sandbox.server import BackgroundServer, route_path

LICENCE = "Data © OpenStreetMap contributors, ODbL 1.0. http://osm.org/copyright"

REVERSE_REACH_M = 400.0  # a point further than this from every street is answered with its town
# Nominatim's defaults and ceiling for ``limit``.
DEFAULT_LIMIT = 10
MAX_LIMIT = 40

_ENGLAND = {"county": "Staffordshire", "ISO3166-2-lvl4": "GB-ENG", "state": "England"}
_UK = {"country": "United Kingdom", "country_code": "gb"}
# Address keys that Nominatim returns but leaves out of ``display_name``.
_NOT_DISPLAYED = ("country_code", "ISO3166-2-lvl4", "ISO3166-2-lvl6")


# --- the gazetteer --------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """One gazetteer entry, holding what Nominatim would say about it.

    ``geometry`` is GeoJSON in lon/lat order; a Point at (lat, lon) is used
    when it is ``None``. Coordinates are deliberately not checked here, so
    tests can plant a broken place and see that clients cope.
    """

    category: str  # OSM class: place, highway, building, ...
    type: str
    lat: float
    lon: float
    display_name: str
    address: Mapping[str, str]
    name: str = ""
    osm_type: str | None = None  # computed postcodes have no OSM object
    osm_id: int | None = None
    geometry: Mapping[str, Any] | None = None
    importance: float = 0.1
    place_rank: int = 30
    addresstype: str = "place"
    bbox_half_size: float = 0.0001  # degrees either side, for point places

    @property
    def postcode(self) -> str | None:
        return _compact_postcode(self.address.get("postcode", "")) or None

    @property
    def country_code(self) -> str:
        return self.address.get("country_code", "")

    def geojson(self) -> Mapping[str, Any]:
        return self.geometry or {"type": "Point", "coordinates": [self.lon, self.lat]}

    def boundingbox(self) -> list[str]:
        """``[min_lat, max_lat, min_lon, max_lon]`` as strings, Nominatim's order."""
        if self.geometry is not None and self.geometry.get("type") == "LineString":
            lons = [point[0] for point in self.geometry["coordinates"]]
            lats = [point[1] for point in self.geometry["coordinates"]]
            return [_coordinate(min(lats)), _coordinate(max(lats)), _coordinate(min(lons)), _coordinate(max(lons))]
        d = self.bbox_half_size
        return [
            _coordinate(self.lat - d),
            _coordinate(self.lat + d),
            _coordinate(self.lon - d),
            _coordinate(self.lon + d),
        ]


def _coordinate(value: float) -> str:
    # Nominatim sends coordinates as strings with seven decimals.
    return f"{value:.7f}"


def _display_name(*parts: str | None, address: Mapping[str, str]) -> str:
    tail = [value for key, value in address.items() if key not in _NOT_DISPLAYED]
    seen: list[str] = []
    for part in [*parts, *tail]:
        if part and part not in seen:
            seen.append(part)
    return ", ".join(seen)


def _region(town: str, postcode: str | None = None, **more: str) -> dict[str, str]:
    """Address details from the town outwards, in Nominatim's order."""
    address = {**more, "town": town, **_ENGLAND}
    if postcode:
        address["postcode"] = postcode
    return {**address, **_UK}


def postcode_place(postcode: str, lat: float, lon: float, town: str) -> Place:
    """A postcode centroid, as Nominatim computes it (no OSM object behind it)."""
    address = _region(town, postcode)
    return Place(
        category="place",
        type="postcode",
        lat=lat,
        lon=lon,
        display_name=_display_name(postcode, address=address),
        address=address,
        name=postcode,
        importance=0.3,
        place_rank=25,
        addresstype="postcode",
        bbox_half_size=0.0005,
    )


def address_place(
    house_number: str, road: str, town: str, postcode: str, lat: float, lon: float, *, osm_id: int
) -> Place:
    """A house with a number on a road."""
    address = {"house_number": house_number, "road": road, **_region(town, postcode)}
    return Place(
        category="place",
        type="house",
        lat=lat,
        lon=lon,
        display_name=_display_name(address=address),
        address=address,
        osm_type="node",
        osm_id=osm_id,
        importance=0.1,
        place_rank=30,
        addresstype="place",
    )


def street_place(
    road: str,
    town: str,
    line: Sequence[tuple[float, float]],
    *,
    osm_id: int,
    postcode: str | None = None,
    highway: str = "residential",
) -> Place:
    """A street as an OSM way; ``line`` is (lon, lat) pairs, GeoJSON's order."""
    address = {"road": road, **_region(town, postcode)}
    middle = line[len(line) // 2]
    return Place(
        category="highway",
        type=highway,
        lat=middle[1],
        lon=middle[0],
        display_name=_display_name(address=address),
        address=address,
        name=road,
        osm_type="way",
        osm_id=osm_id,
        geometry={"type": "LineString", "coordinates": [list(point) for point in line]},
        importance=0.2,
        place_rank=26,
        addresstype="road",
    )


def settlement_place(name: str, kind: str, lat: float, lon: float, *, osm_id: int) -> Place:
    """A town or village, as an OSM place node."""
    address = {kind: name, **_ENGLAND, **_UK}
    return Place(
        category="place",
        type=kind,
        lat=lat,
        lon=lon,
        display_name=_display_name(address=address),
        address=address,
        name=name,
        osm_type="node",
        osm_id=osm_id,
        importance=0.5,
        place_rank=16 if kind == "town" else 19,
        addresstype=kind,
        bbox_half_size=0.03,
    )


def stafford_gazetteer() -> list[Place]:
    """The built-in places: Stafford's centre, and Stone up the road for a second Station Road."""
    return [
        settlement_place("Stafford", "town", 52.8067, -2.1174, osm_id=20925870),
        settlement_place("Stone", "town", 52.9035, -2.1466, osm_id=20925902),
        postcode_place("ST16 2LZ", 52.80705, -2.11350, "Stafford"),
        postcode_place("ST16 2DH", 52.80590, -2.11770, "Stafford"),
        postcode_place("ST16 2AE", 52.80420, -2.12110, "Stafford"),
        postcode_place("ST16 3AA", 52.81270, -2.11830, "Stafford"),
        postcode_place("ST17 4AH", 52.79930, -2.11010, "Stafford"),
        postcode_place("ST15 8BA", 52.90390, -2.14580, "Stone"),
        street_place(
            "Eastgate Street",
            "Stafford",
            [(-2.11615, 52.80676), (-2.11480, 52.80690), (-2.11321, 52.80710), (-2.11140, 52.80738)],
            postcode="ST16 2LZ",
            highway="tertiary",
            osm_id=4256001,
        ),
        street_place(
            "Greengate Street",
            "Stafford",
            [(-2.11795, 52.80470), (-2.11780, 52.80560), (-2.11760, 52.80640), (-2.11745, 52.80700)],
            postcode="ST16 2DH",
            highway="pedestrian",
            osm_id=4256002,
        ),
        street_place(
            "Station Road",
            "Stafford",
            [(-2.12310, 52.80360), (-2.12180, 52.80410), (-2.12020, 52.80470)],
            postcode="ST16 2AE",
            osm_id=4256003,
        ),
        street_place(
            "Station Road",
            "Stone",
            [(-2.14700, 52.90330), (-2.14590, 52.90390), (-2.14460, 52.90450)],
            postcode="ST15 8BA",
            osm_id=4256004,
        ),
        address_place("12", "Eastgate Street", "Stafford", "ST16 2LZ", 52.80712, -2.11321, osm_id=310001),
        address_place("3", "Greengate Street", "Stafford", "ST16 2DH", 52.80601, -2.11762, osm_id=310002),
        address_place("27", "Station Road", "Stone", "ST15 8BA", 52.90410, -2.14530, osm_id=310003),
    ]


# --- matching ---------------------------------------------------------------------------

_NON_WORD = re.compile(r"[^0-9a-z]+")
_POSTCODE_SHAPE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$")


def _compact_postcode(text: str) -> str | None:
    compact = "".join(text.split()).upper()
    return compact if _POSTCODE_SHAPE.match(compact) else None


def _words(text: str) -> list[str]:
    return _NON_WORD.sub(" ", text.casefold()).split()


def _matches_words(query_words: Sequence[str], place: Place) -> bool:
    # Every word typed must start a word of the place's name, so "eastgate st"
    # finds "Eastgate Street" and "station road stone" only the Stone one.
    place_words = _words(f"{place.name} {place.display_name}")
    return all(any(word.startswith(typed) for word in place_words) for typed in query_words)


def find_places(places: Iterable[Place], query: str, country_codes: Sequence[str] = ()) -> list[Place]:
    """The places a query finds, most important first (ties keep gazetteer order).

    A full postcode finds every place in that postcode; anything else is
    matched word by word, case-insensitively.
    """
    postcode = _compact_postcode(query)
    query_words = _words(query)
    if not query_words:
        return []
    found = [
        place
        for place in places
        if (not country_codes or place.country_code in country_codes)
        and (place.postcode == postcode if postcode else _matches_words(query_words, place))
    ]
    return sorted(found, key=lambda place: -place.importance)


def nearest_place(places: Iterable[Place], lat: float, lon: float) -> Place | None:
    """What Nominatim's reverse lookup at street zoom answers: the nearest street within ``REVERSE_REACH_M``,
    else the nearest town or village, else nothing."""
    streets = [
        (metres_to_line(place, lat, lon), place) for place in places if place.category == "highway" and place.geometry
    ]
    close = [(metres, place) for metres, place in streets if metres <= REVERSE_REACH_M]
    if close:
        return min(close, key=lambda found: found[0])[1]
    towns = [place for place in places if place.category == "place" and place.type in ("town", "village")]
    return min(
        towns, key=lambda town: math.dist(_metres(town.lat, town.lon, lat), _metres(lat, lon, lat)), default=None
    )


def _metres(lat: float, lon: float, at_lat: float) -> tuple[float, float]:
    """(east, north) in metres on a plane that is true enough within a town."""
    return lon * 111_320.0 * math.cos(math.radians(at_lat)), lat * 110_574.0


def metres_to_line(place: Place, lat: float, lon: float) -> float:
    point = _metres(lat, lon, lat)
    coords = [_metres(float(c[1]), float(c[0]), lat) for c in (place.geometry or {}).get("coordinates", [])]
    if len(coords) < 2:
        return math.inf
    return min(_to_segment(point, a, b) for a, b in itertools.pairwise(coords))


def _to_segment(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    dx, dy = b[0] - a[0], b[1] - a[1]
    length = dx * dx + dy * dy
    t = 0.0 if length == 0 else max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length))
    return math.dist(p, (a[0] + t * dx, a[1] + t * dy))


# --- rendering Nominatim's JSON -------------------------------------------------------------


def render_place(place: Place, place_id: int, *, jsonv2: bool, address_details: bool, geojson: bool) -> dict[str, Any]:
    """One search result, with the fields and types Nominatim uses for ``json``/``jsonv2``."""
    result: dict[str, Any] = {"place_id": place_id, "licence": LICENCE}
    if place.osm_type is not None:
        result["osm_type"] = place.osm_type
        result["osm_id"] = place.osm_id
    result.update({"lat": _coordinate(place.lat), "lon": _coordinate(place.lon)})
    # jsonv2 renamed "class" to "category".
    result["category" if jsonv2 else "class"] = place.category
    result.update(
        {
            "type": place.type,
            "place_rank": place.place_rank,
            "importance": place.importance,
            "addresstype": place.addresstype,
            "name": place.name,
            "display_name": place.display_name,
        }
    )
    if address_details:
        result["address"] = dict(place.address)
    result["boundingbox"] = place.boundingbox()
    if geojson:
        result["geojson"] = dict(place.geojson())
    return result


# --- the stand-in ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedRequest:
    """A request as the stand-in saw it; ``at`` is ``time.monotonic()`` on arrival."""

    path: str
    params: Mapping[str, str]
    user_agent: str
    at: float


@dataclass
class _Faults:
    delay_seconds: float = 0.0
    fail_status: int | None = None


@dataclass
class _State:
    places: list[Place]
    requests: list[ReceivedRequest] = field(default_factory=list)
    faults: _Faults = field(default_factory=_Faults)


class NominatimStandIn:
    """The stand-in: its Starlette ``app``, its gazetteer, its faults, and a background server.

    ``start()`` serves it on 127.0.0.1 on a free port in a daemon thread;
    ``stop()`` shuts it down. Also a context manager doing both.
    """

    scheme = "http"

    def __init__(self, places: Iterable[Place] | None = None) -> None:
        self._state = _State(places=list(stafford_gazetteer() if places is None else places))
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        # Wire faults (sandbox.faults) besides set_delay/fail_with: a latency past the client's timeout is a timeout.
        self.app = FaultInjector(
            Starlette(
                routes=[
                    Route("/search", self._search),
                    Route("/reverse", self._reverse),
                    Route("/status", self._status),
                ]
            )
        )
        self._server = BackgroundServer(self.app, "Nominatim stand-in")

    # -- what tests and the demo adjust --

    def add(self, *places: Place) -> None:
        with self._lock:
            self._state.places.extend(places)

    def set_delay(self, seconds: float) -> None:
        """Answer every search only after ``seconds`` (for timeout tests)."""
        with self._lock:
            self._state.faults.delay_seconds = seconds

    def fail_with(self, status: int | None) -> None:
        """Answer every search with this HTTP status (``None`` to answer normally again)."""
        with self._lock:
            self._state.faults.fail_status = status

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self._state.requests)

    @property
    def search_requests(self) -> list[ReceivedRequest]:
        return [request for request in self.requests if request.path == "/search"]

    def clear_requests(self) -> None:
        with self._lock:
            self._state.requests.clear()

    # -- where it listens --

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def domain(self) -> str:
        """``host:port``, as geopy's ``domain`` wants it."""
        return f"127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.domain}"

    def start(self, *, startup_timeout: float = 10.0) -> NominatimStandIn:
        self._stopping.clear()
        self._server.start(startup_timeout=startup_timeout)
        return self

    def stop(self, *, timeout: float = 5.0) -> None:
        self._stopping.set()  # wakes any search still sitting out its delay
        self._server.stop(timeout=timeout)

    def __enter__(self) -> NominatimStandIn:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- the HTTP doors --

    def _record(self, request: Request) -> None:
        received = ReceivedRequest(
            path=route_path(request),  # "/search" whether it runs alone or mounted
            params=dict(request.query_params),
            user_agent=request.headers.get("user-agent", ""),
            at=time.monotonic(),
        )
        with self._lock:
            self._state.requests.append(received)

    async def _status(self, request: Request) -> Response:
        self._record(request)
        if request.query_params.get("format") == "json":
            return JSONResponse({"status": 0, "message": "OK"})
        return PlainTextResponse("OK")

    async def _places_unless_faulted(self, request: Request) -> list[Place] | Response:
        """Record the request, sit out any delay the test set, and give the gazetteer, or the failure the test asked for."""
        self._record(request)
        with self._lock:
            faults = _Faults(self._state.faults.delay_seconds, self._state.faults.fail_status)
            places = list(self._state.places)
        await self._sit_out(faults.delay_seconds)
        if faults.fail_status is not None:
            return PlainTextResponse("The stand-in was told to fail.", status_code=faults.fail_status)
        return places

    async def _search(self, request: Request) -> Response:
        places = await self._places_unless_faulted(request)
        if isinstance(places, Response):
            return places
        params = request.query_params
        output_format = params.get("format", "jsonv2")
        if output_format not in ("json", "jsonv2"):
            return _error(400, f"format '{output_format}' is not supported by the stand-in (use json or jsonv2)")
        query = params.get("q", "").strip()
        if not query:
            return _error(400, "Nothing to search for.")
        try:
            limit = min(max(int(params.get("limit", DEFAULT_LIMIT)), 1), MAX_LIMIT)
        except ValueError:
            return _error(400, "Integer expected for parameter 'limit'")
        country_codes = [code.strip().lower() for code in params.get("countrycodes", "").split(",") if code.strip()]
        found = find_places(places, query, country_codes)[:limit]
        return JSONResponse(
            [
                render_place(
                    place,
                    _place_id(place, places),
                    jsonv2=output_format == "jsonv2",
                    address_details=_flag(params, "addressdetails"),
                    geojson=_flag(params, "polygon_geojson"),
                )
                for place in found
            ]
        )

    async def _reverse(self, request: Request) -> Response:
        places = await self._places_unless_faulted(request)
        if isinstance(places, Response):
            return places
        params = request.query_params
        try:
            lat, lon = float(params.get("lat", "")), float(params.get("lon", ""))
        except ValueError:
            return _error(400, "Floating-point number expected for parameter 'lat' and 'lon'")
        place = nearest_place(places, lat, lon)
        if place is None:
            return JSONResponse({"error": "Unable to geocode"})
        return JSONResponse(
            render_place(
                place,
                _place_id(place, places),
                jsonv2=params.get("format", "xml") == "jsonv2",
                address_details=params.get("addressdetails", "1") not in ("0", "false"),
                geojson=_flag(params, "polygon_geojson"),
            )
        )

    async def _sit_out(self, seconds: float) -> None:
        # Sleep in short steps so stop() need not wait for a long artificial delay.
        deadline = time.monotonic() + seconds
        while not self._stopping.is_set() and (remaining := deadline - time.monotonic()) > 0:
            await asyncio.sleep(min(remaining, 0.05))


def _place_id(place: Place, places: Sequence[Place]) -> int:
    # Stable for the life of the stand-in: a place's position in the gazetteer.
    return 100000 + next(index for index, candidate in enumerate(places) if candidate is place)


def _flag(params: Mapping[str, str], name: str) -> bool:
    return params.get(name, "0") not in ("0", "", "false")


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": status, "message": message}}, status_code=status)


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the stand-in in the foreground, for the demo or by hand."""
    parser = argparse.ArgumentParser(description="A local stand-in for a Nominatim server.")
    parser.add_argument("--port", type=int, default=8089)
    args = parser.parse_args(argv)
    import uvicorn

    uvicorn.run(NominatimStandIn().app, host="127.0.0.1", port=args.port, log_level="info")


if __name__ == "__main__":
    main()
