"""Synthetic residents around a town, written in bulk.

Used by ``lookout bench match`` (a million residents) and by the demo (a few
thousand). Every resident is generated in numpy-sized chunks and written with
the driver's own bulk path — ``executemany`` on SQLite, ``COPY`` on PostgreSQL
— because going through SQLAlchemy row by row would take minutes at 1M.

Homes are uniform in *area* over a disc around the centre (radius drawn as
``R·√u``), drawn in a local metric projection so the disc is round on the
ground, then snapped to H3 exactly as a real resident's place is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.force import ALL_TOPICS
from core.geo.cells import cell_to_int, snap
from core.geo.projection import projection_around
from storage.tables import places, reachable_places, residents, subscriptions

CHUNK_SIZE = 50_000
TELEGRAM_SHARE = 0.65
BUSINESS_SHARE = 0.08
WORK_PLACE_SHARE = 0.10
MAX_EXTRA_TOPICS = 3
# Synthetic Telegram ids start far above the ids a sandbox or test hands out,
# so a seeded database never refuses a real subscriber's address.
TELEGRAM_ID_BASE = 9_000_000_000
# A bigger page cache while bulk loading: index inserts for random cells would
# otherwise re-read the same B-tree pages thousands of times.
_SQLITE_BUILD_CACHE_KIB = 131_072

_RESIDENT_COLUMNS = (
    "id",
    "channel",
    "address",
    "language",
    "age_confirmed",
    "sector",
    "is_tester",
    "active",
    "created_at",
)
_PLACE_COLUMNS = ("resident_id", "label", "cell", "created_at")
_SUBSCRIPTION_COLUMNS = ("resident_id", "topic")
_COPY_NULL = "\\N"  # NULL in COPY's text format


@dataclass(frozen=True)
class PopulationChunk:
    """One chunk of residents as columns, ready for either writer.

    ``place_lats``/``place_lons`` are the drawn points before snapping: only
    the PostGIS comparison (``benchmarks/postgis_peer.py``) stores them.
    """

    resident_ids: list[int]
    channels: list[str]
    addresses: list[str]
    sectors: list[str | None]
    place_resident_ids: list[int]
    place_labels: list[str]
    place_cells: list[int]
    place_lats: list[float]
    place_lons: list[float]
    subscription_resident_ids: list[int]
    subscription_topics: list[str]


@dataclass(frozen=True)
class _Generator:
    """What a chunk is drawn from; the rng carries the state between chunks."""

    rng: np.random.Generator
    centre: tuple[float, float]
    radius_m: float
    resolution: int
    extra_topics: np.ndarray
    sectors: np.ndarray
    telegram_share: float


async def build_population(
    engine: AsyncEngine,
    *,
    residents: int,
    centre: tuple[float, float] = (52.8067, -2.1174),
    radius_m: float = 13_400,
    resolution: int = 10,
    seed: int = 1,
    topics: Sequence[str],
    sectors: Sequence[str],
    progress: Callable[[int], None] | None = None,
    telegram_share: float = TELEGRAM_SHARE,
) -> None:
    """Add ``residents`` synthetic residents (with places and subscriptions) in one transaction.

    The schema must already be at head (``storage.migrate.upgrade``). New ids
    follow the highest existing one, so this may be called on a database that
    already has residents; nothing else may add residents while it runs.
    Afterwards statistics are refreshed (``ANALYZE``; on PostgreSQL ``VACUUM
    (ANALYZE)``) so the planner sees the new rows.
    """
    created_at = datetime.now(UTC)
    async with engine.begin() as conn:
        first_id = await _next_resident_id(conn)
        writer = await _writer_for(conn, created_at)
        try:
            chunks = population_chunks(
                residents=residents,
                centre=centre,
                radius_m=radius_m,
                resolution=resolution,
                seed=seed,
                topics=topics,
                sectors=sectors,
                telegram_share=telegram_share,
                first_id=first_id,
            )
            done = 0
            for chunk in chunks:
                await writer.write(chunk)
                done += len(chunk.resident_ids)
                if progress is not None:
                    progress(done)
            await writer.finish()
        finally:
            await writer.close()
    await _settle(engine)


def population_chunks(
    *,
    residents: int,
    centre: tuple[float, float],
    radius_m: float,
    resolution: int,
    seed: int,
    topics: Sequence[str],
    sectors: Sequence[str],
    telegram_share: float = TELEGRAM_SHARE,
    first_id: int = 1,
) -> Iterator[PopulationChunk]:
    """The residents ``build_population`` writes, chunk by chunk: the same arguments give the same people."""
    generator = _Generator(
        rng=np.random.default_rng(seed),
        centre=centre,
        radius_m=radius_m,
        resolution=resolution,
        extra_topics=np.array([t for t in dict.fromkeys(topics) if t != ALL_TOPICS], dtype=object),
        sectors=np.array(list(dict.fromkeys(sectors)), dtype=object),
        telegram_share=telegram_share,
    )
    for start in range(0, residents, CHUNK_SIZE):
        yield _make_chunk(generator, first_id + start, min(CHUNK_SIZE, residents - start))


async def _settle(engine: AsyncEngine) -> None:
    """Leave the database as it would be after a while in service, not mid-bulk-load."""
    if engine.dialect.name == "postgresql":
        # VACUUM, not only ANALYZE: it sets the visibility map, without which
        # every index-only scan still visits the heap (autovacuum would get
        # there eventually, in the middle of someone's timing).
        async with engine.connect() as conn:
            autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.exec_driver_sql(
                f"VACUUM (ANALYZE) {residents.name}, {places.name}, {subscriptions.name}, {reachable_places.name}"
            )
        return
    async with engine.begin() as conn:
        await conn.exec_driver_sql("ANALYZE")
    await _fold_wal(engine)


async def _fold_wal(engine: AsyncEngine) -> None:
    """Copy the bulk load out of SQLite's WAL into the database file now.

    Otherwise the next ordinary commit runs the automatic checkpoint and pays
    for copying hundreds of megabytes (it doubled the first timed sends after
    a 1M build), and every read meanwhile searches a huge WAL index.
    """
    async with engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")


async def _next_resident_id(conn: AsyncConnection) -> int:
    return (await conn.execute(text("SELECT coalesce(max(id), 0) + 1 FROM residents"))).scalar_one()


# -- generating ---------------------------------------------------------------


def _make_chunk(gen: _Generator, first_id: int, count: int) -> PopulationChunk:
    rng = gen.rng
    ids = np.arange(first_id, first_id + count, dtype=np.int64)
    telegram = rng.random(count) < gen.telegram_share
    place_ids, labels, cells, lats, lons = _places(gen, ids)
    sub_ids, sub_topics = _subscriptions(gen, ids)
    return PopulationChunk(
        resident_ids=ids.tolist(),
        channels=np.where(telegram, "telegram", "whatsapp").tolist(),
        addresses=[_address(i, t) for i, t in zip(ids.tolist(), telegram.tolist(), strict=True)],
        sectors=_sectors(gen, count),
        place_resident_ids=place_ids,
        place_labels=labels,
        place_cells=cells,
        place_lats=lats,
        place_lons=lons,
        subscription_resident_ids=sub_ids,
        subscription_topics=sub_topics,
    )


def _address(resident_id: int, telegram: bool) -> str:
    # Derived from the id, so addresses stay unique across repeated builds.
    if telegram:
        return f"telegram:{TELEGRAM_ID_BASE + resident_id}"
    return f"whatsapp:4477{resident_id:08d}"


def _sectors(gen: _Generator, count: int) -> list[str | None]:
    if not len(gen.sectors):
        return [None] * count
    business = gen.rng.random(count) < BUSINESS_SHARE
    picked = gen.sectors[gen.rng.integers(0, len(gen.sectors), count)]
    return np.where(business, picked, np.array(None, dtype=object)).tolist()


def _places(gen: _Generator, ids: np.ndarray) -> tuple[list[int], list[str], list[int], list[float], list[float]]:
    """A home for everyone, and a workplace for about one in ten, both in the disc."""
    works = ids[gen.rng.random(len(ids)) < WORK_PLACE_SHARE]
    owners = np.concatenate([ids, works])
    lats, lons = _random_points(gen, len(owners))
    cells = [cell_to_int(snap(lat, lon, gen.resolution)) for lat, lon in zip(lats.tolist(), lons.tolist(), strict=True)]
    labels = ["Home"] * len(ids) + ["Work"] * len(works)
    return owners.tolist(), labels, cells, lats.tolist(), lons.tolist()


def _random_points(gen: _Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` points uniform in area over the disc, as (lat, lon) arrays."""
    lat0, lon0 = gen.centre
    proj = projection_around(lat0, lon0)
    # The shared projection is centred on a rounded point; offset by the true
    # centre's position in it so the disc is centred where asked.
    cx, cy = proj.to_metric.transform(lon0, lat0)
    r = gen.radius_m * np.sqrt(gen.rng.random(count))
    theta = gen.rng.random(count) * (2 * math.pi)
    lons, lats = proj.to_lonlat.transform(cx + r * np.cos(theta), cy + r * np.sin(theta))
    return np.asarray(lats), np.asarray(lons)


def _subscriptions(gen: _Generator, ids: np.ndarray) -> tuple[list[int], list[str]]:
    """Everyone gets ``all``, plus 0–3 distinct other topics."""
    count, choices = len(ids), len(gen.extra_topics)
    extra = np.minimum(gen.rng.integers(0, MAX_EXTRA_TOPICS + 1, count), choices)
    # A random permutation per row; its first ``extra[i]`` entries are row i's topics.
    order = gen.rng.random((count, choices)).argsort(axis=1)
    chosen = order[np.arange(choices) < extra[:, None]]
    owners = np.concatenate([ids, np.repeat(ids, extra)])
    topics = [ALL_TOPICS] * count + gen.extra_topics[chosen].tolist()
    return owners.tolist(), topics


# -- writing ------------------------------------------------------------------


class _SqliteWriter:
    """``executemany`` on the aiosqlite connection, inside the caller's transaction."""

    def __init__(self, driver, created_at: str) -> None:  # noqa: ANN001 - an aiosqlite.Connection
        self._db = driver
        self._created_at = created_at
        self._cache_size: int | None = None

    async def open(self) -> None:
        async with self._db.execute("PRAGMA cache_size") as cursor:
            self._cache_size = (await cursor.fetchone())[0]
        await self._db.execute(f"PRAGMA cache_size=-{_SQLITE_BUILD_CACHE_KIB}")

    async def write(self, chunk: PopulationChunk) -> None:
        n = len(chunk.resident_ids)
        await self._db.executemany(
            _insert_sql(residents, _RESIDENT_COLUMNS),
            zip(
                chunk.resident_ids,
                chunk.channels,
                chunk.addresses,
                ["en"] * n,
                [1] * n,
                chunk.sectors,
                [0] * n,
                [1] * n,
                [self._created_at] * n,
                strict=True,
            ),
        )
        await self._db.executemany(
            _insert_sql(places, _PLACE_COLUMNS),
            zip(
                chunk.place_resident_ids,
                chunk.place_labels,
                chunk.place_cells,
                [self._created_at] * len(chunk.place_cells),
                strict=True,
            ),
        )
        await self._db.executemany(
            _insert_sql(subscriptions, _SUBSCRIPTION_COLUMNS),
            zip(chunk.subscription_resident_ids, chunk.subscription_topics, strict=True),
        )

    async def finish(self) -> None:
        return None

    async def close(self) -> None:
        # The connection goes back to the pool: give it its usual cache again.
        if self._cache_size is not None:
            await self._db.execute(f"PRAGMA cache_size={int(self._cache_size)}")


class _PostgresWriter:
    """``COPY … FROM STDIN`` (text format) on the psycopg connection, inside the caller's transaction."""

    def __init__(self, driver, created_at: str) -> None:  # noqa: ANN001 - a psycopg.AsyncConnection
        self._db = driver
        self._created_at = created_at

    async def open(self) -> None:
        return None

    async def write(self, chunk: PopulationChunk) -> None:
        at = self._created_at
        await self._copy(
            residents,
            _RESIDENT_COLUMNS,
            (
                f"{i}\t{c}\t{a}\ten\tt\t{s or _COPY_NULL}\tf\tt\t{at}\n"
                for i, c, a, s in zip(chunk.resident_ids, chunk.channels, chunk.addresses, chunk.sectors, strict=True)
            ),
        )
        await self._copy(
            places,
            _PLACE_COLUMNS,
            (
                f"{r}\t{label}\t{cell}\t{at}\n"
                for r, label, cell in zip(chunk.place_resident_ids, chunk.place_labels, chunk.place_cells, strict=True)
            ),
        )
        await self._copy(
            subscriptions,
            _SUBSCRIPTION_COLUMNS,
            (f"{r}\t{t}\n" for r, t in zip(chunk.subscription_resident_ids, chunk.subscription_topics, strict=True)),
        )

    async def _copy(self, table: Table, columns: Sequence[str], lines: Iterable[str]) -> None:
        # Every value here is an int, a fixed word or a generated address:
        # none can hold a tab, newline or backslash, so no COPY escaping is needed.
        sql = f"COPY {table.name} ({', '.join(table.c[c].name for c in columns)}) FROM STDIN"
        async with self._db.cursor() as cursor, cursor.copy(sql) as copy:
            await copy.write("".join(lines))

    async def finish(self) -> None:
        # Ids were given explicitly, so move the id sequence past them for
        # residents added later through the normal path.
        async with self._db.cursor() as cursor:
            await cursor.execute(
                "SELECT setval(pg_get_serial_sequence('residents', 'id'), (SELECT max(id) FROM residents))"
            )

    async def close(self) -> None:
        return None


async def _writer_for(conn: AsyncConnection, created_at: datetime) -> _SqliteWriter | _PostgresWriter:
    driver = (await conn.get_raw_connection()).driver_connection
    # Stored as the UTCDateTime column stores it: naive UTC, in the dialect's text form.
    processor = residents.c.created_at.type.bind_processor(conn.dialect)
    stored = processor(created_at) if processor else created_at
    naive_text = stored if isinstance(stored, str) else stored.isoformat(sep=" ")
    writer = _SqliteWriter(driver, naive_text) if conn.dialect.name == "sqlite" else _PostgresWriter(driver, naive_text)
    await writer.open()
    return writer


def _insert_sql(table: Table, columns: Sequence[str]) -> str:
    names = ", ".join(table.c[c].name for c in columns)  # table.c[...] fails loudly on a renamed column
    return f"INSERT INTO {table.name} ({names}) VALUES ({', '.join('?' * len(columns))})"
