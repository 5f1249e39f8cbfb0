"""The ``lookout`` command: serve, db, demo, bench, and the officer's alert actions."""

from __future__ import annotations

import sys

import typer
from pydantic import ValidationError

from core.settings import Settings
from runtime.cli_alerts import alert_app
from runtime.cli_config import config_app, init
from runtime.cli_support import (
    EXIT_FAILED,
    EXIT_MISCONFIGURED,
    err,
    load_settings,
    out,
    report_settings_problems,
    run_or_explain,
)
from runtime.logs import REDACTOR, configure_logging
from runtime.version import lookout_version

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Lookout: community alerts for police forces.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema (Alembic migrations).")
telegram_app = typer.Typer(no_args_is_help=True, help="The Telegram bot's registration.")
bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks: printed figures, not pass/fail.")
app.add_typer(db_app, name="db")
app.add_typer(alert_app, name="alert")
app.add_typer(bench_app, name="bench")
app.add_typer(telegram_app, name="telegram")
app.add_typer(config_app, name="config")
app.command("init")(init)


def _print_version(asked: bool) -> None:
    if asked:
        out.print(f"lookout {lookout_version()}", highlight=False)
        raise typer.Exit()


@app.callback()
def lookout(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Lookout: community alerts for police forces."""


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema (safe to run again)."""
    from storage.migrate import head_revision, upgrade

    settings = load_settings()
    run_or_explain(lambda: upgrade(settings.database_url))
    out.print(f"Database schema is at revision [bold]{head_revision()}[/bold] (current).")


@db_app.command("current")
def db_current() -> None:
    """Say which schema revision the database is at and whether it is the one this version needs (exit 1 if not)."""
    from runtime.config_check import check_database

    words, current = check_database(load_settings())
    (out if current else err).print(f"Database: {words}", highlight=False)
    if not current:
        raise typer.Exit(EXIT_FAILED)


@telegram_app.command("set-webhook")
def telegram_set_webhook() -> None:
    """Register LOOKOUT_PUBLIC_URL/telegram/webhook with Telegram, with the secret and the update types used."""
    from bots.telegram.registration import set_webhook

    run_or_explain(lambda: out.print(set_webhook(load_settings())))


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    worker: bool = typer.Option(True, "--worker/--no-worker", help="Run the delivery worker in this process."),
    scheduler: bool = typer.Option(True, "--scheduler/--no-scheduler", help="Take part in the scheduler election."),
    reuse_port: bool = typer.Option(
        False,
        "--reuse-port",
        help="Share the port with other `lookout serve --reuse-port` processes (PostgreSQL: scale out the web).",
    ),
) -> None:
    """Run the web app, the delivery worker and the scheduler (the embedded default)."""
    from runtime.serving import run_forever

    run_or_explain(
        lambda: run_forever(
            load_settings(), web=True, worker=worker, scheduler=scheduler, host=host, port=port, reuse_port=reuse_port
        )
    )


@app.command("worker")
def worker_command() -> None:
    """Run only the delivery worker (scale out: several on PostgreSQL)."""
    from runtime.serving import run_forever

    run_or_explain(lambda: run_forever(load_settings(), web=False, worker=True, scheduler=False))


@app.command("scheduler")
def scheduler_command() -> None:
    """Run only the scheduler (one leads; others stand by and take over)."""
    from runtime.serving import run_forever

    run_or_explain(lambda: run_forever(load_settings(), web=False, worker=False, scheduler=True))


@app.command()
def demo(
    port: int = typer.Option(8000, help="Port for the app."),
    residents: int = typer.Option(2000, help="Demo residents to seed on first run."),
    sandbox_port: int = typer.Option(
        8090, help="Port for the sandbox: the platforms' stand-ins and the console (a free one if taken)."
    ),
    smtp_port: int = typer.Option(8025, help="Port for the sandbox's mail relay stand-in (a free one if taken)."),
) -> None:
    """Run the whole service on SQLite with demo data and the sandbox console, no accounts needed.

    Writes var/demo.env: `source var/demo.env` in a second terminal points `lookout alert …` at the demo."""
    from runtime.demo import run_demo

    run_or_explain(lambda: run_demo(port=port, residents=residents, sandbox_port=sandbox_port, smtp_port=smtp_port))


@bench_app.command("match")
def bench_match(
    residents: int = typer.Option(1_000_000, help="Synthetic residents around Stafford."),
    database_url: str | None = typer.Option(None, help="Database to run on (default: a cached SQLite file)."),
    repeats: int = typer.Option(3, min=1, help="Timed runs per figure (the median is printed)."),
    rebuild: bool = typer.Option(False, help="Build the population again even if cached."),
    peer: str | None = typer.Option(
        None,
        help="'postgis': build the same residents in PostGIS (its own database beside --database-url) and print both side by side.",
    ),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Time recipient resolution plus delivery-row writes for 3 km and street-sized areas."""
    from runtime.bench import bench_match as run

    run_or_explain(
        lambda: run(
            residents=residents,
            database_url=database_url,
            repeats=repeats,
            rebuild=rebuild,
            peer=peer,
            as_json=json_output,
        )
    )


@bench_app.command("fanout")
def bench_fanout(
    recipients: int = typer.Option(50_000, help="Recipients for the unlimited run."),
    limited_recipients: int = typer.Option(600, help="Recipients for the run against a 30 msg/s limit."),
    sms_recipients: int = typer.Option(
        100,
        min=0,
        help="Texters for the SMS run, at SMS_MESSAGES_PER_SECOND (a long code's 1/s: 100 texts take about 5 min); 0 skips it.",
    ),
    database_url: str | None = typer.Option(None, help="Database to run on (default: a temporary SQLite file)."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Time the delivery worker against a local Telegram Bot API (unlimited and rate-limited) and a local Twilio."""
    from runtime.bench import bench_fanout as run

    run_or_explain(
        lambda: run(
            recipients=recipients,
            database_url=database_url,
            limited_recipients=limited_recipients,
            sms_recipients=sms_recipients,
            as_json=json_output,
        )
    )


@bench_app.command("load")
def bench_load(
    rate: float = typer.Option(200.0, min=1, help="Resident messages a second into the Telegram webhook."),
    seconds: float = typer.Option(30.0, min=1, max=60, help="How long to keep it up (at most 60 s)."),
    fanout: int = typer.Option(20_000, min=1, help="Recipients of the alert being sent during the load."),
    senders: int = typer.Option(2_000, min=1, help="How many different residents write."),
    database_url: str | None = typer.Option(None, help="Database to run on (default: a temporary SQLite file)."),
    web_processes: int = typer.Option(
        1, min=1, max=16, help="`lookout serve` processes sharing the port (more than one: PostgreSQL)."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Webhook answer times (p50/p99) and errors under resident load while an alert fans out."""
    from runtime.bench import bench_load as run

    run_or_explain(
        lambda: run(
            database_url=database_url,
            rate=rate,
            seconds=seconds,
            fanout=fanout,
            senders=senders,
            web_processes=web_processes,
            as_json=json_output,
        )
    )


@bench_app.command("reach")
def bench_reach(
    routine: int = typer.Option(20_000, min=1, help="Telegram residents of the routine alert already fanning out."),
    urgent: int = typer.Option(500, min=2, help="Telegram residents of the Immediate alert sent behind it."),
    reach: int = typer.Option(50_000, min=1, help="Residents of the alert timed to 95% (PostgreSQL only)."),
    database_url: str | None = typer.Option(
        None, help="Database to run on (default: a temporary SQLite file; its tables are emptied)."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Urgent first behind a routine alert, nearest first, and seconds to reach 95% at the platforms' real ceilings."""
    from runtime.bench import bench_reach as run

    run_or_explain(
        lambda: run(database_url=database_url, routine=routine, urgent=urgent, reach=reach, as_json=json_output)
    )


MIN_FAULT_RECIPIENTS = 400  # tip senders and chatters are drawn from them


@bench_app.command("faults")
def bench_faults(
    recipients: int = typer.Option(
        2_500,
        min=MIN_FAULT_RECIPIENTS,
        help="Recipients of the alert fanning out while the faults come (≈90 s at 30/s).",
    ),
    database_url: str | None = typer.Option(
        None, help="Database to run on (PostgreSQL: in a schema of its own; default: a temporary SQLite file)."
    ),
    postgres_fault: str = typer.Option(
        "restart",
        help="On PostgreSQL: 'restart' the local cluster (pg_ctlcluster), or 'terminate' "
        "only Lookout's sessions (for a server shared with other work).",
    ),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Platform latency, resets and 5xx bursts, a timing-out geocoder and a PostgreSQL restart mid fan-out: is anything lost?"""
    from runtime.bench import bench_faults as run

    if postgres_fault not in ("restart", "terminate"):
        err.print("[red]--postgres-fault is 'restart' or 'terminate'.[/red]")
        raise typer.Exit(2)
    nothing_lost = run_or_explain(
        lambda: run(
            database_url=database_url, recipients=recipients, postgres_fault=postgres_fault, as_json=json_output
        )
    )
    if not nothing_lost:
        raise typer.Exit(1)


@bench_app.command("cluster")
def bench_cluster(
    residents: int = typer.Option(
        5_000, min=100, max=100_000, help="Residents of the alert fanning out (≈3 min at 30/s for 5,000)."
    ),
    database_url: str | None = typer.Option(
        None,
        help="A local PostgreSQL cluster to run on (in a schema of its own) and restart "
        "— every session on it is cut off. Default: a private server started for the drill.",
    ),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Two web processes, two workers, two schedulers on PostgreSQL: kill -9 one of each kind and restart the database mid fan-out."""
    from runtime.bench import bench_cluster as run

    nothing_lost = run_or_explain(lambda: run(database_url=database_url, residents=residents, as_json=json_output))
    if not nothing_lost:
        raise typer.Exit(1)


@bench_app.command("doors")
def bench_doors(
    residents: int = typer.Option(100, min=1, max=2_000, help="Residents messaging the bot at the same moment."),
    database_url: str | None = typer.Option(None, help="Database to run on (default: a temporary SQLite file)."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """300 MB unauthenticated POSTs to the webhooks, and a burst of residents against Telegram's limits."""
    from runtime.bench import bench_doors as run

    run_or_explain(lambda: run(database_url=database_url, residents=residents, as_json=json_output))


def main() -> None:
    configure_logging_from_settings()
    try:
        app()
    except ValidationError as exc:  # settings read below a command (the demo's, a helper's): the same message, exit 2
        report_settings_problems(exc)
        sys.exit(EXIT_MISCONFIGURED)


def configure_logging_from_settings() -> None:
    """Logs in the format and at the level the settings give (environment or ``.env``, like every setting).
    Settings that do not validate get plain text at INFO: the command then says what is wrong and exits 2."""
    try:
        settings = Settings()
    except ValidationError:
        configure_logging()
        return
    REDACTOR.add(secret.get_secret_value() for secret in settings.secrets())
    configure_logging(settings.log_format, settings.log_level)


if __name__ == "__main__":
    main()
