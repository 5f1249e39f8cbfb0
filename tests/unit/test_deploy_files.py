"""The deploy files run commands the CLI has, in the production shape, with migration as its own step.

No Docker daemon runs where these tests run, so the compose file is read as YAML and the
Dockerfile as text; every `lookout …` command they and the systemd units start is parsed by
the real command line (a renamed flag fails here, not at 3 a.m.). The systemd units also go
through ``systemd-analyze verify`` where it is installed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
import typer
import yaml
from typer.core import TyperCommand, TyperGroup
from typer.main import get_command

from runtime.cli import app
from sandbox.service import Sandbox, SandboxConfig

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SYSTEMD = DEPLOY / "systemd"
COMPOSE = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
SERVICES: dict[str, dict] = COMPOSE["services"]
PRODUCTION = {name: service for name, service in SERVICES.items() if not service.get("profiles")}
TRIAL = {name: service for name, service in SERVICES.items() if "trial" in service.get("profiles", [])}
SANDBOX_PORT, SANDBOX_SMTP_PORT, TRIAL_APP_URL = 8090, 8025, "http://127.0.0.1:8100"


def lookout_command(args: Sequence[str]) -> TyperCommand:
    """The command ``lookout args…`` runs, after the real CLI has parsed every option; a bad one raises."""
    command = get_command(app)
    rest = list(args)
    while isinstance(command, TyperGroup):
        assert rest, f"`lookout {' '.join(args)}` names a group, not a command"
        name = rest.pop(0)
        found = command.get_command(typer.Context(command), name)
        assert found is not None, f"`lookout {' '.join(args)}`: there is no command {name!r}"
        command = found
    # Typer's click raises its usage errors (unknown option, a port that is not a number) as TyperException.
    command.make_context(command.name or "", rest)
    return command


def runs_lookout(service: dict) -> bool:
    return "entrypoint" not in service


def test_the_cli_check_catches_a_wrong_flag() -> None:
    lookout_command(["serve", "--no-worker", "--no-scheduler"])
    with pytest.raises(typer.TyperException, match="--no-workers"):
        lookout_command(["serve", "--no-workers"])
    with pytest.raises(typer.TyperException):
        lookout_command(["serve", "--port", "eighty"])
    with pytest.raises(AssertionError):
        lookout_command(["db", "migrate"])


# --- compose ---------------------------------------------------------------------------------------


def test_compose_has_the_production_shape() -> None:
    assert set(PRODUCTION) == {"postgres", "migrate", "web", "worker", "scheduler"}
    assert PRODUCTION["postgres"]["image"].startswith("postgres:")
    for name in ("web", "worker", "scheduler"):
        assert PRODUCTION[name]["deploy"]["replicas"] == 2, name
    assert PRODUCTION["web"]["command"][:1] == ["serve"]
    assert {"--no-worker", "--no-scheduler"} <= set(PRODUCTION["web"]["command"])
    assert PRODUCTION["worker"]["command"] == ["worker"]
    assert PRODUCTION["scheduler"]["command"] == ["scheduler"]


def test_compose_commands_are_real_cli_commands() -> None:
    for name, service in SERVICES.items():
        if name != "postgres" and runs_lookout(service):
            lookout_command(service["command"])


def test_compose_migrates_once_before_everything_else() -> None:
    migrating = [name for name, service in PRODUCTION.items() if service.get("command") == ["db", "upgrade"]]
    assert migrating == ["migrate"]
    assert PRODUCTION["migrate"]["restart"] == "no"
    assert PRODUCTION["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("web", "worker", "scheduler"):
        assert PRODUCTION[name]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}, name


def test_compose_processes_share_the_compose_postgresql() -> None:
    for name in ("migrate", "web", "worker", "scheduler"):
        url = PRODUCTION[name]["environment"]["LOOKOUT_DATABASE_URL"]
        assert url.startswith("postgresql+psycopg://lookout:") and url.endswith("@postgres:5432/lookout"), name
        assert PRODUCTION[name]["env_file"] == ".env"


def test_web_health_check_is_readyz_on_the_port_it_serves() -> None:
    web = PRODUCTION["web"]
    port = web["command"][web["command"].index("--port") + 1]
    assert f"http://127.0.0.1:{port}/readyz" in " ".join(web["healthcheck"]["test"])
    assert all(mapping.endswith(f":{port}") for mapping in web["ports"])


def test_the_sandbox_is_only_in_the_trial_profile() -> None:
    assert set(TRIAL) == {"sandbox", "trial-migrate", "trial-webhook", "trial"}
    assert all(service["network_mode"] == "host" for service in TRIAL.values())  # the sandbox listens on loopback only
    assert SERVICES["sandbox"]["entrypoint"] == ["python", "-m", "sandbox"]
    assert SERVICES["sandbox"]["command"] == [
        "--port",
        str(SANDBOX_PORT),
        "--smtp-port",
        str(SANDBOX_SMTP_PORT),
        "--app-url",
        TRIAL_APP_URL,
    ]
    trial = SERVICES["trial"]["command"]
    assert (
        trial[0] == "serve"
        and f"http://{trial[trial.index('--host') + 1]}:{trial[trial.index('--port') + 1]}" == TRIAL_APP_URL
    )


def test_the_trial_points_every_platform_at_the_sandbox() -> None:
    """The trial's settings are what the sandbox itself says the app needs, on the ports the compose file gives it."""
    with Sandbox(SandboxConfig(app_url=TRIAL_APP_URL)) as sandbox:
        wanted = {
            name: value.replace(f":{sandbox.port}", f":{SANDBOX_PORT}").replace(
                f":{sandbox.smtp.port}", f":{SANDBOX_SMTP_PORT}"
            )
            for name, value in sandbox.app_environment().items()
        }
    for name in ("trial-migrate", "trial-webhook", "trial"):
        environment = SERVICES[name]["environment"]
        assert {key: environment[key] for key in wanted} == wanted, name
        assert environment["LOOKOUT_DATABASE_URL"].startswith("sqlite:///var/")


# --- Dockerfile --------------------------------------------------------------------------------------

DOCKERFILE = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")


def test_the_image_is_multi_stage_non_root_and_installs_from_the_lock() -> None:
    stages = re.findall(r"^FROM \S+ AS (\w+)$", DOCKERFILE, re.M)
    assert stages == ["build", "runtime"]
    runtime_stage = DOCKERFILE.split("AS runtime", 1)[1]
    assert re.search(r"^USER lookout", runtime_stage, re.M)
    assert "COPY --from=build /opt/lookout /opt/lookout" in runtime_stage
    assert re.search(r"pip install --constraint requirements\.lock \.", DOCKERFILE)


def test_the_image_runs_lookout_and_never_migrates_on_start() -> None:
    entrypoint = re.search(r"^ENTRYPOINT (.+)$", DOCKERFILE, re.M)
    command = re.search(r"^CMD (.+)$", DOCKERFILE, re.M)
    assert entrypoint and json.loads(entrypoint[1]) == ["lookout"]
    assert command and lookout_command(json.loads(command[1])).name == "serve"
    assert "db upgrade" not in DOCKERFILE.split("ENTRYPOINT", 1)[1]


def test_the_build_context_lets_in_what_the_dockerfile_copies() -> None:
    allowed = {
        line[1:].rstrip("/")
        for line in (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
        if line.startswith("!")
    }
    copied = set()
    for sources in re.findall(r"^COPY (?!--from)(.+) \S+$", DOCKERFILE, re.M):
        copied.update(sources.split())
    assert copied <= allowed, copied - allowed
    assert all((ROOT / name).exists() for name in copied)


# --- systemd ---------------------------------------------------------------------------------------


def _unit(name: str) -> str:
    return (SYSTEMD / name).read_text(encoding="utf-8")


def _exec_start(name: str, instance: str = "") -> list[str]:
    line = re.search(r"^ExecStart=(.+)$", _unit(name), re.M)
    assert line, name
    words = line[1].replace("%i", instance).split()
    assert words[0] == "/opt/lookout/bin/lookout", name
    return words[1:]


def test_units_run_real_cli_commands() -> None:
    assert _exec_start("lookout-migrate.service") == ["db", "upgrade"]
    web = _exec_start("lookout-web@.service", "8000")
    assert lookout_command(web).name == "serve" and {"--no-worker", "--no-scheduler"} <= set(web)
    assert lookout_command(_exec_start("lookout-worker@.service", "1")).name == "worker"
    assert lookout_command(_exec_start("lookout-scheduler.service")).name == "scheduler"


def test_migration_is_a_oneshot_the_processes_wait_for() -> None:
    assert "Type=oneshot" in _unit("lookout-migrate.service")
    for name in ("lookout-web@.service", "lookout-worker@.service", "lookout-scheduler.service"):
        unit = _unit(name)
        assert re.search(r"^After=.*lookout-migrate\.service", unit, re.M), name
        assert "db upgrade" not in unit and "WantedBy=lookout.target" in unit and "User=lookout" in unit, name


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    """The units as systemd reads them, with ExecStart pointed at this checkout's `lookout` (the VM's is /opt/lookout)."""
    here = Path(sys.executable).parent / "lookout"
    names = []
    for unit in sorted(SYSTEMD.iterdir()):
        name = unit.name.replace("@.", "@1.")  # an instance of each template
        (tmp_path / name).write_text(
            unit.read_text(encoding="utf-8").replace("/opt/lookout/bin/lookout", str(here)), encoding="utf-8"
        )
        names.append(f"./{name}")
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *names], cwd=tmp_path, capture_output=True, text=True
    )
    assert (done.returncode, done.stdout + done.stderr) == (0, "")
