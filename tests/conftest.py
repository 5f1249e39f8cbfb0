"""Shared fixtures: the example force, the test's one clock, and a migrated database on SQLite and PostgreSQL.

Every test that takes ``database_url`` (or ``engine`` / ``uow_factory``) runs
twice, once per database. PostgreSQL comes from LOOKOUT_TEST_POSTGRES_URL; if
it is unreachable the PostgreSQL half is skipped locally and fails under CI=true.

``clock`` is the test's one clock: the real one unless the test (or its module) fixes
the date by overriding the fixture with a ``FakeClock``. Everything a test builds takes
it, ``uow_factory`` included, so no part reads another time.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.clock import Clock, utc_now
from core.force import ForceConfig, load_force_config
from runtime.examples import EXAMPLE_FORCE_CONFIG
from storage.database import make_async_engine, make_sync_engine
from storage.migrate import head_revision, upgrade
from storage.tables import metadata
from storage.uow import unit_of_work_factory

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_FORCE = EXAMPLE_FORCE_CONFIG
POSTGRES_URL = os.environ.get("LOOKOUT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"

_ran_on: Counter[str] = Counter()


@pytest.fixture(scope="session")
def force() -> ForceConfig:
    return load_force_config(EXAMPLE_FORCE)


@pytest.fixture
def clock() -> Clock:
    return utc_now


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy (migrating per test is slow)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


def postgres_admin() -> sa.Engine:
    """An engine on the test PostgreSQL; the test is skipped when it is unreachable, and fails under CI=true."""
    admin = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with admin.connect():
            pass
    except sa.exc.OperationalError as exc:
        admin.dispose()
        message = f"PostgreSQL at {POSTGRES_URL} is unreachable: {exc.orig}"
        if IN_CI:
            pytest.fail(f"{message} (CI=true: PostgreSQL is required)", pytrace=False)
        pytest.skip(message)
    return admin


@pytest.fixture(scope="session")
def postgres_schema_url() -> str:
    """A fresh PostgreSQL schema for this test session, migrated to head."""
    admin = postgres_admin()
    schema = f"lookout_test_{uuid.uuid4().hex[:10]}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = sa.engine.make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    url_text = url.render_as_string(hide_password=False)
    upgrade(url_text)
    yield url_text
    with admin.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()


def _empty_postgres(url: str) -> None:
    """Every table empty and the schema marked current, whatever the last test did."""
    engine = make_sync_engine(url)
    names = ", ".join(t.name for t in metadata.sorted_tables)
    with engine.begin() as conn:
        # The audit triggers refuse DELETE row by row; TRUNCATE is a table-level reset for tests only.
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        conn.execute(sa.text("UPDATE alembic_version SET version_num = :head"), {"head": head_revision()})
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    _ran_on[request.param] += 1
    if request.param == "sqlite":
        target = tmp_path / "lookout.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        return f"sqlite:///{target}"
    url = request.getfixturevalue("postgres_schema_url")
    _empty_postgres(url)
    return url


@pytest.fixture
async def engine(database_url: str):
    engine = make_async_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def uow_factory(engine, clock: Clock):
    return unit_of_work_factory(engine, clock=clock)


def pytest_sessionfinish(session: pytest.Session) -> None:
    # Under pytest-xdist each worker counts its own tests; it hands the counts to the controller.
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["lookout_ran_on"] = dict(_ran_on)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    _ran_on.update(getattr(node, "workeroutput", {}).get("lookout_ran_on", {}))


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if _ran_on:
        terminalreporter.section("databases")
        for name in ("sqlite", "postgresql"):
            terminalreporter.write_line(f"database tests set up on {name}: {_ran_on[name]}")
