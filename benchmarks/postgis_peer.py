"""The same matching question asked of PostGIS, for ``lookout bench match --peer postgis``.

The peer gets the very residents Lookout's benchmark builds (same generator,
same seed), but keeps each place as its exact point in a ``geography`` column
with a GiST index, beside the same resident fields Lookout's covering index
holds (channel, address, sector, tester, pause, topics as a ``text[]``): the
layout PostGIS is at its best with. It lives in a database of its own (the
benchmark database's name plus ``_postgis``) with ``CREATE EXTENSION
postgis``, and the Lookout schema for ``messages`` and ``deliveries``, so both
sides write the same delivery rows into the same table shape.

Both engines come from ``make_async_engine``, so both run with JIT off.
Areas are asked as PostGIS would be asked them: ``ST_DWithin`` of the circle's
centre (3 km) or of the street's line (50 m). Hit counts differ from
Lookout's because a home there is a point, while Lookout knows only its H3
cell and includes every cell that overlaps the area (see docs/performance.md).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.clock import utc_now
from core.errors import LookoutError
from core.force import ALL_TOPICS
from core.geo.areas import CircleArea, StreetArea
from core.model import DeliveryState, MessageKind
from runtime.population import PopulationChunk, population_chunks
from storage.database import make_async_engine, make_sync_engine
from storage.migrate import upgrade
from storage.outbox import SqlOutbox

if TYPE_CHECKING:
    from benchmarks.match import Population

PEER_SUFFIX = "_postgis"
_NULL = "\\N"  # NULL in COPY's text format

_HOMES_DDL = """
CREATE TABLE homes (
    place_id serial PRIMARY KEY,
    resident_id integer NOT NULL,
    channel varchar(16) NOT NULL,
    address varchar(220) NOT NULL,
    sector varchar(32),
    is_tester boolean NOT NULL,
    paused_until timestamp,
    topics text[] NOT NULL,
    home geography(Point, 4326) NOT NULL
)"""


def peer_url(database_url: str) -> URL:
    """The peer's own database on the same server: the benchmark database's name plus ``_postgis``, public schema."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise LookoutError(
            "--peer postgis needs --database-url postgresql+psycopg://… (PostGIS runs inside PostgreSQL)"
        )
    return url.set(database=f"{url.database}{PEER_SUFFIX}", query={})


def prepare_peer_database(database_url: str) -> str:
    """Make sure PostGIS is installed and the peer database exists with the extension; return its URL."""
    url = peer_url(database_url)
    admin = make_sync_engine(url.set(database="postgres").render_as_string(hide_password=False))
    try:
        with admin.connect() as conn:
            autocommit = conn.execution_options(isolation_level="AUTOCOMMIT")
            _ensure_postgis_available(autocommit)
            exists = autocommit.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}
            ).first()
            if exists is None:
                autocommit.exec_driver_sql(f'CREATE DATABASE "{url.database}"')
    finally:
        admin.dispose()
    text_url = url.render_as_string(hide_password=False)
    engine = make_sync_engine(text_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
    finally:
        engine.dispose()
    upgrade(text_url)
    return text_url


def _ensure_postgis_available(conn: sa.Connection) -> None:
    """Install Debian's PostGIS package for this server's major version when missing and we may (root, apt-get)."""
    if _postgis_available(conn):
        return
    major = int(conn.exec_driver_sql("SHOW server_version_num").scalar_one()) // 10000
    package = f"postgresql-{major}-postgis-3"
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise LookoutError(
            f"PostGIS is not installed for the PostgreSQL server; install {package} (as root) and run again"
        )
    print(f"installing {package} for the PostGIS comparison…", file=sys.stderr, flush=True)
    subprocess.run(["apt-get", "install", "-y", "-q", package], check=True, stdout=subprocess.DEVNULL)
    if not _postgis_available(conn):
        raise LookoutError(
            f"{package} is installed here but the PostgreSQL server does not offer PostGIS (is it on another host?)"
        )


def _postgis_available(conn: sa.Connection) -> bool:
    return conn.exec_driver_sql("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'").first() is not None


# -- the population ---------------------------------------------------------


async def open_peer_population(url: str, population: Population, *, rebuild: bool) -> tuple[AsyncEngine, float | None]:
    """An engine on the peer database holding ``population`` as homes, and the build time if it was built now."""
    engine = make_async_engine(url)
    async with engine.connect() as conn:
        stored = (await conn.exec_driver_sql("SELECT obj_description(to_regclass('homes'), 'pg_class')")).scalar()
    if not rebuild and stored == population.signature():
        return engine, None
    started = time.perf_counter()
    async with engine.begin() as conn:
        await conn.exec_driver_sql("DROP TABLE IF EXISTS homes")
        await conn.exec_driver_sql(_HOMES_DDL)
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        chunks = population_chunks(
            residents=population.residents,
            centre=population.centre,
            radius_m=population.radius_m,
            resolution=population.resolution,
            seed=population.seed,
            topics=population.topics,
            sectors=population.sectors,
        )
        for chunk in chunks:
            async with (
                driver.cursor() as cursor,
                cursor.copy(
                    "COPY homes (resident_id, channel, address, sector, is_tester, topics, home) FROM STDIN"
                ) as copy,
            ):
                await copy.write("".join(_home_lines(chunk)))
        # Built after the load, as one would for a bulk import; then the rows are put in the
        # index's order, so the homes of one area share pages (PostGIS at its best: without
        # it a 3 km circle read ~20,000 scattered pages).
        await conn.exec_driver_sql("CREATE INDEX ix_homes_home ON homes USING gist (home)")
        await conn.exec_driver_sql("CLUSTER homes USING ix_homes_home")
        await conn.exec_driver_sql("COMMENT ON TABLE homes IS " + _quoted(population.signature()))
    async with engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.exec_driver_sql("VACUUM (ANALYZE) homes")
    return engine, time.perf_counter() - started


def _home_lines(chunk: PopulationChunk) -> list[str]:
    """One COPY line per place, carrying its resident's fields and exact point."""
    topics: dict[int, list[str]] = defaultdict(list)
    for resident_id, topic in zip(chunk.subscription_resident_ids, chunk.subscription_topics, strict=True):
        topics[resident_id].append(topic)
    who = {
        resident_id: (channel, address, sector or _NULL)
        for resident_id, channel, address, sector in zip(
            chunk.resident_ids, chunk.channels, chunk.addresses, chunk.sectors, strict=True
        )
    }
    lines = []
    for resident_id, lat, lon in zip(chunk.place_resident_ids, chunk.place_lats, chunk.place_lons, strict=True):
        channel, address, sector = who[resident_id]
        # Generated values only (ints, fixed words, topic keys): nothing needs COPY escaping.
        lines.append(
            f"{resident_id}\t{channel}\t{address}\t{sector}\tf\t{{{','.join(topics[resident_id])}}}\tSRID=4326;POINT({lon!r} {lat!r})\n"
        )
    return lines


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# -- the questions ------------------------------------------------------------


def _within(area: CircleArea | StreetArea) -> tuple[str, dict[str, Any]]:
    """``ST_DWithin`` for the area, as SQL and parameters."""
    if isinstance(area, CircleArea):
        return (
            "ST_DWithin(home, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, :metres)",
            {"lon": area.lon, "lat": area.lat, "metres": area.radius_m},
        )
    return "ST_DWithin(home, ST_GeogFromText(:line), :metres)", {
        "line": f"SRID=4326;{area.line.wkt}",
        "metres": area.buffer_m,
    }


def _matched_sql(area: CircleArea | StreetArea, topics: tuple[str, ...], at: datetime) -> tuple[str, dict[str, Any]]:
    """The peer's recipients query (Lookout's is ``storage.matching.recipients_statement``): same filters (audience both, no sectors named), one row per resident."""
    within, parameters = _within(area)
    sql = f"""
        SELECT resident_id AS id, channel, address FROM homes
        WHERE {within}
          AND topics && CAST(:topics AS text[])
          AND (paused_until IS NULL OR paused_until <= :at)
        GROUP BY resident_id, channel, address"""
    return sql, parameters | {"topics": [ALL_TOPICS, *topics], "at": at.astimezone(UTC).replace(tzinfo=None)}


async def peer_resolve(
    engine: AsyncEngine, area: CircleArea | StreetArea, topics: tuple[str, ...]
) -> tuple[float, int]:
    """Resolution alone, shaped as Lookout's ``count_recipients``: (ms, hits)."""
    matched, parameters = _matched_sql(area, topics, datetime.now(UTC))
    started = time.perf_counter()
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.text(f"SELECT channel, count(*) FROM ({matched}) m GROUP BY channel ORDER BY channel"), parameters
            )
        ).all()
    return (time.perf_counter() - started) * 1000, sum(n for _, n in rows)


async def peer_send(
    engine: AsyncEngine, area: CircleArea | StreetArea, topics: tuple[str, ...]
) -> tuple[float, int, int]:
    """A message and its delivery rows in one transaction, as Lookout's send writes them: (ms, hits, message id)."""
    now = datetime.now(UTC)
    matched, parameters = _matched_sql(area, topics, now)
    started = time.perf_counter()
    async with engine.begin() as conn:
        outbox = SqlOutbox(conn, utc_now)
        message_id = await outbox.new_message(MessageKind.ALERT)
        await conn.execute(
            sa.text(f"""
                INSERT INTO deliveries (message_id, resident_id, channel, address, state, attempts, next_attempt_at, created_at, updated_at)
                SELECT :message_id, m.id, m.channel, m.address, :state, 0, :now, :now, :now FROM ({matched}) m"""),
            parameters
            | {"message_id": message_id, "state": DeliveryState.PENDING.value, "now": now.replace(tzinfo=None)},
        )
        hits = await _written(conn, message_id)
    return (time.perf_counter() - started) * 1000, hits, message_id


async def _written(conn: AsyncConnection, message_id: int) -> int:
    # Lookout's send reads its per-channel counts back the same way (SqlOutbox._message_counts).
    rows = (
        await conn.execute(
            sa.text("SELECT channel, count(*) FROM deliveries WHERE message_id = :m GROUP BY channel"),
            {"m": message_id},
        )
    ).all()
    return sum(n for _, n in rows)


async def peer_version(engine: AsyncEngine) -> str:
    async with engine.connect() as conn:
        return (await conn.exec_driver_sql("SELECT postgis_lib_version()")).scalar_one()
