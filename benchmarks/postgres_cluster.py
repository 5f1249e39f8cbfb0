"""The local PostgreSQL cluster behind a database URL, and two ways to pull it from under Lookout.

``restart``: ``pg_ctlcluster --skip-systemctl-redirect <version> <cluster>
restart`` (Debian's cluster tools; the cluster found with ``pg_lsclusters`` by
the URL's port). Every session on the machine is cut off and new ones are
refused until it is back. ``terminate``: ``pg_terminate_backend`` on the
sessions of one application name only — Lookout's connections drop as in a
restart, nobody else's do (for a PostgreSQL shared with other work).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from storage.database import make_sync_engine

_LOCAL_HOSTS = {None, "", "localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True)
class Cluster:
    version: str
    name: str
    port: int


def local_cluster(database_url: str) -> Cluster | None:
    """The cluster on this machine serving ``database_url``, or None (remote, or no Debian cluster tools)."""
    url = make_url(database_url)
    if url.host not in _LOCAL_HOSTS or shutil.which("pg_lsclusters") is None:
        return None
    port = url.port or 5432
    listing = subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, timeout=30, check=False
    ).stdout
    for line in listing.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[2] == str(port) and parts[3].startswith("online"):
            return Cluster(version=parts[0], name=parts[1], port=port)
    return None


def restart(cluster: Cluster) -> float:
    """Restart the cluster (blocking); the seconds it took."""
    started = time.monotonic()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", cluster.version, cluster.name, "restart"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return time.monotonic() - started


def terminate_sessions(database_url: str, application_name: str) -> int:
    """Cut off every session of ``application_name`` (blocking); how many there were."""
    engine = make_sync_engine(database_url)
    try:
        with engine.begin() as conn:
            query = sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = :name"
            )
            return int(conn.execute(query, {"name": application_name}).scalar_one())
    finally:
        engine.dispose()
