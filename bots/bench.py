"""``lookout bench …``: run a benchmark and print its figures."""
from __future__ import annotations

import asyncio
import json

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

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
    if as_json:
        print(json.dumps(figures))
        return
    table = Table("figure", "value", title="lookout bench match")
    for key, value in figures.items():
        table.add_row(key, f"{value:,.1f}" if isinstance(value, float) else str(value))
    Console().print(table)
