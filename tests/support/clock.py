"""The one clock a test gives to everything it builds.

A test that fixes the date uses a ``FakeClock`` and hands it to every service, worker,
repository and stand-in it makes (the ``clock`` fixture does this for ``uow_factory``);
nothing in the product reads the wall clock behind its back, so the test passes on any
day. Tests that run real processes keep the real clock (``utc_now``) on both sides.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday, 12:00 in London (GMT)


class FakeClock:
    """Frozen at ``start`` until the test moves it on."""

    def __init__(self, start: datetime = START) -> None:
        self.start = self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def monotonic(self) -> float:
        """Seconds since the start: pacing pauses follow the test's clock too."""
        return (self.now - self.start).total_seconds()
