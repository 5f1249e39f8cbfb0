"""When ``lookout bench faults`` injects what, and the record of what it injected.

The faults come in phases, seconds after the alert is sent (the fan-out of the
default 2,500 recipients at Telegram's pace lasts about 90 s, so every phase
lands while it runs):

      5–20 s  latency: 300 ms on every Telegram and Slack API call
     20–35 s  connection resets: 10% of Telegram calls and 30% of Slack's (it makes few), closed unanswered
     35, 40, 45 s  bursts of 5xx: the next 15 Telegram calls and 5 Slack calls answered 500/502/503
     50–61 s  the geocoder timing out: Nominatim answers after 8 s (Lookout gives up at 5 s)
     63 s     PostgreSQL restarted (or its Lookout sessions cut off), when the database is PostgreSQL

Stand-ins are switched through their ``/_faults`` endpoint (``sandbox.faults``),
and each phase's count is what the stand-in says it injected.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

LATENCY = (5.0, 20.0, 0.3)  # from, until, seconds per call
RESETS = (20.0, 35.0)
RESET_SHARES = {"Telegram API": 0.10, "Slack API": 0.30}
BURSTS_AT = (35.0, 40.0, 45.0)
BURST_CALLS = {"Telegram API": 15, "Slack API": 5}
GEOCODER_TIMEOUT = (50.0, 61.0, 8.0)  # from, until, seconds before Nominatim answers
DATABASE_AT = 63.0
GEOCODER_CLIENT_TIMEOUT_S = 5.0  # bots.geocoding.GeopyGeocoder's default


@dataclass(frozen=True)
class Injected:
    """One fault as it was injected: what, into what, when (seconds after the alert was sent), how many."""

    fault: str
    target: str
    from_s: float
    until_s: float
    count: int
    unit: str = "call"  # what was counted, in the singular


class Clock:
    """Seconds since the alert was sent."""

    def __init__(self) -> None:
        self.zero = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self.zero

    async def until(self, second: float) -> None:
        await asyncio.sleep(max(0.0, second - self.now()))


class StandInFaults:
    """A stand-in's ``/_faults`` endpoint."""

    def __init__(self, client: httpx.AsyncClient, target: str, base_url: str) -> None:
        self.client = client
        self.target = target
        self.url = f"{base_url.rstrip('/')}/_faults"

    async def set(self, **settings: Any) -> None:
        (await self.client.post(self.url, json=settings, timeout=10)).raise_for_status()

    async def clear(self) -> None:
        (await self.client.delete(self.url, timeout=10)).raise_for_status()

    async def injected(self) -> dict[str, int]:
        answer = await self.client.get(self.url, timeout=10)
        answer.raise_for_status()
        return answer.json()["injected"]


@dataclass
class DatabaseFault:
    """Pulling the database from under Lookout: ``pull`` blocks until it is done and returns how many it affected."""

    description: str  # "restart", "sessions cut off"
    target: str  # "PostgreSQL 15/main"
    pull: Callable[[], int]
    started_s: float | None = None
    done_s: float | None = None


@dataclass
class Timeline:
    platforms: list[StandInFaults]
    geocoder: StandInFaults
    database: DatabaseFault | None
    say: Callable[[str], None]
    injected: list[Injected] = field(default_factory=list)

    async def run(self, clock: Clock) -> None:
        latency = {"latency_seconds": LATENCY[2]}
        await self._phase(
            clock,
            LATENCY[0],
            LATENCY[1],
            [(t, f"latency {LATENCY[2] * 1000:.0f} ms", latency) for t in self.platforms],
            ("latency",),
        )
        resets = [
            (t, f"connection resets ({RESET_SHARES[t.target]:.0%} of calls)", {"reset_share": RESET_SHARES[t.target]})
            for t in self.platforms
            if t.target in RESET_SHARES
        ]
        await self._phase(clock, RESETS[0], RESETS[1], resets, ("reset",))
        await self._bursts(clock)
        timing_out = (
            f"timing out (answers after {GEOCODER_TIMEOUT[2]:.0f} s; Lookout waits {GEOCODER_CLIENT_TIMEOUT_S:.0f} s)"
        )
        await self._phase(
            clock,
            GEOCODER_TIMEOUT[0],
            GEOCODER_TIMEOUT[1],
            [(self.geocoder, timing_out, {"latency_seconds": GEOCODER_TIMEOUT[2]})],
            ("latency",),
        )
        if self.database is not None:
            await clock.until(DATABASE_AT)
            await self._pull_database(clock, self.database)

    async def _phase(
        self,
        clock: Clock,
        start: float,
        end: float,
        faults: list[tuple[StandInFaults, str, dict[str, Any]]],
        counted: tuple[str, ...],
    ) -> None:
        """Each (stand-in, what, settings) from ``start`` to ``end``; counted as the stand-in counts ``counted``."""
        await clock.until(start)
        before = {target.target: await target.injected() for target, _, _ in faults}
        for target, fault, settings in faults:
            await target.set(**settings)
            self.say(f"{clock.now():5.1f} s  {fault}: {target.target}")
        await clock.until(end)
        for target, fault, _ in faults:
            await target.clear()
            self.injected.append(
                Injected(
                    fault,
                    target.target,
                    start,
                    round(clock.now(), 1),
                    _delta(before[target.target], await target.injected(), counted),
                )
            )

    async def _bursts(self, clock: Clock) -> None:
        targets = [t for t in self.platforms if t.target in BURST_CALLS]
        before = {t.target: await t.injected() for t in targets}
        for second in BURSTS_AT:
            await clock.until(second)
            for target in targets:
                await target.set(errors_next=BURST_CALLS[target.target])
            self.say(
                f"{clock.now():5.1f} s  a burst of 5xx: "
                + ", ".join(f"next {BURST_CALLS[t.target]} {t.target} calls" for t in targets)
            )
        await clock.until(BURSTS_AT[-1] + 4)  # the last burst is used up by then
        for target in targets:
            await target.clear()
            fault = f"{len(BURSTS_AT)} bursts of {BURST_CALLS[target.target]} × 500/502/503"
            self.injected.append(
                Injected(
                    fault,
                    target.target,
                    BURSTS_AT[0],
                    round(clock.now(), 1),
                    _delta(before[target.target], await target.injected(), ("500", "502", "503")),
                )
            )

    async def _pull_database(self, clock: Clock, database: DatabaseFault) -> None:
        self.say(f"{clock.now():5.1f} s  {database.target}: {database.description}")
        database.started_s = clock.now()
        count = await asyncio.to_thread(database.pull)
        database.done_s = clock.now()
        self.say(
            f"{clock.now():5.1f} s  {database.target}: {database.description} done in {database.done_s - database.started_s:.1f} s"
        )
        unit = "restart" if database.description == "restart" else "session"
        self.injected.append(
            Injected(
                database.description,
                database.target,
                round(database.started_s, 1),
                round(database.done_s, 1),
                count,
                unit,
            )
        )


def _delta(before: dict[str, int], after: dict[str, int], keys: tuple[str, ...]) -> int:
    return sum(after.get(k, 0) - before.get(k, 0) for k in keys)


async def cleared(targets: list[StandInFaults]) -> None:
    """Every stand-in back to answering normally (after a run, or one cut short)."""
    await asyncio.gather(*(t.clear() for t in targets), return_exceptions=True)
