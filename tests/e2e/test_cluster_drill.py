"""``lookout bench cluster``, small: six processes on a private PostgreSQL, one of each kind killed, the database restarted.

The full drill (5,000 residents) is a benchmark whose figures are in docs/operations.md; this runs it with 300
residents, so the fan-out lasts about ten seconds and every kill and the restart land inside it.
"""

from __future__ import annotations

import asyncio

from benchmarks.cluster import run_cluster_drill


def test_killing_a_worker_the_leading_scheduler_and_a_web_process_and_restarting_postgres_loses_nothing() -> None:
    figures = asyncio.run(run_cluster_drill(database_url=None, residents=300))
    shown = {k: v for k, v in figures.items() if k != "logs_tail"}
    assert figures["lost"] == [], (shown, figures.get("logs_tail"))
    assert figures["alerts"] == 2 and figures["deliveries_sent"] == figures["deliveries_expected"] > 300, shown
    assert (
        figures["receiver_missing"] == 0 and figures["receiver_duplicates"] <= figures["rows_leased_at_worker_kill"]
    ), shown
    assert figures["new_leader"] not in (None, figures["leader_killed"]), shown
    assert figures["webhook_5xx_otherwise"] == 0 and figures["webhook_updates_given_up"] == 0, shown
    assert figures["webhook_failed_then_ignored"] == 0 and figures["processes_died_unasked"] == [], shown
    assert figures["readyz_at_end"], shown
    died = {name: code for name, code in figures["exit_codes"].items() if code is None}
    assert sorted(died) == sorted(["worker-1", "web-1", figures["leader_killed"]]), shown
    assert all(code == 0 for code in figures["exit_codes"].values() if code is not None), (
        shown
    )  # the survivors stop cleanly
