"""What every ``lookout`` command shares: its consoles, reading the settings, and errors as exit codes.

Exit codes: 0 done; 1 it could not be done (a refusal, an unknown alert, deliveries that died, a wait that
gave up); 2 the command or the configuration is wrong (a bad setting, a broken force config, bad input).
A configuration mistake is a message naming the setting, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import OperationalError

from core.errors import LookoutError
from core.force import ForceConfigError
from core.outages import StorageUnavailable
from core.settings import Settings

EXIT_FAILED = 1
EXIT_MISCONFIGURED = 2

out = Console()
err = Console(stderr=True)
T = TypeVar("T")


def settings_problems(exc: ValidationError) -> list[str]:
    """One line per bad setting, named as it is set (its environment variable); the value is never repeated,
    as it may be a secret."""
    lines = []
    for problem in exc.errors():
        name = ".".join(str(part) for part in problem["loc"]) or "settings"
        lines.append(f"{name}: {problem['msg'].removeprefix('Value error, ')}")
    return lines


def report_settings_problems(exc: ValidationError) -> None:
    err.print("[red]Configuration error:[/red]")
    for line in settings_problems(exc):
        err.print(f"  {escape(line)}", highlight=False)


def load_settings() -> Settings:
    """The settings from the environment and ``.env``; a bad one ends the command with exit 2 and a message."""
    try:
        return Settings()
    except ValidationError as exc:
        report_settings_problems(exc)
        raise typer.Exit(EXIT_MISCONFIGURED) from None


def run_or_explain(action: Callable[[], T]) -> T:
    """Run ``action``; configuration and domain errors become a message and an exit code, not a traceback."""
    try:
        return action()
    except ForceConfigError as exc:
        err.print(f"[red]Force configuration error:[/red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(EXIT_MISCONFIGURED) from None
    except LookoutError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]", highlight=False)
        raise typer.Exit(EXIT_FAILED) from None
    except OperationalError as exc:  # the database refused or is not there: say which, in a line
        reason = str(exc.orig or exc).strip().splitlines()[0]
        err.print(f"[red]The database did not answer:[/red] {escape(reason)} (LOOKOUT_DATABASE_URL)", highlight=False)
        raise typer.Exit(EXIT_FAILED) from None
    except StorageUnavailable as exc:  # the same, met inside a service (it already names the driver's error in a line)
        err.print(f"[red]The database did not answer:[/red] {escape(str(exc))} (LOOKOUT_DATABASE_URL)", highlight=False)
        raise typer.Exit(EXIT_FAILED) from None
