"""``lookout bench match``: how fast an alert finds its recipients and queues them.

A synthetic population (default a million residents around Stafford) is built
once and cached, then three things are timed, each as the median of a few runs:

- ``circle_3km``: the whole send path for a 3 km circle — cover the area and
  rank its cells nearest first (``cover_ms``), then in one transaction create
  the message, resolve recipients and write their delivery rows nearest first
  (``INSERT … SELECT``), and commit;
- ``circle_3km_resolve`` / ``street_100m_resolve``: resolution alone
  (``count_recipients``), nothing written;
- ``street_100m``: the whole send path for a 100 m street with 50 m either side;
- ``bruteforce``: the 3 km question answered without the H3 index — every
  place read back and measured by exact geodesic distance — to show what the
  index buys. It is compared with resolution alone (``count_recipients``), so
  both sides do the same work minus the writes.

With ``--peer postgis`` the same residents are built again in a PostGIS
database of their own, as exact points, and the same areas are asked of it
with ``ST_DWithin`` (``benchmarks/postgis_peer.py``); both sets of figures are
printed side by side.

Figures, not assertions: nothing here fails when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import h3
import numpy as np
from pyproj import Geod
from shapely.geometry import LineString
from sqlalchemy import Column, MetaData, String, Table, delete, event, exists, select
from sqlalchemy.ext.asyncio import AsyncEngine

from benchmarks.postgis_peer import open_peer_population, peer_resolve, peer_send, peer_version, prepare_peer_database
from core.clock import utc_now
from core.delivery.priority import Priority
from core.errors import LookoutError
from core.force import ALL_TOPICS, load_force_config
from core.geo.areas import Area, CircleArea, StreetArea
from core.geo.cells import Cover, area_cells, cover_area, cover_of
from core.geo.nearness import Nearness, nearness
from core.geo.projection import projection_around
from core.model import Audience, MessageKind
from core.ports import RecipientCriteria
from runtime.examples import EXAMPLE_FORCE_CONFIG
from runtime.population import build_population
from storage.database import make_async_engine
from storage.matching import recipients, recipients_statement
from storage.migrate import upgrade
from storage.outbox import SqlOutbox
from storage.tables import deliveries, messages, places, reachable_places, residents, subscriptions
from storage.uow import SqlUnitOfWork

TOWN = "Stafford"
TOWN_CENTRE = (52.8067, -2.1174)
TOWN_RADIUS_M = 13_400.0
RESOLUTION = 10
SEED = 1
CIRCLE_RADIUS_M = 3000.0
STREET_LENGTH_M = 100.0
STREET_BUFFER_M = 50.0
STREET_NORTH_OF_CENTRE_M = 300.0
ALERT_TOPICS = ("burglary",)
EXAMPLE_FORCE = EXAMPLE_FORCE_CONFIG
# Bump when population.py draws residents differently, so old caches are rebuilt.
POPULATION_VERSION = 1

_bench_metadata = MetaData()
# The benchmark's own marker: which population the database holds. Written
# only after a build commits, so an interrupted build is never reused.
bench_meta = Table(
    "bench_meta",
    _bench_metadata,
    Column("key", String(40), primary_key=True),
    Column("value", String(2000), nullable=False),
)
_POPULATION_KEY = "population"
PEER_POSTGIS = "postgis"


@dataclass(frozen=True)
class Population:
    """Everything that decides which residents a build produces."""

    residents: int
    topics: tuple[str, ...]
    sectors: tuple[str, ...]
    centre: tuple[float, float] = TOWN_CENTRE
    radius_m: float = TOWN_RADIUS_M
    resolution: int = RESOLUTION
    seed: int = SEED
    version: int = POPULATION_VERSION

    def signature(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


async def run_match_benchmark(
    *,
    residents: int,
    database_url: str | None,
    cache_dir: Path = Path("var/bench"),
    repeats: int = 3,
    rebuild: bool = False,
    progress: Callable[[int], None] | None = None,
    peer: str | None = None,
) -> dict[str, Any]:
    """Build or reuse the population, time the matching, and return the figures.

    ``database_url`` None means a cached SQLite file in ``cache_dir``. A
    PostgreSQL URL should name its own schema (``?options=-csearch_path%3D…``);
    the schema must exist, and is refused if it holds residents that no
    benchmark wrote. ``peer="postgis"`` adds the PostGIS figures under
    ``"side_by_side"`` (PostgreSQL only).
    """
    if peer not in (None, PEER_POSTGIS):
        raise LookoutError(f"unknown peer {peer!r}; the one peer is {PEER_POSTGIS!r}")
    peer_database = None
    if peer == PEER_POSTGIS:
        if database_url is None:
            raise LookoutError(
                "--peer postgis needs --database-url postgresql+psycopg://… (PostGIS runs inside PostgreSQL)"
            )
        # Before the long Lookout build: a missing PostGIS is reported (or installed) at once.
        peer_database = await asyncio.to_thread(prepare_peer_database, database_url)
    population = _population(residents)
    url = database_url or _cached_sqlite_url(cache_dir, residents)
    if database_url is None:
        await _drop_stale_cache(Path(cache_dir) / f"match-{residents}.db", population, rebuild)
    engine, build_s = await _open_population(url, population, rebuild=rebuild, progress=progress)
    try:
        figures: dict[str, Any] = await _database_info(engine)
        figures |= {"town": TOWN, "residents": residents, "resolution": RESOLUTION, "repeats": repeats}
        if build_s is not None:
            figures["build_s"] = round(build_s, 1)
        figures |= await _measure(engine, repeats)
        if peer_database is not None:
            figures["side_by_side"] = await _measure_side_by_side(engine, peer_database, population, repeats, rebuild)
    finally:
        await engine.dispose()
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    figures["peak_rss_includes_build"] = build_s is not None
    return figures


async def _measure(engine: AsyncEngine, repeats: int) -> dict[str, Any]:
    circle = _circle()
    street = _street_near_centre()
    circle_cover = cover_area(circle, RESOLUTION)
    figures: dict[str, Any] = {"circle_3km_cover_ranges": len(circle_cover.ranges)}
    figures |= _prefixed("circle_3km", await _time_send(engine, circle, repeats))
    figures |= _prefixed("circle_3km_resolve", await _time_resolve(engine, circle_cover, repeats))
    figures |= _prefixed("street_100m", await _time_send(engine, street, repeats))
    figures |= _prefixed("street_100m_resolve", await _time_resolve(engine, cover_area(street, RESOLUTION), repeats))
    figures |= _prefixed("bruteforce", await _time_bruteforce(engine, repeats))
    figures["speedup"] = round(figures["bruteforce_ms"] / figures["circle_3km_resolve_ms"], 1)
    figures["speedup_basis"] = (
        "bruteforce_ms / circle_3km_resolve_ms: both resolve the same 3 km recipients without writing "
        "delivery rows (index range scans + count_recipients vs a full scan + exact geodesic distance)"
    )
    figures |= await _query_plan(engine, _criteria(circle_cover, datetime.now(UTC)))
    return figures


async def _measure_side_by_side(
    engine: AsyncEngine, url: str, population: Population, repeats: int, rebuild: bool
) -> dict[str, Any]:
    """Lookout and PostGIS asked the same, run for run in turns, so a busy machine weighs on both alike.

    Per area: resolution alone, and resolution plus the delivery rows written
    and committed. One untimed round first warms both sides' caches.
    """
    peer, build_s = await open_peer_population(url, population, rebuild=rebuild)
    areas: dict[str, CircleArea | StreetArea] = {"circle_3km": _circle(), "street_100m": _street_near_centre()}
    covers = {name: cover_area(area, RESOLUTION) for name, area in areas.items()}
    runs: dict[str, dict[str, list[_Run]]] = {"lookout": defaultdict(list), "postgis": defaultdict(list)}
    try:
        for round_ in range(repeats + 1):
            for name, area in areas.items():
                timed = {
                    ("lookout", f"{name}_resolve"): await _resolve_once(engine, covers[name]),
                    ("postgis", f"{name}_resolve"): _Run(*await peer_resolve(peer, area, ALERT_TOPICS)),
                    ("lookout", name): await _send_once(engine, area),
                }
                ms, hits, message_id = await peer_send(peer, area, ALERT_TOPICS)
                await _forget_message(peer, message_id)
                timed[("postgis", name)] = _Run(ms=ms, hits=hits)
                if round_ > 0:
                    for (side, figure), run in timed.items():
                        runs[side][figure].append(run)
        figures: dict[str, Any] = {"postgis_version": await peer_version(peer)}
    finally:
        await peer.dispose()
    if build_s is not None:
        figures["postgis_build_s"] = round(build_s, 1)
    for side, by_figure in runs.items():
        figures[side] = {
            f"{figure}_{key}": value
            for figure, side_runs in by_figure.items()
            for key, value in _summary(side_runs).items()
        }
    return figures


# -- the population -----------------------------------------------------------


def _population(residents: int) -> Population:
    force = load_force_config(EXAMPLE_FORCE)
    return Population(residents=residents, topics=tuple(force.topics), sectors=tuple(force.sectors))


def _cached_sqlite_url(cache_dir: Path, residents: int) -> str:
    return f"sqlite:///{Path(cache_dir).resolve() / f'match-{residents}.db'}"


async def _drop_stale_cache(path: Path, population: Population, rebuild: bool) -> None:
    """Delete our cached SQLite file if it is to be rebuilt: faster than emptying a million rows."""
    if not path.exists():
        return
    if not rebuild:
        engine = make_async_engine(f"sqlite:///{path.resolve()}")
        try:
            if await _stored_signature(engine) == population.signature():
                return
        finally:
            await engine.dispose()
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


async def _open_population(
    url: str, population: Population, *, rebuild: bool, progress: Callable[[int], None] | None
) -> tuple[AsyncEngine, float | None]:
    """An engine on a database holding ``population``, and the build time if it had to be built."""
    await asyncio.to_thread(upgrade, url)
    engine = make_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(_bench_metadata.create_all)
    if not rebuild and await _stored_signature(engine) == population.signature():
        return engine, None
    await _empty(engine)
    started = time.perf_counter()
    await build_population(
        engine,
        residents=population.residents,
        centre=population.centre,
        radius_m=population.radius_m,
        resolution=population.resolution,
        seed=population.seed,
        topics=population.topics,
        sectors=population.sectors,
        progress=progress,
    )
    async with engine.begin() as conn:
        await conn.execute(bench_meta.insert().values(key=_POPULATION_KEY, value=population.signature()))
    return engine, time.perf_counter() - started


async def _stored_signature(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        has_table = await conn.run_sync(lambda c: c.dialect.has_table(c, bench_meta.name))
        if not has_table:
            return None
        return (await conn.execute(select(bench_meta.c.value).where(bench_meta.c.key == _POPULATION_KEY))).scalar()


async def _empty(engine: AsyncEngine) -> None:
    """Remove a previous benchmark population; refuse to touch anyone else's residents."""
    async with engine.begin() as conn:
        has_residents = (await conn.execute(select(exists().select_from(residents)))).scalar()
        ours = (await conn.execute(select(bench_meta.c.value).where(bench_meta.c.key == _POPULATION_KEY))).scalar()
        if has_residents and ours is None:
            raise LookoutError(
                "that database already holds residents the benchmark did not create; "
                "give --database-url an empty schema (e.g. ?options=-csearch_path%3Dlookout_bench)"
            )
        await conn.execute(delete(bench_meta))
        if not has_residents:
            return
        if conn.dialect.name == "postgresql":
            await conn.exec_driver_sql("TRUNCATE residents, reachable_places, messages RESTART IDENTITY CASCADE")
        else:
            for table in (deliveries, messages, subscriptions, places, residents, reachable_places):
                await conn.execute(delete(table))


async def _database_info(engine: AsyncEngine) -> dict[str, str]:
    async with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            version = (await conn.exec_driver_sql("SELECT sqlite_version()")).scalar_one()
            return {"database": "sqlite", "database_version": version}
        version = (await conn.exec_driver_sql("SHOW server_version")).scalar_one()
        return {"database": "postgresql", "database_version": version}


# -- the areas ----------------------------------------------------------------


def _circle() -> CircleArea:
    return CircleArea(*TOWN_CENTRE, CIRCLE_RADIUS_M, label=f"{TOWN} centre")


def _street_near_centre() -> StreetArea:
    """A straight east–west street of STREET_LENGTH_M, a little north of the centre."""
    lat0, lon0 = TOWN_CENTRE
    proj = projection_around(lat0, lon0)
    cx, cy = proj.to_metric.transform(lon0, lat0)
    half = STREET_LENGTH_M / 2
    (west_lon, east_lon), (west_lat, east_lat) = proj.to_lonlat.transform(
        [cx - half, cx + half], [cy + STREET_NORTH_OF_CENTRE_M] * 2
    )
    return StreetArea("Bench Street", LineString([(west_lon, west_lat), (east_lon, east_lat)]), STREET_BUFFER_M)


def _criteria(cover: Cover, at: datetime, ranking: Nearness | None = None) -> RecipientCriteria:
    return RecipientCriteria(
        cover, topics=ALERT_TOPICS, sectors=(), audience=Audience.BOTH, testers_only=False, at=at, nearness=ranking
    )


# -- the timings --------------------------------------------------------------


@dataclass(frozen=True)
class _Run:
    ms: float
    hits: int
    cover_ms: float | None = None


async def _time_send(engine: AsyncEngine, area: Area, repeats: int) -> dict[str, Any]:
    """The send path, timed from covering the area to the commit of the delivery rows."""
    return _summary([await _send_once(engine, area) for _ in range(repeats)])


async def _send_once(engine: AsyncEngine, area: Area) -> _Run:
    now = datetime.now(UTC)
    started = time.perf_counter()
    # As the alert service's send does: the cover, and its cells' distances for the nearest-first order.
    cells = area_cells(area, RESOLUTION)
    criteria = _criteria(cover_of(cells, RESOLUTION), now, nearness(area, RESOLUTION, cells))
    covered = time.perf_counter()
    async with SqlUnitOfWork(engine, clock=utc_now) as uow:
        message_id = await uow.outbox.new_message(MessageKind.ALERT)
        counts = await uow.outbox.queue_for_recipients(message_id, criteria, now, priority=Priority.URGENT)
        await uow.commit()
    finished = time.perf_counter()
    await _forget_message(engine, message_id)
    return _Run(ms=(finished - started) * 1000, hits=sum(counts.values()), cover_ms=(covered - started) * 1000)


async def _forget_message(engine: AsyncEngine, message_id: int) -> None:
    """Untimed: remove a run's rows so every run writes into the same table."""
    async with engine.begin() as conn:
        await conn.execute(delete(deliveries).where(deliveries.c.message_id == message_id))
        await conn.execute(delete(messages).where(messages.c.id == message_id))
    if engine.dialect.name == "postgresql":
        # Reclaim the dead rows now, rather than let autovacuum do it during a timed run.
        async with engine.connect() as conn:
            autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.exec_driver_sql("VACUUM deliveries, messages")


async def _time_resolve(engine: AsyncEngine, cover: Cover, repeats: int) -> dict[str, Any]:
    """Resolution alone: ``count_recipients`` on a ready cover, nothing written."""
    return _summary([await _resolve_once(engine, cover) for _ in range(repeats)])


async def _resolve_once(engine: AsyncEngine, cover: Cover) -> _Run:
    now = datetime.now(UTC)
    started = time.perf_counter()
    async with engine.connect() as conn:
        counts = await SqlOutbox(conn, utc_now).count_recipients(_criteria(cover, now))
    return _Run(ms=(time.perf_counter() - started) * 1000, hits=sum(counts.values()))


async def _time_bruteforce(engine: AsyncEngine, repeats: int) -> dict[str, Any]:
    return _summary([await _bruteforce_once(engine) for _ in range(repeats)])


async def _bruteforce_once(engine: AsyncEngine) -> _Run:
    """The 3 km question with no spatial index: read every place, measure every cell."""
    started = time.perf_counter()
    cells, resident_ids = await _all_eligible_places(engine, datetime.now(UTC))
    unique_cells, which = np.unique(cells, return_inverse=True)
    # Cells repeat (about 30 places per cell at 1M): measure each cell once.
    centres = np.array([h3.cell_to_latlng(h3.int_to_str(int(c))) for c in unique_cells]).reshape(-1, 2)
    lat0, lon0 = TOWN_CENTRE
    _, _, metres = Geod(ellps="WGS84").inv(
        np.full(len(centres), lon0), np.full(len(centres), lat0), centres[:, 1], centres[:, 0]
    )
    inside = (metres <= CIRCLE_RADIUS_M)[which]
    hits = len(np.unique(resident_ids[inside]))
    return _Run(ms=(time.perf_counter() - started) * 1000, hits=hits)


async def _all_eligible_places(engine: AsyncEngine, at: datetime) -> tuple[np.ndarray, np.ndarray]:
    """(cell, resident_id) of every place whose resident the 3 km alert's filters accept.

    Mirrors ``recipients_statement`` minus the area: with no sectors named, both
    residents and businesses need a subscription to ``all`` or the topic.
    """
    r = residents
    subscribed = exists().where(
        subscriptions.c.resident_id == r.c.id, subscriptions.c.topic.in_((ALL_TOPICS, *ALERT_TOPICS))
    )
    query = (
        select(places.c.cell, places.c.resident_id)
        .join(r, r.c.id == places.c.resident_id)
        .where(
            r.c.active.is_(True),
            r.c.erased_at.is_(None),
            (r.c.paused_until.is_(None)) | (r.c.paused_until <= at),
            subscribed,
        )
    )
    cells: list[np.ndarray] = []
    owners: list[np.ndarray] = []
    async with engine.connect() as conn:
        result = await conn.stream(query)
        async for part in result.partitions(100_000):
            # Column-wise via zip: numpy converting Row objects one by one is ten times slower.
            part_cells, part_owners = zip(*part, strict=True)
            cells.append(np.array(part_cells, dtype=np.int64))
            owners.append(np.array(part_owners, dtype=np.int64))
    if not cells:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    return np.concatenate(cells), np.concatenate(owners)


def _summary(runs: list[_Run]) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "ms": round(statistics.median(r.ms for r in runs), 1),
        "runs_ms": [round(r.ms, 1) for r in runs],
        "hits": runs[-1].hits,
    }
    if runs[0].cover_ms is not None:
        figures["cover_ms"] = round(statistics.median(r.cover_ms or 0.0 for r in runs), 1)
    return figures


def _prefixed(prefix: str, figures: dict[str, Any]) -> dict[str, Any]:
    return {f"{prefix}_{key}": value for key, value in figures.items()}


# -- the query plan -----------------------------------------------------------


async def _query_plan(engine: AsyncEngine, criteria: RecipientCriteria) -> dict[str, Any]:
    """The planner's plan for ``recipients_statement``, and which tables it reads whole."""
    statement, parameters = await _captured_sql(engine, criteria)
    sqlite = engine.dialect.name == "sqlite"
    async with engine.connect() as conn:
        rows = (
            await conn.exec_driver_sql(("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ") + statement, parameters)
        ).all()
    lines = [row[-1] if sqlite else row[0] for row in rows]
    tables = (reachable_places, residents, places, subscriptions)
    scanned = sorted({t.name for t in tables for line in lines if _reads_whole(line, t.name, sqlite)})
    # PostgreSQL JIT-compiles any plan it costs above jit_above_cost: tens to
    # hundreds of milliseconds, paid again on every send.
    return {
        "query_plan": lines,
        "query_plan_full_scans": scanned,
        "query_plan_jit": any(line.startswith("JIT:") for line in lines),
    }


async def _captured_sql(engine: AsyncEngine, criteria: RecipientCriteria) -> tuple[str, Any]:
    """The SQL and driver parameters the recipients statement really sends (bind processors applied).

    Captured from a real execution rather than compiled by hand, so the plan
    is for exactly what the outbox runs; the rows themselves are discarded.
    """
    captured: list[tuple[str, Any]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many) -> None:  # noqa: ANN001 - event signature
        captured.append((statement, parameters))

    async with engine.connect() as conn:
        event.listen(conn.sync_connection, "before_cursor_execute", capture)
        try:
            shape, values = recipients(criteria, conn.dialect.name)
            await conn.execute(recipients_statement(shape), values)
        finally:
            event.remove(conn.sync_connection, "before_cursor_execute", capture)
    return captured[-1]


def _reads_whole(line: str, table: str, sqlite: bool) -> bool:
    if sqlite:
        words = line.split()
        return len(words) >= 2 and words[0] == "SCAN" and words[1] == table
    return f"Seq Scan on {table}" in line


# -- the command --------------------------------------------------------------


def _print_progress(total: int) -> Callable[[int], None]:
    def report(done: int) -> None:
        print(
            f"\rbuilding population: {done:,}/{total:,}", end="" if done < total else "\n", file=sys.stderr, flush=True
        )

    return report


def _print_human(figures: dict[str, Any]) -> None:
    for key, value in figures.items():
        if key == "query_plan":
            print("query_plan:")
            for line in value:
                print(f"    {line}")
        else:
            print(f"{key}: {value}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.match", description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None, help="default: a cached SQLite file in --cache-dir")
    parser.add_argument("--cache-dir", type=Path, default=Path("var/bench"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--peer", choices=[PEER_POSTGIS], default=None, help="also ask the same of PostGIS, side by side"
    )
    args = parser.parse_args(argv)
    figures = asyncio.run(
        run_match_benchmark(
            residents=args.residents,
            database_url=args.database_url,
            cache_dir=args.cache_dir,
            repeats=max(1, args.repeats),
            rebuild=args.rebuild,
            progress=_print_progress(args.residents),
            peer=args.peer,
        )
    )
    if args.json:
        print(json.dumps(figures))
    else:
        _print_human(figures)


if __name__ == "__main__":
    main()
