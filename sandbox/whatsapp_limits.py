"""Meta's sending limits for one WhatsApp business number, and the bookkeeping that applies them.

``WhatsAppLimits`` is the configuration: throughput per number (130429), the
pair rate to one user (131056), the 24-hour customer-service window (131047)
and the business portfolio's messaging limit (131048). ``LimitLedger`` keeps
the counts those limits need (recent sends, when each user may next be
written to, when each user last wrote, who was reached outside their window)
and answers whether a send at a given time breaks one. It is not thread-safe:
the stand-in (``sandbox.whatsapp``) holds its lock around every call.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

WINDOW_SECONDS = 24 * 3600


@dataclass
class WhatsAppLimits:
    per_number_per_second: float | None = 80.0  # None: unlimited (benchmarks of the engine itself)
    per_user_interval: float | None = 6.0  # seconds between messages to one user; None: no pair limit
    # Meta lets a burst of up to 45 messages "borrow" future pair quota; 1 keeps the strict
    # one-per-interval reading, so an app that passes here also passes against Meta.
    per_user_burst: int = 1
    window_seconds: float = WINDOW_SECONDS
    # The portfolio's messaging limit: unique people reached outside their service window in any moving
    # 24 hours (Meta's tiers 250, 2,000, 10,000, 100,000); None: unlimited. Over it: 131048.
    messaging_limit: int | None = None
    messaging_limit_seconds: float = WINDOW_SECONDS


class LimitLedger:
    """What has been sent and received, as far as Meta's limits care; times are the stand-in's clock."""

    def __init__(self, limits: WhatsAppLimits) -> None:
        self.limits = limits  # replaceable at any time (a test may loosen the pair rate mid-run)
        self._recent_sends: deque[float] = deque()
        self._pair_due: dict[str, float] = {}  # wa_id -> theoretical time the next message is due
        self._last_inbound: dict[str, float] = {}
        # The messaging limit's count: who was reached outside their window, and when (oldest first).
        self._limit_counted: dict[str, float] = {}
        self._limit_order: deque[tuple[float, str]] = deque()

    # --- customer-service windows ---------------------------------------------------------

    def note_inbound(self, wa_id: str, at: float) -> None:
        """``wa_id`` wrote at ``at``: their 24-hour window runs from then."""
        self._last_inbound[wa_id] = at

    def window_open(self, wa_id: str, now: float) -> bool:
        last = self._last_inbound.get(wa_id)
        return last is not None and now - last < self.limits.window_seconds

    def windows(self, now: float) -> dict[str, dict[str, float | bool]]:
        """Every user who ever wrote: when they last did, and whether their window is open at ``now``."""
        return {
            wa_id: {"last_inbound_at": last, "open": self.window_open(wa_id, now)}
            for wa_id, last in self._last_inbound.items()
        }

    # --- throughput and pair rate -----------------------------------------------------------

    def throughput_exceeded(self, now: float) -> bool:
        per_second = self.limits.per_number_per_second
        if per_second is None:
            return False
        while self._recent_sends and self._recent_sends[0] <= now - 1.0:
            self._recent_sends.popleft()
        return len(self._recent_sends) >= per_second

    def pair_wait(self, wa_id: str, now: float) -> float:
        """Seconds before ``wa_id`` may get another message; a burst borrows from future quota."""
        interval = self.limits.per_user_interval
        if interval is None:
            return 0.0
        due = max(self._pair_due.get(wa_id, now), now)
        return max(0.0, due - now - (self.limits.per_user_burst - 1) * interval)

    def consume_rate(self, wa_id: str, now: float) -> None:
        """A send to ``wa_id`` was admitted (delivered or failed later): it uses throughput and pair quota."""
        if self.limits.per_number_per_second is not None:
            self._recent_sends.append(now)
        if self.limits.per_user_interval is not None:
            self._pair_due[wa_id] = max(self._pair_due.get(wa_id, now), now) + self.limits.per_user_interval

    # --- the portfolio's messaging limit ----------------------------------------------------

    def over_messaging_limit(self, wa_id: str, now: float) -> bool:
        """A new person outside their service window when the portfolio has reached its limit for these 24 hours."""
        limit = self.limits.messaging_limit
        if limit is None or self.window_open(wa_id, now):
            return False
        self._forget_counted_before(now - self.limits.messaging_limit_seconds)
        return wa_id not in self._limit_counted and len(self._limit_counted) >= limit

    def count_for_messaging_limit(self, wa_id: str, now: float) -> None:
        if self.limits.messaging_limit is None or self.window_open(wa_id, now) or wa_id in self._limit_counted:
            return
        self._limit_counted[wa_id] = now
        self._limit_order.append((now, wa_id))

    def limit_counted(self, now: float) -> int:
        """People counted against the messaging limit in the 24 hours before ``now``."""
        self._forget_counted_before(now - self.limits.messaging_limit_seconds)
        return len(self._limit_counted)

    def _forget_counted_before(self, cutoff: float) -> None:
        while self._limit_order and self._limit_order[0][0] <= cutoff:
            at, wa_id = self._limit_order.popleft()
            if self._limit_counted.get(wa_id) == at:
                del self._limit_counted[wa_id]
