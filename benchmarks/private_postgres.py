"""A PostgreSQL server of a benchmark's own: ``initdb`` in a temporary folder, started on a free port.

``lookout bench cluster`` restarts the database mid-run. Restarting the
machine's shared cluster would cut off everyone else's sessions too, so when
no database is given the drill starts this one (the server binaries of the
newest PostgreSQL under ``/usr/lib/postgresql``, or on the ``PATH``), restarts
it, and removes it afterwards. PostgreSQL refuses to run as root: when this
process is root the server runs as the ``postgres`` user (``runuser``).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from core.errors import LookoutError
from storage.database import make_sync_engine

DATABASE = "lookout"
USER = "lookout"


def server_binaries() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``: the newest under /usr/lib/postgresql, else the PATH's."""
    installed = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name), reverse=True
    )
    if installed:
        return installed[0].parent
    found = shutil.which("pg_ctl")
    return Path(found).parent if found and shutil.which("initdb") else None


class PrivatePostgres:
    """Started on ``__enter__``, stopped and removed on ``__exit__``; ``url`` is its database's SQLAlchemy URL."""

    def __init__(self, *, max_connections: int = 300) -> None:
        binaries = server_binaries()
        if binaries is None:
            raise LookoutError(
                "No PostgreSQL server binaries found (initdb, pg_ctl); give --database-url of a local cluster instead."
            )
        self._bin = binaries
        self._max_connections = max_connections
        self._as: list[str] = []
        self._folder: Path | None = None
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def _data(self) -> Path:
        assert self._folder is not None
        return self._folder / "data"

    def __enter__(self) -> PrivatePostgres:
        self._folder = Path(tempfile.mkdtemp(prefix="lookout-postgres-"))
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise LookoutError(
                    "PostgreSQL will not run as root and there is no 'postgres' user to run it as."
                ) from None
            os.chown(self._folder, owner.pw_uid, owner.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        try:
            self._run("initdb", "-D", str(self._data), "-A", "trust", "-U", USER, "-E", "UTF8", "--no-sync")
            self._start()
            engine = make_sync_engine(f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/postgres")
            try:
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(sa.text(f"CREATE DATABASE {DATABASE}"))
            finally:
                engine.dispose()
        except BaseException:
            self.__exit__()
            raise
        return self

    def restart(self, down_seconds: float) -> tuple[float, float]:
        """Stop the server (fast: sessions cut off), leave it down ``down_seconds``, start it; when (monotonic) it
        was told to stop and when it took connections again."""
        stopped = time.monotonic()
        self._run("pg_ctl", "-D", str(self._data), "-m", "fast", "-w", "stop")
        time.sleep(down_seconds)
        self._start()
        return stopped, time.monotonic()

    def _start(self) -> None:
        options = (
            f"-p {self.port} -k {self._folder} -c listen_addresses=127.0.0.1 -c max_connections={self._max_connections}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        assert self._folder is not None
        self._run("pg_ctl", "-D", str(self._data), "-l", str(self._folder / "server.log"), "-o", options, "-w", "start")

    def _run(self, program: str, *args: str) -> None:
        done = subprocess.run(
            [*self._as, str(self._bin / program), *args], capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            raise LookoutError(f"{program} failed ({done.returncode}): {(done.stderr or done.stdout).strip()[-1000:]}")

    def __exit__(self, *exc_info: object) -> None:
        if self._folder is None:
            return
        if (self._data / "postmaster.pid").exists():
            subprocess.run(
                [*self._as, str(self._bin / "pg_ctl"), "-D", str(self._data), "-m", "immediate", "-w", "stop"],
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(self._folder, ignore_errors=True)
        self._folder = None
