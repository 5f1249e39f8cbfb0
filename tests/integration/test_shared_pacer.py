"""The shared send-slot schedule at broadcast rates, on SQLite and PostgreSQL: a worker that falls behind its booked
slots gives them up rather than sending them back to back beside the other workers' sends.

The pacer's clock is injected (a process that stalls is a clock moved on); the schedule is the real table.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.delivery.ratelimit import LATE_SLOT_S, SharedPacer
from storage.rate_buckets import slot_source
from storage.tables import rate_buckets

KEY = "channel:telegram:paid"
RATE = 100.0  # a broadcast rate: the pacer books 10 slots (1/10 s) per reservation


class StoppedClock:
    """A monotonic clock that moves only when the test moves it."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


async def _booked_until(engine: AsyncEngine) -> datetime:
    async with engine.connect() as conn:
        return (await conn.execute(select(rate_buckets.c.next_slot).where(rate_buckets.c.key == KEY))).scalar_one()


async def test_a_worker_that_fell_behind_books_fresh_slots_instead_of_bursting_its_overdue_ones(
    engine: AsyncEngine,
) -> None:
    clock = StoppedClock()
    pacer = SharedPacer(KEY, RATE, slot_source(engine), clock)
    await pacer.acquire()  # books slots 0..9, 10 ms apart, and takes the first
    booked = await _booked_until(engine)

    clock.now += 0.2  # the process did not run for 200 ms: slots 1..9 are all overdue
    await pacer.acquire()

    # Sent now, slots 1..9 would go back to back while the other workers send their own slots of the same
    # moment: the platform would count both. They are given up and a fresh batch is booked.
    assert await _booked_until(engine) > booked


async def test_a_slot_reached_only_a_little_late_is_still_used(engine: AsyncEngine) -> None:
    clock = StoppedClock()
    pacer = SharedPacer(KEY, RATE, slot_source(engine), clock)
    await pacer.acquire()
    booked = await _booked_until(engine)

    clock.now += 1 / RATE + LATE_SLOT_S / 2  # slot 1, a few milliseconds late
    await pacer.acquire()

    assert await _booked_until(engine) == booked
