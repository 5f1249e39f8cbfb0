"""``lookout bench …``: run a benchmark and print its figures."""

from __future__ import annotations

import asyncio
import json

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from benchmarks.cluster import run_cluster_drill
from benchmarks.doors import run_doors_benchmark
from benchmarks.fanout import run_fanout_benchmark
from benchmarks.faults import run_faults_benchmark
from benchmarks.load import run_load_benchmark
from benchmarks.match import run_match_benchmark
from benchmarks.reach import run_reach_benchmark
from core.settings import Settings


def bench_match(
    *, residents: int, database_url: str | None, repeats: int, rebuild: bool, peer: str | None = None, as_json: bool
) -> None:
    err = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
    ) as bar:
        task = bar.add_task("Building the synthetic population", total=residents, visible=False)

        def progress(done: int) -> None:
            bar.update(task, completed=done, visible=True)

        figures = asyncio.run(
            run_match_benchmark(
                residents=residents,
                database_url=database_url,
                repeats=repeats,
                rebuild=rebuild,
                progress=progress,
                peer=peer,
            )
        )
    _print(figures, "lookout bench match", as_json)
    if "side_by_side" in figures and not as_json:
        _print_side_by_side(figures["side_by_side"], figures["residents"])


def _print_side_by_side(pair: dict, residents: int) -> None:
    """Lookout (H3 cells) and PostGIS (exact points) on the same residents and areas, medians of runs taken in turns."""
    lookout, postgis = pair["lookout"], pair["postgis"]
    table = Table(
        "area",
        "Lookout resolve ms",
        "Lookout hits",
        "Lookout + rows written ms",
        "PostGIS resolve ms",
        "PostGIS hits",
        "PostGIS + rows written ms",
        title=f"lookout bench match: Lookout vs PostGIS {pair['postgis_version']}, {residents:,} residents",
    )
    for area, label in (("circle_3km", "3 km circle"), ("street_100m", "100 m street")):
        cells = [label]
        for side in (lookout, postgis):
            cells += [f"{side[f'{area}_resolve_ms']:,}", f"{side[f'{area}_resolve_hits']:,}", f"{side[f'{area}_ms']:,}"]
        table.add_row(*cells)
    Console().print(table)


def bench_fanout(
    *, recipients: int, database_url: str | None, limited_recipients: int, sms_recipients: int, as_json: bool
) -> None:
    settings = Settings()  # SMS at the sender's configured rate
    figures = asyncio.run(
        run_fanout_benchmark(
            recipients=recipients,
            database_url=database_url,
            limited_recipients=limited_recipients,
            sms_recipients=sms_recipients,
            sms_rate=settings.sms_messages_per_second,
            sms_max_segments=settings.sms_max_segments,
        )
    )
    _print(figures, "lookout bench fanout", as_json)


def bench_load(
    *,
    database_url: str | None,
    rate: float,
    seconds: float,
    fanout: int,
    senders: int,
    web_processes: int,
    as_json: bool,
) -> None:
    figures = asyncio.run(
        run_load_benchmark(
            database_url=database_url,
            rate=rate,
            seconds=seconds,
            fanout=fanout,
            senders=senders,
            web_processes=web_processes,
        )
    )
    _print(figures, "lookout bench load", as_json)


def bench_reach(*, database_url: str | None, routine: int, urgent: int, reach: int, as_json: bool) -> None:
    err = Console(stderr=True)
    figures = asyncio.run(
        run_reach_benchmark(
            database_url=database_url,
            routine=routine,
            urgent=urgent,
            reach=reach,
            say=lambda line: err.print(line, highlight=False),
        )
    )
    _print(figures, "lookout bench reach", as_json)


def bench_faults(*, database_url: str | None, recipients: int, postgres_fault: str, as_json: bool) -> bool:
    """Run the fault scenario; True when nothing was lost."""
    err = Console(stderr=True)
    figures = asyncio.run(
        run_faults_benchmark(
            database_url=database_url,
            recipients=recipients,
            postgres_fault=postgres_fault,
            say=lambda line: err.print(line, highlight=False),
        )
    )
    if as_json:
        print(json.dumps(figures))
    else:
        _print_faults(figures)
    return not figures["lost"]


def bench_doors(*, database_url: str | None, residents: int, as_json: bool) -> None:
    figures = asyncio.run(run_doors_benchmark(database_url=database_url, residents=residents))
    if as_json:
        print(json.dumps(figures))
        return
    posts = Table(
        "door",
        "body",
        "answer",
        "MB sent before the answer",
        "seconds",
        title="lookout bench doors: 300 MB unauthenticated POSTs",
    )
    for post in figures["oversized_posts"]:
        posts.add_row(
            post["path"],
            post["body"],
            str(post["status"]),
            f"{post['mb_sent_before_answer']:,.1f}",
            f"{post['seconds']:.2f}",
        )
    Console().print(posts)
    figures = {
        **figures,
        "webhook_answers": ", ".join(f"{status}: {n:,}" for status, n in figures["webhook_answers"].items()),
    }
    _print(figures, f"lookout bench doors ({figures['database']})", as_json=False)


def bench_cluster(*, database_url: str | None, residents: int, as_json: bool) -> bool:
    """Run the cluster drill; True when nothing was lost."""
    err = Console(stderr=True)
    figures = asyncio.run(
        run_cluster_drill(
            database_url=database_url, residents=residents, say=lambda line: err.print(line, highlight=False)
        )
    )
    if as_json:
        print(json.dumps(figures))
        return not figures["lost"]
    shown = {k: v for k, v in figures.items() if k not in ("lost", "logs_tail", "exit_codes", "tracebacks_in_logs")}
    shown["webhook_answers"] = ", ".join(f"{status}: {n:,}" for status, n in figures["webhook_answers"].items())
    shown["processes_died_unasked"] = ", ".join(figures["processes_died_unasked"]) or "none"
    shown["exit_codes"] = ", ".join(
        f"{name}: {'killed' if code is None else code}" for name, code in figures["exit_codes"].items()
    )
    _print(shown, f"lookout bench cluster ({figures['database']})", as_json=False)
    console = Console()
    if figures["lost"]:
        for name, tail in figures.get("logs_tail", {}).items():
            err.print(f"--- {name} (last lines)\n{tail}", highlight=False, markup=False)
        console.print(f"[red bold]Lost:[/red bold] {'; '.join(figures['lost'])}")
    else:
        console.print("[green bold]Nothing lost.[/green bold]")
    return not figures["lost"]


def _print_faults(figures: dict) -> None:
    console = Console()
    injected = Table(
        "fault",
        "into",
        "from (s)",
        "until (s)",
        "how many",
        title=f"lookout bench faults ({figures['database']}): injected",
    )
    for fault in figures["faults"]:
        count, unit = fault["count"], fault["unit"]
        injected.add_row(
            fault["fault"],
            fault["target"],
            f"{fault['from_s']:.1f}",
            f"{fault['until_s']:.1f}",
            f"{count:,} {unit}{'' if count == 1 else 's'}",
        )
    console.print(injected)
    survived = {k: v for k, v in figures.items() if k not in ("faults", "lost")}
    survived["webhook_answers"] = ", ".join(f"{status}: {n:,}" for status, n in figures["webhook_answers"].items())
    survived["silent_after"] = ", ".join(f"{step}: {n}" for step, n in figures["silent_after"].items()) or "-"
    _print(survived, f"lookout bench faults ({figures['database']}): what survived", as_json=False)
    if figures["lost"]:
        console.print(f"[red bold]Lost:[/red bold] {'; '.join(figures['lost'])}")
    else:
        console.print("[green bold]Nothing lost.[/green bold]")


def _print(figures: dict, title: str, as_json: bool) -> None:
    if as_json:
        print(json.dumps(figures))
        return
    table = Table("figure", "value", title=title)
    for key, value in figures.items():
        if key == "query_plan" or isinstance(value, list | dict):
            continue  # long structures: use --json to see them
        table.add_row(key, f"{value:,.1f}" if isinstance(value, float) else str(value))
    Console().print(table)
