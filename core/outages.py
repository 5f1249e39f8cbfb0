"""The database going away for a while — a restart, a failover, a dropped connection — and coming back.

Storage raises ``StorageUnavailable`` for those (never for a bug or a broken
constraint), so long-running parts can tell "wait and try again" from "this is
wrong". ``Outage`` is how a part waits: one warning when the database goes,
one line when it is back, a short pause between tries growing with the outage — not a traceback
every poll for as long as the database is down.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

FIRST_RETRY_SECONDS = 0.5
LONGEST_RETRY_SECONDS = (
    2.0  # short: a restarted database is usually back within seconds, and a refused connection costs nothing
)


class StorageUnavailable(Exception):
    """The database could not be reached, or dropped the connection mid-way. Try again shortly.

    What was being done did not happen — or, for a commit cut off on its way
    back, may have: only retry what is safe to repeat.
    """


class Outage:
    """One part's view of the database being away (``failed``) and back (``recovered``)."""

    def __init__(self, logger: logging.Logger, part: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._logger = logger
        self._part = part
        self._clock = clock
        self._since: float | None = None
        self._failures = 0

    @property
    def ongoing(self) -> bool:
        return self._since is not None

    def failed(self, error: StorageUnavailable) -> None:
        self._failures += 1
        if self._since is None:
            self._since = self._clock()
            self._logger.warning("%s: the database is unavailable (%s); retrying until it answers", self._part, error)

    def try_began(self) -> float:
        """The moment a try begins, for ``recovered``."""
        return self._clock()

    def recovered(self, began: float) -> None:
        """A try that ``began`` at that moment worked. One that began before another part saw the database go
        says nothing of its return (it may have finished just before): only a try begun since ends the outage."""
        if self._since is None or began < self._since:
            return
        self._logger.info(
            "%s: the database is back after %.1f s (%d failed tries); carrying on",
            self._part,
            self._clock() - self._since,
            self._failures,
        )
        self._since, self._failures = None, 0

    def backoff(self) -> float:
        """Seconds to wait before the next try: half a second at first, then half the outage so far, never more than two.

        Grown with time, not with failures: many callers fail at once (every send in flight, the
        flusher, each channel's claims), and none should wait longer for it.
        """
        if self._since is None:
            return FIRST_RETRY_SECONDS
        return min(LONGEST_RETRY_SECONDS, max(FIRST_RETRY_SECONDS, (self._clock() - self._since) / 2))
