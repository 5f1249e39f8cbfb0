"""Pacing sends: a rate per channel, an interval per chat.

Within one process a ``Pacer`` spaces sends evenly (a GCRA: no bursts), so a
receiver counting any one-second window sees at most the rate. Several worker
processes share a channel's rate through a ``SlotSource`` (the database on
PostgreSQL): they take turns from one shared schedule of send slots, so
together they keep the same even spacing.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Protocol

# Run a little under the published rate: clocks and networks jitter, and the
# platforms count windows their own way. 96% keeps 429s away at a small cost.
HEADROOM = 0.96
# At broadcast rates a slot of a booked batch reached this late is given up, not used: a worker whose event
# loop fell behind would otherwise send its overdue slots back to back while the other workers keep to the
# schedule, and the platform would count their sum. Sending every permit within LATE_SLOT_S of its slot keeps
# any one-second window under rate × (1 + LATE_SLOT_S): 0.96 × 1.04 < 1, inside the headroom.
LATE_SLOT_S = 0.04


class Pacer:
    """Evenly spaced permits at ``rate`` per second (None = unlimited).

    Permits are issued one at a time on a schedule 1/rate apart. A permit that
    comes late (sleep overshoot) keeps the schedule, so the rate does not drift
    down; after a real stall the schedule restarts from now with at most half
    an interval of catch-up, so overdue permits never fire as a burst.
    """

    def __init__(self, rate: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._next = 0.0
        self._paused_until = 0.0
        self._turn = asyncio.Lock()

    async def acquire(self) -> None:
        if self.rate is None:
            await self._wait_until(self._paused_until)
            return
        async with self._turn:
            planned = max(self._next, self._paused_until)
            await self._wait_until(planned)
            interval = 1.0 / self.rate
            self._next = max(planned + interval, self._clock() + interval / 2)

    def pause(self, seconds: float) -> None:
        """Hold every permit for ``seconds`` (the platform said: slow down)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    async def _wait_until(self, moment: float) -> None:
        delay = moment - self._clock()
        if delay > 0:
            await asyncio.sleep(delay)


class ChatSpacer:
    """At least ``interval`` seconds between two sends to the same chat."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self._clock = clock
        self._next: dict[str, float] = {}

    async def wait_turn(self, chat: str) -> None:
        now = self._clock()
        slot = max(now, self._next.get(chat, 0.0))
        self._next[chat] = slot + self.interval
        if len(self._next) > 100_000:
            self._forget_before(now)
        if slot > now:
            await asyncio.sleep(slot - now)

    def _forget_before(self, now: float) -> None:
        self._next = {chat: t for chat, t in self._next.items() if t > now}


class ChatTurns:
    """One send at a time to each chat, taken in the order asked (asyncio locks are FIFO)."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}  # chat → (lock, holders and waiters)

    def busy(self, chat: str) -> bool:
        """Someone has (or waits for) ``chat``'s turn: asking now means waiting."""
        return chat in self._locks

    @asynccontextmanager
    async def turn(self, chat: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(chat) or (asyncio.Lock(), 0)
        self._locks[chat] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[chat]
            if users == 1:
                del self._locks[chat]  # nobody else wants this chat: keep memory to chats in flight
            else:
                self._locks[chat] = (lock, users - 1)


class SlotSource(Protocol):
    """A rate shared by several processes (implemented in storage on PostgreSQL)."""

    async def reserve(self, key: str, count: int, rate: float) -> float:
        """Reserve the next ``count`` send slots of bucket ``key`` spaced 1/rate apart;
        returns the seconds from now until the first of them."""


class SharedPacer(Pacer):
    """Evenly spaced permits at ``rate`` per second across every process sharing ``key``.

    The shared source hands out slots in time (a GCRA kept in the database), so
    processes interleave without bursting past the rate and without wasting
    capacity while one of them is idle.
    """

    def __init__(self, key: str, rate: float, source: SlotSource, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(rate, clock)
        self._key = key
        self._source = source
        self._slots: deque[float] = deque()
        # At a broadcast's pace, reserve about 1/10 s of sending per database round trip (100 slots at 1,000/s): a
        # reservation every 33 ms cost each worker process about 6% of its CPU, and the database as much again.
        # At Telegram's free 30/s one slot at a time, as before: a late worker's batch bunched against the other
        # worker's sends past the platform's per-second count (31 in one second, in a two-worker test).
        self._batch = max(1, int(rate / 10)) if rate >= 100 else 1
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                if not self._slots:
                    delay = await self._source.reserve(self._key, self._batch, self.rate or 1.0)
                    first = self._clock() + delay
                    self._slots.extend(first + i / (self.rate or 1.0) for i in range(self._batch))
                slot = self._slots.popleft()
                # Our shared slot, and never less than half an interval after our own
                # previous send: a stall here must not turn into a burst there.
                await self._wait_until(max(slot, self._next, self._paused_until))
                if self._batch == 1 or self._clock() <= slot + LATE_SLOT_S:
                    break
                # A booked slot we reach too late (this process fell behind): the other workers have sent on
                # since, so give it up rather than send it now, beside theirs.
            self._next = self._clock() + 0.5 / (self.rate or 1.0)
