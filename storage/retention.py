"""Retention: deleting what is past its keeping period (the scheduler's purge job)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from core.model import DeliveryState, MessageKind
from storage.tables import (
    alert_feedback,
    conversations,
    deliveries,
    inbound_updates,
    messages,
    refused_attempts,
    residents,
    tips,
)

LANGUAGE_KEY = "lang"  # the one thing a subscriber's idle conversation keeps (core/conversation/turn.py)
_FINISHED_STATES = (DeliveryState.SENT.value, DeliveryState.DEAD.value, DeliveryState.SKIPPED.value)


class SqlRetention:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    # Each purge deletes at most ``limit`` rows, picked by key in a subquery (the one form of a limited DELETE that
    # SQLite and PostgreSQL share): the caller commits between batches, so a big purge never holds the write
    # lock (SQLite) or a long transaction (PostgreSQL) for long.

    async def purge_deliveries(self, finished_before: datetime, *, limit: int) -> int:
        due = (
            select(deliveries.c.id)
            .where(deliveries.c.state.in_(_FINISHED_STATES), deliveries.c.updated_at < finished_before)
            .limit(limit)
        )
        result = await self._conn.execute(delete(deliveries).where(deliveries.c.id.in_(due.scalar_subquery())))
        return result.rowcount

    async def purge_tips(self, created_before: datetime, *, limit: int) -> int:
        due = select(tips.c.id).where(tips.c.created_at < created_before).limit(limit)
        result = await self._conn.execute(delete(tips).where(tips.c.id.in_(due.scalar_subquery())))
        return result.rowcount

    async def purge_inbound(self, received_before: datetime, *, limit: int) -> int:
        key = tuple_(inbound_updates.c.source, inbound_updates.c.update_id)
        due = (
            select(inbound_updates.c.source, inbound_updates.c.update_id)
            .where(inbound_updates.c.received_at < received_before)
            .limit(limit)
        )
        result = await self._conn.execute(delete(inbound_updates).where(key.in_(due)))
        return result.rowcount

    async def unlink_feedback(self, answered_before: datetime, *, limit: int) -> int:
        f = alert_feedback.c
        due = select(f.id).where(f.resident_id.is_not(None), f.answered_at < answered_before).limit(limit)
        result = await self._conn.execute(
            update(alert_feedback).where(f.id.in_(due.scalar_subquery())).values(resident_id=None)
        )
        return result.rowcount

    async def forget_redaction_texts(self, refusals_before: datetime) -> int:
        """Drop the copy of an erased tipster's tip kept to edit its Slack post (or to send a post that was on its
        way), once no delivery of it is open; and refusal counts older than the cut-off."""
        open_delivery = exists(
            select(deliveries.c.id).where(
                deliveries.c.message_id == messages.c.id,
                deliveries.c.state.in_(
                    (DeliveryState.PENDING.value, DeliveryState.SENDING.value, DeliveryState.FAILED.value)
                ),
            )
        )
        result = await self._conn.execute(
            update(messages)
            .where(
                messages.c.kind.in_((MessageKind.TIP_REDACTION.value, MessageKind.TIP_TO_OFFICERS.value)),
                messages.c.body.is_not(None),
                ~open_delivery,
            )
            .values(body=None)
        )
        await self._conn.execute(delete(refused_attempts).where(refused_attempts.c.hour < refusals_before))
        return result.rowcount

    async def purge_conversations(self, idle_before: datetime) -> int:
        """Conversations left alone since ``idle_before``: a subscriber keeps only their language, anyone else nothing."""
        c = conversations
        stale = (
            await self._conn.execute(
                select(c.c.channel, c.c.address, c.c.step, c.c.data).where(c.c.updated_at < idle_before)
            )
        ).all()
        if not stale:
            return 0
        owners = {
            (row.channel, row.address): f"{row.channel}:{row.address}" for row in stale
        }  # as residents.address spells it
        subscribed = set(
            (
                await self._conn.execute(
                    select(residents.c.address).where(residents.c.address.in_(set(owners.values())))
                )
            ).scalars()
        )
        purged = 0
        for row in stale:
            mine = (c.c.channel == row.channel) & (c.c.address == row.address)
            language = (row.data or {}).get(LANGUAGE_KEY)
            if owners[(row.channel, row.address)] in subscribed and language:
                if row.step is not None or row.data != {LANGUAGE_KEY: language}:
                    await self._conn.execute(update(c).where(mine).values(step=None, data={LANGUAGE_KEY: language}))
                    purged += 1
            else:
                await self._conn.execute(delete(c).where(mine))
                purged += 1
        return purged
