"""Residents, their places (as H3 cells) and topic subscriptions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time
from typing import Any

from sqlalchemy import Select, bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from core.clock import Clock
from core.geo.cells import cell_to_int, int_to_cell
from core.model import Address, DeliveryState, Place, QuietHours, Resident, Tip
from storage.tables import alert_feedback, deliveries, places, residents, subscriptions, tips
from storage.tips import tip_from_row

# A resident with their places and topics, in one statement, not three: every resident message reads this. A row per
# (place, topic), at most a few dozen (five places, the force's topics). Built once, with a bound parameter, so a
# message costs no statement building and no cache key (SQLAlchemy memoises both on the statement object).
_WITH_PLACES_AND_TOPICS = (
    select(
        residents,
        places.c.id.label("place_id"),
        places.c.label.label("place_label"),
        places.c.cell.label("place_cell"),
        subscriptions.c.topic.label("topic"),
    )
    .select_from(
        residents.outerjoin(places, places.c.resident_id == residents.c.id).outerjoin(
            subscriptions, subscriptions.c.resident_id == residents.c.id
        )
    )
    .order_by(places.c.id)
)
_BY_ID = _WITH_PLACES_AND_TOPICS.where(residents.c.id == bindparam("key_id"))
# Public: a webhook's claim reads the sender with it in one statement (storage/conversations.py).
BY_ADDRESS = _WITH_PLACES_AND_TOPICS.where(residents.c.address == bindparam("key_address"))


def _quiet(row: Row) -> QuietHours | None:
    if row.quiet_start is None or row.quiet_end is None:
        return None
    return QuietHours(time.fromisoformat(row.quiet_start), time.fromisoformat(row.quiet_end))


class SqlResidentRepository:
    def __init__(self, conn: AsyncConnection, clock: Clock) -> None:
        self._conn = conn
        self._clock = clock
        self.erased = False

    def _columns(self, resident: Resident) -> dict:
        quiet = resident.quiet_hours
        return {
            "channel": resident.address.channel.value,
            "address": str(resident.address),
            "language": resident.language,
            "age_confirmed": resident.age_confirmed,
            "sector": resident.sector,
            "is_tester": resident.is_tester,
            "tips_blocked": resident.tips_blocked,
            "paused_until": resident.paused_until,
            "quiet_start": quiet.start.strftime("%H:%M") if quiet else None,
            "quiet_end": quiet.end.strftime("%H:%M") if quiet else None,
            "active": resident.active,
            "erased_at": resident.erased_at,
            "last_inbound_at": resident.last_inbound_at,
        }

    async def add(self, resident: Resident) -> Resident:
        resident.created_at = resident.created_at or self._clock()
        result = await self._conn.execute(
            insert(residents)
            .values(**self._columns(resident), created_at=resident.created_at)
            .returning(residents.c.id)
        )
        resident.id = result.scalar_one()
        await self._write_children(resident)
        return resident

    async def save(self, resident: Resident) -> None:
        assert resident.id is not None, "save() is for residents already added"
        await self._conn.execute(
            update(residents).where(residents.c.id == resident.id).values(**self._columns(resident))
        )
        await self._conn.execute(delete(places).where(places.c.resident_id == resident.id))
        await self._conn.execute(delete(subscriptions).where(subscriptions.c.resident_id == resident.id))
        await self._write_children(resident)

    async def _write_children(self, resident: Resident) -> None:
        now = self._clock()
        if resident.places:
            await self._conn.execute(
                insert(places),
                [
                    {"resident_id": resident.id, "label": p.label, "cell": cell_to_int(p.cell), "created_at": now}
                    for p in resident.places
                ],
            )
        if resident.topics:
            await self._conn.execute(
                insert(subscriptions), [{"resident_id": resident.id, "topic": t} for t in sorted(resident.topics)]
            )

    async def save_activity(self, resident_id: int, at: datetime) -> None:
        """The resident just wrote to us (WhatsApp's 24-hour window counts from here)."""
        await self._conn.execute(update(residents).where(residents.c.id == resident_id).values(last_inbound_at=at))

    async def save_flags(self, resident: Resident) -> None:
        """Write the resident's own columns only (not places or topics)."""
        await self._conn.execute(
            update(residents).where(residents.c.id == resident.id).values(**self._columns(resident))
        )

    async def tips_of(self, resident_id: int) -> list[Tip]:
        rows = await self._conn.execute(select(tips).where(tips.c.resident_id == resident_id).order_by(tips.c.id))
        return [tip_from_row(r) for r in rows]

    async def messages_received(self, resident_id: int) -> int:
        query = (
            select(func.count())
            .select_from(deliveries)
            .where(deliveries.c.resident_id == resident_id, deliveries.c.state == DeliveryState.SENT.value)
        )
        return (await self._conn.execute(query)).scalar_one()

    async def erase(self, resident_id: int) -> None:
        self.erased = True  # the unit of work checkpoints SQLite's WAL after committing this
        # Delivery rows carry the chat address and have no foreign key (see tables.py): delete them here.
        await self._conn.execute(delete(deliveries).where(deliveries.c.resident_id == resident_id))
        await self._conn.execute(delete(tips).where(tips.c.resident_id == resident_id))
        # Their answers to alerts stay counted, but as nobody's (the foreign key would do it too; said here).
        await self._conn.execute(
            update(alert_feedback).where(alert_feedback.c.resident_id == resident_id).values(resident_id=None)
        )
        await self._conn.execute(delete(residents).where(residents.c.id == resident_id))  # places, topics cascade

    async def get(self, resident_id: int) -> Resident | None:
        return await self._load(_BY_ID, {"key_id": resident_id})

    async def get_by_address(self, address: Address) -> Resident | None:
        return await self._load(BY_ADDRESS, {"key_address": str(address)})

    async def is_subscribed(self, address: Address) -> bool:
        query = select(residents.c.id).where(residents.c.address == str(address)).limit(1)
        return (await self._conn.execute(query)).first() is not None

    async def _load(self, query: Select[Any], key: dict[str, Any]) -> Resident | None:
        return resident_from_rows((await self._conn.execute(query, key)).all())


def resident_from_rows(found: Sequence[Row]) -> Resident | None:
    """The resident in ``BY_ADDRESS``'s (or ``_BY_ID``'s) rows: one per place and topic; none, no resident."""
    if not found:
        return None
    row = found[0]
    place_rows = {r.place_id: r for r in found if r.place_id is not None}  # in id order, each once
    return Resident(
        id=row.id,
        address=Address.parse(row.address),
        language=row.language,
        age_confirmed=row.age_confirmed,
        sector=row.sector,
        topics=frozenset(r.topic for r in found if r.topic is not None),
        places=[Place(label=p.place_label, cell=int_to_cell(p.place_cell), id=p.place_id) for p in place_rows.values()],
        paused_until=row.paused_until,
        quiet_hours=_quiet(row),
        active=row.active,
        is_tester=row.is_tester,
        tips_blocked=row.tips_blocked,
        erased_at=row.erased_at,
        last_inbound_at=row.last_inbound_at,
        created_at=row.created_at,
    )
