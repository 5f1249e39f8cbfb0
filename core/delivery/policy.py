"""When to try a failed delivery again."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped; ``max_attempts`` failures make a row dead.

    A throttle (429 with retry_after) is not the recipient's fault and does not
    use up an attempt: the row simply waits as long as the platform asked.
    """

    max_attempts: int = 8
    base_seconds: float = 2.0
    cap_seconds: float = 15 * 60.0

    def delay(self, attempts: int, retry_after: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds to wait after the ``attempts``-th failure (never less than ``retry_after``)."""
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
        jittered = (rng or random).uniform(ceiling / 2, ceiling)
        return max(jittered, retry_after or 0.0)

    def exhausted(self, attempts: int) -> bool:
        return attempts >= self.max_attempts
