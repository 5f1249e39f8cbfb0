"""Process-wide locks: who is the one scheduler, and the one worker on SQLite.

PostgreSQL: a session advisory lock held on a dedicated connection; it goes
away by itself if the holder dies or its connection drops. SQLite: an
exclusive ``flock`` on a file beside the database; the kernel releases it
when the holder's process dies, however it dies.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from pathlib import Path
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.database import is_sqlite
from storage.outages import reported_as_unavailable


class ProcessLock(Protocol):
    name: str

    async def try_acquire(self) -> bool: ...
    async def still_held(self) -> bool: ...
    async def release(self) -> None: ...


class FileLock:
    def __init__(self, path: Path, name: str) -> None:
        self.path = path
        self.name = name
        self._fd: int | None = None

    async def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    async def still_held(self) -> bool:
        return self._fd is not None

    async def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def advisory_key(name: str, schema: str | None) -> int:
    """A stable 63-bit key, so every process agrees on it.

    Advisory locks belong to the whole database, but Lookout's data lives in a
    schema: two deployments (or test runs, or benchmarks) in one database must
    not elect one scheduler between them. ``public`` keeps the original key,
    so processes from before and after this change still agree.
    """
    seed = f"lookout:{name}" if schema in (None, "public") else f"lookout:{schema}:{name}"
    return int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big") >> 1


class AdvisoryLock:
    def __init__(self, engine: AsyncEngine, name: str) -> None:
        self.name = name
        self._engine = engine
        self._key: int | None = None  # known once connected: it depends on the schema Lookout's tables are in
        self._conn: AsyncConnection | None = None

    async def try_acquire(self) -> bool:
        if self._conn is not None:
            return True
        async with reported_as_unavailable():  # the database restarting: the caller stands by and tries again
            conn = await self._engine.connect()
            try:
                if self._key is None:
                    self._key = advisory_key(
                        self.name, (await conn.execute(text("SELECT current_schema()"))).scalar_one()
                    )
                got = (await conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key})).scalar_one()
                await conn.commit()
            except BaseException:
                await conn.close()
                raise
        if not got:
            await conn.close()
            return False
        self._conn = conn
        return True

    async def still_held(self) -> bool:
        """False if the lock's connection has gone (database restarted): someone else may hold it now."""
        if self._conn is None:
            return False
        try:
            await self._conn.execute(text("SELECT 1"))
            await self._conn.commit()
            return True
        except Exception:
            await self._drop()
            return False

    async def release(self) -> None:
        if self._conn is None:
            return
        try:
            await self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
            await self._conn.commit()
        except Exception:
            pass  # the connection is gone, and the lock with it
        await self._drop()

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()
            except Exception:
                pass


def _lock_file(database_url: str, name: str) -> Path:
    database = make_url(database_url).database or "lookout.db"
    return Path(f"{database}.{name}.lock")


def process_lock(database_url: str, engine: AsyncEngine, name: str) -> ProcessLock:
    if is_sqlite(database_url):
        return FileLock(_lock_file(database_url, name), name)
    return AdvisoryLock(engine, name)


async def lock_is_held(database_url: str, engine: AsyncEngine, name: str) -> bool:
    """Whether some process (this one included) holds the lock ``name`` now: asked of the database (or, on
    SQLite, of the kernel), so every process gives the same answer. For ``lookout_scheduler_leaders``."""
    if is_sqlite(database_url):
        path = _lock_file(database_url, name)
        if not path.exists():
            return False
        fd = os.open(path, os.O_RDONLY)
        try:
            # A shared lock is refused while anyone holds the exclusive one; taken, it is let go at once (it never
            # keeps a scheduler out: a candidate that met it waits one standby round).
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # closing the file lets the shared lock go
        return False
    async with engine.connect() as conn:
        key = advisory_key(name, (await conn.execute(text("SELECT current_schema()"))).scalar_one())
        # A bigint advisory key is held as (classid = high 32 bits, objid = low 32 bits, objsubid = 1).
        held = await conn.execute(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                " AND classid::bigint = :high AND objid::bigint = :low"
            ),
            {"high": key >> 32, "low": key & 0xFFFFFFFF},
        )
        return held.scalar_one() > 0
