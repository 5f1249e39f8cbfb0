"""WhatsApp's messaging limit as a table: who was counted, and when (see core/delivery/allowance.py).

Taking places is serialised per channel: on PostgreSQL by a transaction-scoped
advisory lock (several workers), on SQLite by its one writer at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from core.channels import WHATSAPP_SERVICE_WINDOW, WINDOW_MARGIN
from core.model import Channel
from core.ports import AllowanceGrant, RecipientCriteria
from storage.database import upsert_insert
from storage.matching import recipients, recipients_statement
from storage.tables import messaging_allowance, residents

_BATCH = 500  # addresses per IN (...) list


class SqlMessagingAllowance:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def take(
        self, channel: Channel, addresses: Sequence[str], limit: int, now: datetime, window: timedelta
    ) -> AllowanceGrant:
        wanted = list(dict.fromkeys(addresses))
        if not wanted:
            return AllowanceGrant(frozenset())
        if self._conn.dialect.name == "postgresql":
            # One worker at a time counts and takes places, until this transaction ends (the claim's own).
            await self._conn.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':messaging_allowance:' || :channel))"),
                {"channel": channel.value},
            )
        a = messaging_allowance.c
        since = now - window
        counted: set[str] = set()
        for start in range(0, len(wanted), _BATCH):
            rows = await self._conn.execute(
                select(a.address).where(
                    a.channel == channel.value, a.address.in_(wanted[start : start + _BATCH]), a.counted_at > since
                )
            )
            counted.update(rows.scalars())
        used = await self.used(channel, now, window)
        new = [address for address in wanted if address not in counted]
        room = max(0, limit - used)
        taken, refused = new[:room], new[room:]
        if taken:
            statement = upsert_insert(self._conn, messaging_allowance)
            await self._conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[a.channel, a.address], set_={"counted_at": statement.excluded.counted_at}
                ),
                [{"channel": channel.value, "address": address, "counted_at": now} for address in taken],
            )
        return AllowanceGrant(
            frozenset(counted) | frozenset(taken),
            await self._retry_times(channel, len(refused), used + len(taken) - limit, since, window, now),
        )

    async def _retry_times(
        self, channel: Channel, refused: int, over: int, since: datetime, window: timedelta, now: datetime
    ) -> tuple[datetime, ...]:
        """When a place frees for each refused address: the oldest counts roll out of the window one by one
        (``over`` of them first, when more are counted than the limit allows)."""
        if not refused:
            return ()
        a = messaging_allowance.c
        rows = await self._conn.execute(
            select(a.counted_at)
            .where(a.channel == channel.value, a.counted_at > since)
            .order_by(a.counted_at)
            .offset(max(0, over))
            .limit(refused)
        )
        frees = [counted_at + window for counted_at in rows.scalars()]
        return tuple(frees + [now + window] * (refused - len(frees)))

    async def used(self, channel: Channel, now: datetime, window: timedelta) -> int:
        a = messaging_allowance.c
        count = await self._conn.scalar(
            select(func.count())
            .select_from(messaging_allowance)
            .where(a.channel == channel.value, a.counted_at > now - window)
        )
        return count or 0

    async def needing_places(
        self, criteria: RecipientCriteria, channel: Channel, now: datetime, window: timedelta
    ) -> int:
        shape, values = recipients(criteria, self._conn.dialect.name)
        matched = recipients_statement(shape).subquery("matched")
        a, r = messaging_allowance.c, residents.c
        # The worker's test (core.channels.in_service_window): the window counts as closed a little early.
        window_open = r.last_inbound_at > now - (WHATSAPP_SERVICE_WINDOW - WINDOW_MARGIN)
        already = select(a.address).where(
            a.channel == channel.value, a.address == matched.c.address, a.counted_at > now - window
        )
        count = await self._conn.scalar(
            select(func.count())
            .select_from(matched.join(residents, residents.c.id == matched.c.id))
            .where(
                matched.c.channel == channel.value,
                or_(r.last_inbound_at.is_(None), ~window_open),
                ~already.exists(),
            ),
            values,
        )
        return count or 0
