"""Backups, restored: a running deployment is backed up, restored into a fresh database, and served again.

What docs/operations.md ("Backups and restore") promises, done the way it says:

- SQLite: Python's ``sqlite3`` backup API (what the ``sqlite3`` shell's ``.backup`` uses) copies the file
  while ``lookout serve`` runs on it; the copy is served by a new ``lookout serve``.
- PostgreSQL: ``pg_dump -Fc`` of the database while ``lookout serve`` runs on it; ``pg_restore`` into a
  database created for the purpose; a new ``lookout serve`` on that one.

Residents are seeded through the repositories before the server starts; the alert is sent with
``lookout alert send`` and the tips (one with a photo) through the tip service while it runs. The
restored copy must answer ``/readyz`` with 200, hold the same residents, alerts and tips, byte for
byte for the photo, and take a new alert (its sequences restored too).
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from core.clock import utc_now
from core.force import ForceConfig
from core.model import Address, TipPhoto
from core.services.roles import Roles
from core.services.tips import NewTip, TipService
from storage.database import make_async_engine
from storage.migrate import upgrade
from storage.tables import alerts, places, residents, subscriptions, tip_media, tips
from storage.uow import unit_of_work_factory
from tests.conftest import POSTGRES_URL, postgres_admin
from tests.support.database import rows
from tests.support.processes import Server, lookout_env, run_json
from tests.support.residents import STAFFORD, add_residents, offset, resident_at

PHOTO = TipPhoto("van.jpg", "image/jpeg", bytes(range(256)) * 40)
ALERT = [
    "--incident",
    "MV-20261125-0456",
    "--headline",
    "Bogus callers",
    "--message",
    "Two men claiming to be from the water board.",
    "--everyone",
    "--at",
    f"{STAFFORD[0]},{STAFFORD[1]}",
    "--radius",
    "500m",
    "--yes",
]

# What a backup must keep, column by column. Alerts' and tips' states are left out: the running
# worker may move them on between the backup and the moment the source is read for comparison.
KEPT = {
    "residents": sa.select(residents).order_by(residents.c.id),
    "places": sa.select(places.c.id, places.c.resident_id, places.c.label, places.c.cell).order_by(places.c.id),
    "subscriptions": sa.select(subscriptions).order_by(subscriptions.c.resident_id, subscriptions.c.topic),
    "alerts": sa.select(
        alerts.c.id,
        alerts.c.reference,
        alerts.c.type,
        alerts.c.incident_number,
        alerts.c.headline,
        alerts.c.message,
        alerts.c.area,
        alerts.c.area_description,
        alerts.c.author,
        alerts.c.created_at,
    ).order_by(alerts.c.id),
    "tips": sa.select(
        tips.c.id,
        tips.c.reference,
        tips.c.alert_id,
        tips.c.resident_id,
        tips.c.text,
        tips.c.lat,
        tips.c.lon,
        tips.c.anonymous,
        tips.c.contact,
        tips.c.tipster,
        tips.c.created_at,
    ).order_by(tips.c.id),
    "tip_media": sa.select(tip_media).order_by(tip_media.c.id),
}


def kept(database_url: str) -> dict[str, list[tuple]]:
    return {name: [tuple(row) for row in rows(database_url, query)] for name, query in KEPT.items()}


async def _seed_residents(database_url: str) -> list[Address]:
    engine = make_async_engine(database_url)
    try:
        seeded = [
            resident_at(*offset(*STAFFORD, north_m=60 * i), topics=frozenset({"all", "burglary"})) for i in range(6)
        ]
        await add_residents(unit_of_work_factory(engine, clock=utc_now), *seeded)
    finally:
        await engine.dispose()
    return [resident.address for resident in seeded]


async def _send_tips(database_url: str, force: ForceConfig, tipsters: list[Address], alert_reference: str) -> None:
    engine = make_async_engine(database_url)
    try:
        service = TipService(
            unit_of_work_factory(engine, clock=utc_now), force, roles=Roles(), officer_queue=None, clock=utc_now
        )
        [(alert_id,)] = rows(database_url, sa.select(alerts.c.id).where(alerts.c.reference == alert_reference))
        await service.submit(
            tipsters[0],
            NewTip("White van outside number 12", alert_id=alert_id, photos=[PHOTO], location=(52.807, -2.117)),
        )
        await service.submit(
            tipsters[1], NewTip("Two men knocking on Eastgate Street", may_contact=True, contact="@sam on Telegram")
        )
    finally:
        await engine.dispose()


def back_up_while_serving(
    source_url: str, force: ForceConfig, back_up: Callable[[], None]
) -> tuple[dict[str, list[tuple]], str]:
    """Seed the source, serve it, write an alert and tips while it runs, back it up; the source's kept rows and the alert."""
    upgrade(source_url)
    tipsters = asyncio.run(_seed_residents(source_url))
    server = Server(lookout_env(source_url))
    try:
        server.wait_until_up()
        env = lookout_env(source_url)
        sent = run_json(["alert", "send", *ALERT], env)
        assert sent["total"] == 6
        asyncio.run(_send_tips(source_url, force, tipsters, sent["reference"]))
        back_up()
        assert httpx.get(f"{server.url}/readyz", timeout=10).status_code == 200  # served all along
    finally:
        server.stop()
    return kept(source_url), sent["reference"]


def assert_restored_copy_serves(restored_url: str, source: dict[str, list[tuple]], alert_reference: str) -> None:
    assert kept(restored_url) == source
    assert len(source["residents"]) == 6 and len(source["alerts"]) == 1 and len(source["tips"]) == 2
    assert source["tip_media"][0][tip_media.c.keys().index("data")] == PHOTO.data
    server = Server(lookout_env(restored_url))
    try:
        server.wait_until_up()
        ready = httpx.get(f"{server.url}/readyz", timeout=10)
        assert (ready.status_code, ready.json()["status"]) == (200, "ok")
        again = run_json(
            ["alert", "send", *ALERT], lookout_env(restored_url)
        )  # the restored sequences hand out new ids
        assert again["reference"] != alert_reference and again["total"] == 6
    finally:
        output = server.stop()
    assert "Traceback" not in output, output


def test_a_running_sqlite_deployment_backed_up_and_restored(tmp_path: Path, force: ForceConfig) -> None:
    source_path, copy_path = tmp_path / "lookout.db", tmp_path / "restored" / "lookout.db"
    copy_path.parent.mkdir()

    def back_up() -> None:
        with sqlite3.connect(source_path) as live, sqlite3.connect(copy_path) as copy:
            live.backup(copy)
        live.close()
        copy.close()

    source, reference = back_up_while_serving(f"sqlite:///{source_path}", force, back_up)
    assert_restored_copy_serves(f"sqlite:///{copy_path}", source, reference)


@pytest.fixture
def postgres_databases() -> Iterator[tuple[str, str]]:
    """Two databases of their own (the live one and the one restored into), dropped afterwards."""
    admin = postgres_admin().execution_options(isolation_level="AUTOCOMMIT")
    suffix = uuid.uuid4().hex[:8]
    names = [f"deploy_backup_live_{suffix}", f"deploy_backup_restored_{suffix}"]
    with admin.connect() as conn:
        for name in names:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
    base = sa.engine.make_url(POSTGRES_URL)
    try:
        yield tuple(base.set(database=name).render_as_string(hide_password=False) for name in names)  # type: ignore[misc]
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


def libpq(url: str) -> str:
    """The SQLAlchemy URL as pg_dump and pg_restore take it."""
    return sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.mark.skipif(
    shutil.which("pg_dump") is None or shutil.which("pg_restore") is None, reason="pg_dump/pg_restore not installed"
)
def test_a_running_postgresql_deployment_backed_up_and_restored(
    tmp_path: Path, force: ForceConfig, postgres_databases: tuple[str, str]
) -> None:
    live_url, restored_url = postgres_databases
    dump = tmp_path / "lookout.dump"

    def back_up() -> None:
        subprocess.run(
            ["pg_dump", "-Fc", "--file", str(dump), libpq(live_url)], check=True, capture_output=True, timeout=120
        )

    source, reference = back_up_while_serving(live_url, force, back_up)
    restored = subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", "--dbname", libpq(restored_url), str(dump)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert restored.returncode == 0, restored.stderr
    assert_restored_copy_serves(restored_url, source, reference)
