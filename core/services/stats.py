"""Figures for ``/alert stats``: alerts and deliveries over a period, who can be reached now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.clock import Clock
from core.model import Alert, AlertState, AlertStatus, AlertType, Channel, DeliveryState
from core.ports import AlertCount, UnitOfWorkFactory

LIVE_STATES = (AlertState.SENDING, AlertState.SENT)
_RECENT_FOR_LIVE = 200


@dataclass(frozen=True)
class Stats:
    since: datetime
    days: int
    alert_counts: list[AlertCount]
    deliveries: dict[DeliveryState, int]
    subscribers: dict[Channel, int]
    live: list[Alert]  # originals still sending or live, newest first

    def alerts(self, kind: AlertType, *, practice: bool | None = None) -> int:
        """Alerts of ``kind`` that went out (sent, sending, cancelled, resolved or expired later), optionally only practice or real."""
        went_out = {AlertState.SENDING, AlertState.SENT, AlertState.CANCELLED, AlertState.RESOLVED, AlertState.EXPIRED}
        return sum(
            c.count
            for c in self.alert_counts
            if c.type is kind
            and c.state in went_out
            and (practice is None or (c.status is not AlertStatus.ACTUAL) == practice)
        )

    def in_state(self, state: AlertState) -> int:
        return sum(c.count for c in self.alert_counts if c.type is AlertType.ALERT and c.state is state)


class StatsService:
    def __init__(self, uow: UnitOfWorkFactory, *, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def summary(self, days: int = 30) -> Stats:
        since = self._clock() - timedelta(days=days)
        async with self._uow(read_only=True) as uow:
            counts = await uow.reports.alert_counts(since)
            deliveries = await uow.reports.alert_deliveries(since)
            subscribers = await uow.reports.subscribers()
            recent = await uow.alerts.recent(_RECENT_FOR_LIVE)
        live = [a for a in recent if a.type is AlertType.ALERT and a.state in LIVE_STATES]
        return Stats(since, days, counts, deliveries, subscribers, live)
