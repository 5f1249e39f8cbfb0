"""Engines for the configured database; nothing is created at import time."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import timedelta
from pathlib import Path

from sqlalchemy import (
    Connection,
    DateTime,
    Engine,
    Interval,
    Table,
    create_engine,
    event,
    func,
    literal,
    literal_column,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql.elements import ColumnElement

SQLITE_BUSY_TIMEOUT_MS = 15_000
SQLITE_MMAP_BYTES = 256 * 1024 * 1024
# An execution option on a connection that only reads: on SQLite it begins a plain
# (deferred) transaction, which in WAL mode never waits for writers.
READ_ONLY = "lookout_read_only"


def _normalise(url: str) -> URL:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "postgresql":
        # JIT compiling Lookout's short queries costs more than it saves (about
        # 100 ms on every alert send); options already in the URL are kept.
        options = parsed.query.get("options", "")
        if "jit" not in str(options):
            parsed = parsed.update_query_dict({"options": f"{options} -c jit=off".strip()})
    return parsed


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names (None for PostgreSQL and in-memory databases)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def is_sqlite_engine(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def sync_url(url: str) -> URL:
    parsed = _normalise(url)
    return parsed.set(drivername="sqlite") if parsed.get_backend_name() == "sqlite" else parsed


def async_url(url: str) -> URL:
    parsed = _normalise(url)
    return parsed.set(drivername="sqlite+aiosqlite") if parsed.get_backend_name() == "sqlite" else parsed


def _ensure_sqlite_folder(url: URL) -> None:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def _tune_sqlite(engine: Engine) -> None:
    """WAL (readers never block the writer), a busy timeout, enforced foreign
    keys, and ``BEGIN IMMEDIATE`` so every transaction takes the write lock up
    front: two writers then queue on the busy timeout instead of one failing
    with "database is locked" when it upgrades a read lock."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # noqa: ANN001 - DBAPI objects
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Deleted rows are overwritten with zeros, not left readable in free pages (erasure must really erase).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Memory-mapped reads: recipient lookups hop across the residents table.
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:  # noqa: ANN001
        connection.exec_driver_sql("BEGIN" if connection.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")


# SQLite has one writer at a time. Left to SQLite, waiting writers poll with
# growing sleeps (up to 100 ms each), so under load they queue in no order and
# mostly sleep: a web process then manages ~70 updates a second with waits of
# seconds. This process's writers instead take turns on an asyncio lock (first
# come, first served, no polling); SQLite's busy timeout is left for other processes.
_write_turns: weakref.WeakKeyDictionary[Engine, dict[asyncio.AbstractEventLoop, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)
_holding_turn: ContextVar[bool] = ContextVar("lookout_holding_sqlite_write_turn", default=False)


@asynccontextmanager
async def write_turn(engine: AsyncEngine) -> AsyncIterator[None]:
    """Wait for this process's turn to write (SQLite only; PostgreSQL's row locks need no help)."""
    if engine.dialect.name != "sqlite":
        yield
        return
    if _holding_turn.get():
        raise RuntimeError("a write transaction was opened inside another one; on SQLite that would wait for itself")
    locks = _write_turns.setdefault(engine.sync_engine, {})
    lock = locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())
    async with lock:
        token = _holding_turn.set(True)
        try:
            yield
        finally:
            _holding_turn.reset(token)


@asynccontextmanager
async def one_write(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection for work that writes with one statement (and may read besides): on PostgreSQL each
    statement commits itself (a single statement is atomic on its own, and at READ COMMITTED the reads see
    the same as inside a transaction), which saves the BEGIN and COMMIT round trips; on SQLite the
    write transaction, with this process's turn to write."""
    if engine.dialect.name != "postgresql":
        async with write_transaction(engine) as conn:
            yield conn
        return
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        yield conn


@asynccontextmanager
async def write_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """``engine.begin()`` taking this process's turn to write first."""
    async with write_turn(engine), engine.begin() as conn:
        yield conn


async def only_reading(conn: AsyncConnection) -> None:
    """Mark ``conn`` as reading only: on SQLite a deferred transaction (WAL: never waits for writers); on
    PostgreSQL no transaction at all. At READ COMMITTED each statement reads its own snapshot whether or not
    a transaction is open, so a read needs none, and leaving it out saves the BEGIN and the ROLLBACK: two of a
    one-statement read's three round trips (a resident's free-text message reads the latest alert sent to them)."""
    options: dict[str, object] = {READ_ONLY: True}
    if conn.dialect.name == "postgresql":
        options["isolation_level"] = "AUTOCOMMIT"  # psycopg's autocommit: no BEGIN sent; the pool resets it on return
    await conn.execution_options(**options)


@asynccontextmanager
async def read_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection for reading only (see ``only_reading``)."""
    async with engine.connect() as conn:
        await only_reading(conn)
        yield conn


def upsert_insert(connection: AsyncConnection | Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT with the dialect's ON CONFLICT support (SQLite and PostgreSQL spell it alike)."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def make_async_engine(url: str, *, pool_size: int = 10, max_overflow: int = 10) -> AsyncEngine:
    """An engine for ``url``; on PostgreSQL a pool of ``pool_size`` connections kept open and up to
    ``max_overflow`` more under a burst (LOOKOUT_DB_POOL_SIZE, LOOKOUT_DB_MAX_OVERFLOW). SQLite has no pool to size."""
    target = async_url(url)
    if target.get_backend_name() == "sqlite":
        _ensure_sqlite_folder(target)
        engine = create_async_engine(target, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _tune_sqlite(engine.sync_engine)
        return engine
    # No pre-ping: it is a round trip on every checkout, a fifth of a webhook's database time.
    # After PostgreSQL restarts, the first statement on a dead connection fails as a
    # disconnect; SQLAlchemy then discards every connection the pool held, and the failed
    # webhook (answered 500) or worker batch is simply done again.
    return create_async_engine(target, pool_size=pool_size, max_overflow=max_overflow)


def make_sync_engine(url: str) -> Engine:
    target = sync_url(url)
    if target.get_backend_name() == "sqlite":
        _ensure_sqlite_folder(target)
        engine = create_engine(target, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _tune_sqlite(engine)
        return engine
    return create_engine(target, pool_pre_ping=True)


# The database's own clock, in UTC as timestamps are stored (naive). Leases are timed by it, as the send slots
# are (storage/rate_buckets.py): processes on machines whose clocks differ must agree on when a lease ends.
_PG_NOW = "(clock_timestamp() AT TIME ZONE 'UTC')"
_SQLITE_FORMAT = "%Y-%m-%d %H:%M:%f"  # milliseconds; "000" pads it to the six digits stored values have


def database_now(dialect_name: str) -> ColumnElement:
    """SQL for the database's "now", comparable with stored timestamps."""
    if dialect_name == "postgresql":
        return literal_column(_PG_NOW, type_=DateTime())
    return func.strftime(_SQLITE_FORMAT, "now").concat("000")


def database_after(dialect_name: str, span: timedelta) -> ColumnElement:
    """SQL for the database's "now" plus ``span``: a lease's end, written as stored timestamps are."""
    if dialect_name == "postgresql":
        return literal_column(_PG_NOW, type_=DateTime()) + literal(span, Interval())
    return func.strftime(_SQLITE_FORMAT, "now", f"{span.total_seconds():+.3f} seconds").concat("000")
