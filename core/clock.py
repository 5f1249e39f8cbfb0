"""The one source of "now" for the product: every service, worker and repository is handed a clock.

Nothing deeper reads the wall clock itself, so a test (or a replay) gives one clock to
everything it builds and the whole system agrees on the time. ``utc_now`` is the real
clock, chosen once by the composition root.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware in UTC."""


def utc_now() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)
