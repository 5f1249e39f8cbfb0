"""``lookout --version``, ``init``, ``config check`` and ``db current`` as an operator runs them: from any directory,
with real processes, the example force found inside the package."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from core.force import load_force_config
from runtime.examples import EXAMPLE_FORCE_CONFIG
from runtime.version import lookout_version
from storage.migrate import head_revision
from tests.support.processes import LOOKOUT

SECRET = "telegram-webhook-secret-0123456789"


def clean_env(**settings: str) -> dict[str, str]:
    """The environment without any Lookout setting but the ones given (so nothing leaks in from the test run)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LOOKOUT_", "TELEGRAM_", "SLACK_", "WHATSAPP_", "SMS_"))
    }
    env.update(COLUMNS="200", **settings)
    return env


def lookout(args: list[str], cwd: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LOOKOUT, *args], env=clean_env(**settings), cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_version_from_any_directory(tmp_path: Path) -> None:
    done = lookout(["--version"], tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == f"lookout {lookout_version()}"


def test_init_writes_a_starter_config_that_loads_and_never_overwrites(tmp_path: Path) -> None:
    written = lookout(["init"], tmp_path)
    assert written.returncode == 0, written.stderr
    config, areas = tmp_path / "force.toml", tmp_path / "areas.geojson"
    assert areas.is_file()
    force = load_force_config(config)  # the starter is a valid force config with its areas beside it
    assert force.name == load_force_config(EXAMPLE_FORCE_CONFIG).name and force.areas
    assert f"LOOKOUT_FORCE_CONFIG={config.resolve()}" in written.stdout

    config.write_text(config.read_text().replace("Mercia Vale Police", "Test Vale Police"))
    again = lookout(["init"], tmp_path)
    assert again.returncode == 1 and "already exists" in again.stderr and "Traceback" not in again.stderr
    assert "Test Vale Police" in config.read_text()  # the edited file is untouched
    elsewhere = lookout(["init", "nowhere/force.toml"], tmp_path)
    assert elsewhere.returncode == 2 and "There is no folder" in elsewhere.stderr


def test_config_check_from_an_empty_directory_uses_the_packaged_example_and_says_what_is_on(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path}/lookout.db"
    missing = lookout(["config", "check"], tmp_path, LOOKOUT_DATABASE_URL=database)
    assert missing.returncode == 1, missing.stdout + missing.stderr  # valid, but the database is not there yet
    assert "Mercia Vale Police" in missing.stdout and "does not exist yet" in missing.stdout
    assert "6 alert templates" in missing.stdout
    assert not (tmp_path / "lookout.db").exists()  # checking never creates a database

    assert lookout(["db", "upgrade"], tmp_path, LOOKOUT_DATABASE_URL=database).returncode == 0
    trial = lookout(
        ["config", "check", "--json"],
        tmp_path,
        LOOKOUT_DATABASE_URL=database,
        TELEGRAM_BOT_TOKEN="123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345",
        TELEGRAM_API_BASE="http://127.0.0.1:9",
    )
    assert trial.returncode == 0, trial.stderr
    report = json.loads(trial.stdout)
    assert (
        report["example_force"] is True
        and report["platforms_on"] == ["telegram"]
        and "slack" in report["platforms_off"]
    )
    assert report["database_ready"] is True and report["warnings"] == []  # a stand-in on this machine: a trial
    assert report["templates"][0] == "missing_person"


def test_config_check_warns_about_the_example_force_sqlite_shared_and_plain_http(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path}/lookout.db"
    assert lookout(["db", "upgrade"], tmp_path, LOOKOUT_DATABASE_URL=database).returncode == 0
    done = lookout(
        ["config", "check", "--processes", "3"],
        tmp_path,
        LOOKOUT_DATABASE_URL=database,
        TELEGRAM_BOT_TOKEN="123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345",
        TELEGRAM_WEBHOOK_SECRET=SECRET,
        LOOKOUT_PUBLIC_URL="http://lookout.force.example",
    )
    assert done.returncode == 0, done.stderr  # warnings do not fail the check
    warnings = [line for line in done.stdout.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 3, done.stdout
    assert "example force" in warnings[0] and "telegram talk to the real platforms" in warnings[0]
    assert "SQLite with 3 processes" in warnings[1] and "not HTTPS" in warnings[2]
    assert "Platforms on: telegram" in done.stdout
    assert SECRET not in done.stdout + done.stderr and "ABCdefGHI" not in done.stdout + done.stderr

    # The force's own config, over HTTPS, one process: nothing to warn about.
    assert lookout(["init"], tmp_path).returncode == 0
    own = lookout(
        ["config", "check"],
        tmp_path,
        LOOKOUT_DATABASE_URL=database,
        LOOKOUT_FORCE_CONFIG=str(tmp_path / "force.toml"),
        TELEGRAM_BOT_TOKEN="123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345",
        LOOKOUT_PUBLIC_URL="https://lookout.force.example",
    )
    assert own.returncode == 0 and "Warning" not in own.stdout, own.stdout


def test_config_check_exits_2_on_a_broken_force_config_or_setting(tmp_path: Path) -> None:
    (tmp_path / "force.toml").write_text('name = "X"\n')
    broken = lookout(["config", "check"], tmp_path, LOOKOUT_FORCE_CONFIG=str(tmp_path / "force.toml"))
    assert broken.returncode == 2 and str(tmp_path / "force.toml") in broken.stderr and "Traceback" not in broken.stderr
    (tmp_path / ".env").write_text("LOOKOUT_DB_POOL_SIZE=0\n")  # read from .env like every setting
    bad = lookout(["config", "check"], tmp_path)
    assert bad.returncode == 2 and "LOOKOUT_DB_POOL_SIZE" in bad.stderr and "Traceback" not in bad.stderr


def test_db_current_says_where_the_schema_is(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path}/lookout.db"
    before = lookout(["db", "current"], tmp_path, LOOKOUT_DATABASE_URL=database)
    assert before.returncode == 1 and "lookout db upgrade" in before.stderr
    assert (
        lookout(
            [
                "db",
                "upgrade",
            ],
            tmp_path,
            LOOKOUT_DATABASE_URL=database,
        ).returncode
        == 0
    )
    after = lookout(["db", "current"], tmp_path, LOOKOUT_DATABASE_URL=database)
    assert after.returncode == 0 and head_revision() in after.stdout


@pytest.mark.parametrize(
    "command",
    [
        ["serve"],
        ["worker"],
        ["scheduler"],
        ["db", "upgrade"],
        ["db", "current"],
        ["config", "check"],
        ["alert", "list"],
        ["alert", "send", "A-2026-000001", "--yes"],
        ["alert", "cancel", "A-2026-000001", "--yes"],
        ["telegram", "set-webhook"],
    ],
)
def test_a_bad_setting_exits_2_from_every_command_naming_it(tmp_path: Path, command: list[str]) -> None:
    done = lookout(command, tmp_path, LOOKOUT_DATABASE_URL=f"sqlite:///{tmp_path}/x.db", LOOKOUT_LOG_LEVEL="chatty")
    assert done.returncode == 2, done.stdout + done.stderr
    assert (
        "Configuration error" in done.stderr and "LOOKOUT_LOG_LEVEL" in done.stderr and "Traceback" not in done.stderr
    )


@pytest.mark.parametrize(
    "url", ["postgresql+asyncpg://nobody@127.0.0.1:1/lookout", "postgresql+psycopg://nobody@127.0.0.1:abc/lookout"]
)
@pytest.mark.parametrize("command", [["db", "upgrade"], ["db", "current"], ["config", "check"], ["alert", "list"]])
def test_a_database_url_lookout_cannot_use_exits_2(tmp_path: Path, command: list[str], url: str) -> None:
    """A driver Lookout does not have, a port that is no number: both were tracebacks."""
    done = lookout(command, tmp_path, LOOKOUT_DATABASE_URL=url)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "LOOKOUT_DATABASE_URL" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("command", [["alert", "list"], ["serve"], ["db", "current"]])
def test_a_missing_force_config_exits_2_without_a_traceback(tmp_path: Path, command: list[str]) -> None:
    database = f"sqlite:///{tmp_path}/x.db"
    assert lookout(["db", "upgrade"], tmp_path, LOOKOUT_DATABASE_URL=database).returncode == 0
    done = lookout(
        command, tmp_path, LOOKOUT_DATABASE_URL=database, LOOKOUT_FORCE_CONFIG=str(tmp_path / "nowhere.toml")
    )
    if command == ["db", "current"]:  # the database alone: the force config is not its business
        assert done.returncode == 0
        return
    assert done.returncode == 2, done.stdout + done.stderr
    assert "nowhere.toml" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("command", [["db", "upgrade"], ["db", "current"], ["config", "check"], ["alert", "list"]])
def test_an_unreachable_database_is_a_one_line_answer_and_exit_1(tmp_path: Path, command: list[str]) -> None:
    done = lookout(command, tmp_path, LOOKOUT_DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/lookout")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Connection refused" in done.stdout + done.stderr and "Traceback" not in done.stderr
