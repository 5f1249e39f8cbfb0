"""Housekeeping the scheduler runs: leases, quiet-hour holds, retention.

Each job only writes rows; the delivery worker does any sending.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from core.clock import Clock
from core.delivery.holds import quiet_hours_end
from core.ports import UnitOfWork, UnitOfWorkFactory

logger = logging.getLogger("lookout.maintenance")
# Rows one retention transaction deletes: a few tens of milliseconds of writing, so webhooks and the worker
# wait no longer than that for the write lock while a month of rows goes.
PURGE_BATCH = 5_000


@dataclass(frozen=True)
class RetentionPeriods:
    delivery_days: int = 90
    tip_days: int = 365
    conversation_hours: int = 6  # a sign-up or tip left half-way: what was typed goes after this long
    photo_days: int = 30  # an appeal's photo, once its alert is over


class MaintenanceService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        *,
        timezone: str,
        retention: RetentionPeriods,
        clock: Clock,
        purge_batch: int = PURGE_BATCH,
    ) -> None:
        self._uow = uow
        self._batch = purge_batch
        self._zone = ZoneInfo(timezone)
        self._retention = retention
        self._clock = clock

    async def sweep_stale_leases(self) -> int:
        """Rows a dead worker left in ``sending`` go back to ``pending``."""
        async with self._uow() as uow:
            count = await uow.deliveries.release_expired_leases(self._clock())
            await uow.commit()
        if count:
            logger.warning("returned %d deliveries left by a stopped worker to the queue", count)
        return count

    async def release_quiet_holds(self) -> int:
        """Release held deliveries of residents no longer in quiet hours (they changed or cleared them)."""
        now = self._clock()
        async with self._uow() as uow:
            held = await uow.deliveries.quiet_holds()
            free = [rid for rid, quiet in held if quiet is None or quiet_hours_end(quiet, now, self._zone) is None]
            count = await uow.deliveries.release_holds(free, now)
            await uow.commit()
        return count

    async def purge_expired_data(self) -> tuple[int, int]:
        """Delete finished delivery rows, tips and appeals' photos older than the retention periods, in batches of
        ``purge_batch`` rows, each its own transaction: the first purge after a long pause (or of a big month)
        never holds the database's write lock for long, and a purge cut short keeps what it already did."""
        now = self._clock()
        deliveries = await self._in_batches(
            lambda uow: uow.retention.purge_deliveries(
                now - timedelta(days=self._retention.delivery_days), limit=self._batch
            )
        )
        tips = await self._in_batches(
            lambda uow: uow.retention.purge_tips(now - timedelta(days=self._retention.tip_days), limit=self._batch)
        )
        # Answers to alerts are kept as long as the deliveries they answer, then kept only as counts (nobody's).
        await self._in_batches(
            lambda uow: uow.retention.unlink_feedback(
                now - timedelta(days=self._retention.delivery_days), limit=self._batch
            )
        )
        photos = await self._in_batches(
            lambda uow: uow.photos.purge(now - timedelta(days=self._retention.photo_days), now, limit=self._batch)
        )
        if photos:
            logger.info("retention: deleted the pictures of %d appeals", photos)
        # Platforms retry an update for at most a day; two days of ids is plenty to spot repeats.
        await self._in_batches(lambda uow: uow.retention.purge_inbound(now - timedelta(days=2), limit=self._batch))
        async with self._uow() as uow:
            await uow.retention.forget_redaction_texts(now - timedelta(days=self._retention.delivery_days))
            conversations = await uow.retention.purge_conversations(
                now - timedelta(hours=self._retention.conversation_hours)
            )
            await uow.commit()
        if conversations:
            logger.info("retention: purged %d abandoned conversations", conversations)
        if deliveries or tips:
            logger.info("retention: deleted %d delivery rows and %d tips", deliveries, tips)
        return deliveries, tips

    async def _in_batches(self, purge: Callable[[UnitOfWork], Awaitable[int]]) -> int:
        """Run ``purge`` (one batch) in a transaction of its own until a batch comes back short."""
        total = 0
        while True:
            async with self._uow() as uow:
                done = await purge(uow)
                await uow.commit()
            total += done
            if done < self._batch:
                return total
