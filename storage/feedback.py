"""Residents' "Useful / Not useful" answers to alerts: one per resident per alert, counted for the report."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.model import Channel, DeliveryState
from core.ports import FeedbackCounts
from storage.database import upsert_insert
from storage.tables import alert_feedback, alerts, deliveries

# A row being sent is as good as sent: the resident can tap the button before the worker records the outcome.
_REACHED = (DeliveryState.SENT.value, DeliveryState.SENDING.value)


class SqlAlertFeedback:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def was_sent(self, alert_id: int, resident_id: int) -> bool:
        query = (
            select(deliveries.c.id)
            .select_from(deliveries.join(alerts, alerts.c.message_id == deliveries.c.message_id))
            .where(alerts.c.id == alert_id, deliveries.c.resident_id == resident_id, deliveries.c.state.in_(_REACHED))
            .limit(1)
        )
        return (await self._conn.execute(query)).first() is not None

    async def record(self, alert_id: int, resident_id: int, channel: Channel, useful: bool, now: datetime) -> None:
        insert = upsert_insert(self._conn, alert_feedback).values(
            alert_id=alert_id, resident_id=resident_id, channel=channel.value, useful=useful, answered_at=now
        )
        await self._conn.execute(
            insert.on_conflict_do_update(
                index_elements=[alert_feedback.c.alert_id, alert_feedback.c.resident_id],
                set_={"useful": insert.excluded.useful, "answered_at": insert.excluded.answered_at},
            )
        )

    async def counts(self, alert_id: int) -> dict[Channel, FeedbackCounts]:
        f = alert_feedback.c
        rows = await self._conn.execute(
            select(f.channel, func.count().filter(f.useful.is_(True)), func.count().filter(f.useful.is_(False)))
            .where(f.alert_id == alert_id)
            .group_by(f.channel)
            .order_by(f.channel)
        )
        return {Channel(channel): FeedbackCounts(useful, not_useful) for channel, useful, not_useful in rows}

    async def answers_of(self, resident_id: int) -> list[tuple[str, bool, datetime]]:
        f = alert_feedback.c
        rows = await self._conn.execute(
            select(alerts.c.reference, f.useful, f.answered_at)
            .select_from(alert_feedback.join(alerts, alerts.c.id == f.alert_id))
            .where(f.resident_id == resident_id)
            .order_by(f.answered_at, f.id)
        )
        return [(reference, useful, at) for reference, useful, at in rows]
