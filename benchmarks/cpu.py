"""CPU seconds of the processes a benchmark drives, read from Linux's /proc (a process gone since reads as 0)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

# The platforms run on their own machines, not on the cores of the workers that call them. A stand-in starved of
# CPU on a shared machine reads a second's requests late and all at once, and counts them against the next second:
# 429s no platform would send. So the stand-ins get the CPU first when a request arrives.
STAND_IN_NICENESS = -10


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU time the processes ``pids`` have used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime: fields 14 and 15 of the line
    return total


async def database_backend_pids(engine: AsyncEngine) -> set[int]:
    """The PostgreSQL server processes serving this engine's database (on this machine), so their CPU can be read."""
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"))
        return {int(pid) for (pid,) in rows}


def run_first(pid: int) -> bool:
    """Give a stand-in's process the CPU before the benchmark's own processes; False where not permitted."""
    try:
        os.setpriority(os.PRIO_PROCESS, pid, STAND_IN_NICENESS)
    except PermissionError:
        return False
    return True
