"""``lookout serve`` as a real process over real HTTP."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa

from runtime.version import lookout_version
from storage.database import make_sync_engine
from storage.migrate import head_revision
from tests.support.processes import Server, lookout_env, run_lookout


def test_health_and_readiness(database_url: str) -> None:
    server = Server(lookout_env(database_url))
    try:
        server.wait_until_up()
        assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok", "version": lookout_version()}
        ready = httpx.get(f"{server.url}/readyz")
        assert ready.status_code == 200 and ready.json()["schema"] == head_revision()

        # Someone rolls the schema back under a running app: it stops being ready and says how to fix it.
        _set_schema_revision(database_url, "older")
        stale = httpx.get(f"{server.url}/readyz")
        assert stale.status_code == 503
        assert stale.json() == {
            "status": "unavailable",
            "database": "ok",
            "schema": "older",
            "expected": head_revision(),
            "fix": "lookout db upgrade",
        }
    finally:
        output = server.stop()
        _set_schema_revision(database_url, head_revision())
    assert "platforms on: none" in output


def _set_schema_revision(database_url: str, revision: str) -> None:
    engine = make_sync_engine(database_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = :revision"), {"revision": revision})
    engine.dispose()


def test_serve_refuses_an_unmigrated_database_and_names_the_fix(tmp_path) -> None:
    done = run_lookout(["serve", "--port", "9"], lookout_env(f"sqlite:///{tmp_path}/empty.db"))
    assert done.returncode == 1
    assert "lookout db upgrade" in done.stderr and "no Lookout tables" in done.stderr
    assert not (tmp_path / "empty.db").exists()  # no empty file left behind for the next command to trip on


def test_db_upgrade_then_serve(tmp_path) -> None:
    env = lookout_env(f"sqlite:///{tmp_path}/fresh.db")
    upgraded = run_lookout(["db", "upgrade"], env)
    assert upgraded.returncode == 0 and head_revision() in upgraded.stdout
    assert run_lookout(["db", "upgrade"], env).returncode == 0  # idempotent
    server = Server(env)
    try:
        server.wait_until_up()
        assert httpx.get(f"{server.url}/readyz").status_code == 200
    finally:
        server.stop()


def test_a_broken_force_config_stops_start_up_naming_file_and_field(tmp_path) -> None:
    config = tmp_path / "force.toml"
    config.write_text(
        'name = "X Police"\ncontact = "Call 101"\nincident_pattern = "["\napproval_threshold = 10\n[[topics]]\nkey = "all"\nlabel = "All"\ndescription = "All"\n'
    )
    done = run_lookout(["serve"], lookout_env(f"sqlite:///{tmp_path}/x.db", LOOKOUT_FORCE_CONFIG=str(config)))
    assert done.returncode == 2
    assert str(config) in done.stderr and "incident_pattern" in done.stderr


@pytest.mark.parametrize("url", ["mysql://nope", "not a url"])
def test_a_bad_database_url_is_a_configuration_error(url: str) -> None:
    done = run_lookout(["db", "upgrade"], lookout_env(url))
    assert done.returncode == 2 and "LOOKOUT_DATABASE_URL" in done.stderr
