"""Run pytest again with the process clock moved, so a test that mixes a fixed date with the real
clock fails today rather than on some later date.

Two moves, each applied to the test process and every Python process it starts (each
moves its wall clock by the same offset with time-machine, see ``moved_clock_site/``, so
they all agree): a year and a month ahead, and 23:30 in London on the evening before the
next change of the clocks. ``make test`` runs the ``calendar`` tests this way; pass other
pytest arguments to move the whole suite. The database servers keep the real time: the
product never compares its clock with theirs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def clock_change_evening(after: date) -> datetime:
    """23:30 London time on the last evening before the clocks next go forward or back."""
    day = after
    while True:
        tonight = datetime.combine(day, time(12), LONDON).utcoffset()
        tomorrow = datetime.combine(day + timedelta(days=1), time(12), LONDON).utcoffset()
        if tonight != tomorrow:
            return datetime.combine(day, time(23, 30), LONDON)
        day += timedelta(days=1)


def moves(now: datetime) -> list[tuple[str, datetime]]:
    return [
        ("a year and a month ahead", now + timedelta(days=396)),
        ("23:30 in London on the night the clocks change", clock_change_evening(now.date() + timedelta(days=1))),
    ]


def main(pytest_args: list[str]) -> int:
    now = datetime.now(UTC)
    site = Path(__file__).resolve().parent / "moved_clock_site"
    for label, when in moves(now):
        print(
            f"\n== the tests again, the clock moved to {when.astimezone(LONDON):%a %d %b %Y %H:%M %Z} ({label})",
            flush=True,
        )
        env = {
            **os.environ,
            "MOVED_CLOCK_OFFSET_SECONDS": str((when - now).total_seconds()),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])),
        }
        status = subprocess.call(pytest_args, env=env)
        if status != 0:
            return status
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
