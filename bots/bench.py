"""``lookout bench …``: run a benchmark and print its figures."""
from __future__ import annotations

import asyncio
import json

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from benchmarks.fanout import run_fanout_benchmark
from benchmarks.load import run_load_benchmark
from benchmarks.match import run_match_benchmark


def bench_match(*, residents: int, database_url: str | None, repeats: int, rebuild: bool, as_json: bool) -> None:
    err = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err) as bar:
        task = bar.add_task("Building the synthetic population", total=residents, visible=False)

        def progress(done: int) -> None:
            bar.update(task, completed=done, visible=True)

        figures = asyncio.run(
            run_match_benchmark(residents=residents, database_url=database_url, repeats=repeats, rebuild=rebuild, progress=progress)
        )
    _print(figures, "lookout bench match", as_json)


def bench_fanout(*, recipients: int, database_url: str | None, limited_recipients: int, as_json: bool) -> None:
    figures = asyncio.run(
        run_fanout_benchmark(recipients=recipients, database_url=database_url, limited_recipients=limited_recipients)
    )
    _print(figures, "lookout bench fanout", as_json)


def bench_load(*, database_url: str | None, rate: float, seconds: float, fanout: int, senders: int, as_json: bool) -> None:
    figures = asyncio.run(run_load_benchmark(database_url=database_url, rate=rate, seconds=seconds, fanout=fanout, senders=senders))
    _print(figures, "lookout bench load", as_json)


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
