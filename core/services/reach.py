"""An alert's reach, for the officer's report and the force's analysts: who it reached, on which channel, when, and where.

Built from aggregates only (``Reports.reach_rows`` / ``reach_cells``): counts per
minute, channel and state, and per H3 cell of the area, never a resident's
address. "Delivered" and "read" are what the platforms report back (WhatsApp
statuses, SMS delivery receipts); Telegram and email report neither.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from core.model import Alert, Channel, DeliveryState
from core.ports import FeedbackCounts, ReachRow

_WAITING = (DeliveryState.PENDING, DeliveryState.SENDING, DeliveryState.FAILED)


@dataclass(frozen=True)
class ChannelReach:
    sent: int = 0
    delivered: int = 0  # reported by the platform
    read: int = 0  # reported by the platform
    failed: int = 0  # given up on (dead)
    skipped: int = 0
    waiting: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.failed + self.skipped + self.waiting


@dataclass(frozen=True)
class Minute:
    at: datetime  # UTC, to the minute
    sent: int
    failed: int
    sent_so_far: int


@dataclass(frozen=True)
class ReachReport:
    alert: Alert
    rows: list[ReachRow]
    cells: dict[str, dict[DeliveryState, int]]  # H3 cell → residents per delivery state
    tips: int
    # Residents' "Useful / Not useful" answers, per channel they answered from (core/services/feedback.py).
    feedback: dict[Channel, FeedbackCounts] = field(default_factory=dict)

    @property
    def feedback_total(self) -> FeedbackCounts:
        return FeedbackCounts(
            sum(c.useful for c in self.feedback.values()), sum(c.not_useful for c in self.feedback.values())
        )

    @property
    def by_channel(self) -> dict[Channel, ChannelReach]:
        sums: dict[Channel, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for row in self.rows:
            per = sums[row.channel]
            per["delivered"] += row.delivered
            per["read"] += row.read
            if row.state is DeliveryState.SENT:
                per["sent"] += row.count
            elif row.state is DeliveryState.DEAD:
                per["failed"] += row.count
            elif row.state is DeliveryState.SKIPPED:
                per["skipped"] += row.count
            else:
                per["waiting"] += row.count
        return {channel: ChannelReach(**per) for channel, per in sorted(sums.items())}

    @property
    def total(self) -> ChannelReach:
        channels = list(self.by_channel.values())
        return ChannelReach(
            **{
                name: sum(getattr(c, name) for c in channels)
                for name in ("sent", "delivered", "read", "failed", "skipped", "waiting")
            }
        )

    @property
    def timeline(self) -> list[Minute]:
        """Sent and failed per minute (when each row reached its outcome), with the running total sent."""
        per: dict[datetime, list[int]] = defaultdict(lambda: [0, 0])
        for row in self.rows:
            if row.state is DeliveryState.SENT:
                per[row.minute][0] += row.count
            elif row.state is DeliveryState.DEAD:
                per[row.minute][1] += row.count
        so_far, minutes = 0, []
        for at in sorted(per):
            sent, failed = per[at]
            so_far += sent
            minutes.append(Minute(at, sent, failed, so_far))
        return minutes

    @property
    def reached_cells(self) -> dict[str, int]:
        """Residents sent the alert, per cell (for the shaded map)."""
        return {
            cell: states[DeliveryState.SENT] for cell, states in self.cells.items() if states.get(DeliveryState.SENT)
        }

    def deliveries_csv(self) -> str:
        """One line per minute, channel and delivery state: the figures behind the report, for the force's analysts."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(
            ["alert", "minute_utc", "channel", "state", "deliveries", "reported_delivered", "reported_read"]
        )
        for row in self.rows:
            writer.writerow(
                [
                    self.alert.reference,
                    row.minute.strftime("%Y-%m-%dT%H:%MZ"),
                    row.channel.value,
                    row.state.value,
                    row.count,
                    row.delivered,
                    row.read,
                ]
            )
        return out.getvalue()

    def feedback_csv(self) -> str:
        """One line per channel: residents who found the alert useful, and not useful (one answer each)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["alert", "channel", "useful", "not_useful"])
        for channel, counts in sorted(self.feedback.items()):
            writer.writerow([self.alert.reference, channel.value, counts.useful, counts.not_useful])
        return out.getvalue()

    def cells_csv(self) -> str:
        """One line per H3 cell of the area and delivery state: residents (a resident with two places counts in both)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["alert", "h3_cell", "state", "residents"])
        for cell in sorted(self.cells):
            for state, count in sorted(self.cells[cell].items(), key=lambda item: item[0].value):
                writer.writerow([self.alert.reference, cell, state.value, count])
        return out.getvalue()
