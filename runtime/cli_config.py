"""``lookout config check`` and ``lookout init``: a configuration a person can check, and one to start from."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape

from runtime.cli_support import EXIT_FAILED, EXIT_MISCONFIGURED, err, load_settings, out, run_or_explain
from runtime.config_check import check_configuration, is_example_force
from runtime.examples import EXAMPLE_AREAS, EXAMPLE_FORCE_CONFIG

config_app = typer.Typer(no_args_is_help=True, help="Check the configuration: settings, force config, database.")
STARTER_AREAS = "areas.geojson"


@config_app.command("check")
def config_check(
    processes: int = typer.Option(
        1,
        "--processes",
        min=1,
        help="How many Lookout processes this deployment runs (web, workers and schedulers together).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Validate the settings and the force config, say which platforms are on, and warn about risky choices.

    Exit 0: sound (warnings are printed but do not fail). 1: sound, but the database is unreachable or its
    schema is not current. 2: a setting or the force config is wrong."""
    settings = load_settings()
    report = run_or_explain(lambda: check_configuration(settings, processes=processes))
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "force_config": str(report.force_path),
                    "force": report.force.name,
                    "example_force": is_example_force(report.force_path),
                    "templates": list(report.force.templates),
                    "platforms_on": [c.value for c in report.platforms_on],
                    "platforms_off": [c.value for c in report.platforms_off],
                    "database": report.database,
                    "database_ready": report.database_ready,
                    "warnings": report.warnings,
                }
            )
        )
    else:
        example = " [dim](the example shipped with Lookout)[/dim]" if is_example_force(report.force_path) else ""
        out.print(f"[green]Settings:[/green] valid (log format {settings.log_format}, level {settings.log_level})")
        out.print(
            f"[green]Force config:[/green] {escape(str(report.force_path))}{example}: {escape(report.force.name)}, "
            f"{len(report.force.topics)} topics, {len(report.force.templates)} alert templates, {len(report.force.areas)} named areas",
            highlight=False,
        )
        out.print(
            f"Platforms on: [bold]{', '.join(c.value for c in report.platforms_on) or 'none'}[/bold]"
            + (
                f"; off (credentials not set): {', '.join(c.value for c in report.platforms_off)}"
                if report.platforms_off
                else ""
            )
        )
        colour = "green" if report.database_ready else "red"
        out.print(f"[{colour}]Database:[/{colour}] {escape(report.database)}", highlight=False)
        for warning in report.warnings:
            out.print(f"[yellow]Warning:[/yellow] {escape(warning)}", highlight=False)
    if not report.database_ready:
        raise typer.Exit(EXIT_FAILED)


def init(
    path: Path = typer.Argument(
        Path("force.toml"), help="Where to write the force config (its areas file goes beside it)."
    ),
) -> None:
    """Write a starter force config to edit (a copy of the example, with its named areas); never overwrites."""
    areas = path.parent / STARTER_AREAS
    existing = [p for p in (path, areas) if p.exists()]
    if existing:
        err.print(
            f"[red]{escape(', '.join(str(p) for p in existing))} already exists; nothing was written.[/red] "
            "Choose another path, or move the file away first.",
            highlight=False,
        )
        raise typer.Exit(EXIT_FAILED)
    if not path.parent.is_dir():
        err.print(f"[red]There is no folder {escape(str(path.parent))}.[/red]", highlight=False)
        raise typer.Exit(EXIT_MISCONFIGURED)
    text = EXAMPLE_FORCE_CONFIG.read_text(encoding="utf-8")
    example_line = f'areas_file = "{EXAMPLE_AREAS.name}"'
    assert example_line in text, "the example names its areas file"  # kept true by tests/e2e/test_cli_config.py
    path.write_text(text.replace(example_line, f'areas_file = "{STARTER_AREAS}"'), encoding="utf-8")
    areas.write_text(EXAMPLE_AREAS.read_text(encoding="utf-8"), encoding="utf-8")
    out.print(
        f"Wrote {escape(str(path))} and {escape(str(areas))} (the example force, to make your own).\n"
        f"Edit them, then set [bold]LOOKOUT_FORCE_CONFIG={escape(str(path.resolve()))}[/bold] "
        "and run [bold]lookout config check[/bold].",
        highlight=False,
    )
