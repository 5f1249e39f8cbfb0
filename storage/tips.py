"""Tips, their photos and notes, and the threads they are posted in."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, delete, func, insert, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from core.model import TIPSTER, Address, DeliveryState, MessageKind, Tip, TipNote, TipPhoto, TipState
from core.ports import RepliedMessage, TipPost
from storage.database import upsert_insert
from storage.references import next_reference
from storage.tables import alerts, deliveries, messages, tip_media, tip_notes, tip_threads, tips

_ALERT_KINDS = (MessageKind.ALERT, MessageKind.ALERT_UPDATE, MessageKind.ALERT_CANCEL)
_ON_THE_WAY = (DeliveryState.PENDING.value, DeliveryState.FAILED.value, DeliveryState.SENDING.value)

# The newest alert or officer's reply sent to an address since a moment: asked of every free-text message a
# resident writes, so the statement is built (and its cache key found) once, not per message.
_LATEST_SENT = (
    select(messages.c.kind, messages.c.alert_id, messages.c.tip_id, alerts.c.headline)
    .select_from(
        deliveries.join(messages, messages.c.id == deliveries.c.message_id).outerjoin(
            alerts, alerts.c.id == messages.c.alert_id
        )
    )
    .where(
        deliveries.c.address == bindparam("address"),
        deliveries.c.state == DeliveryState.SENT.value,
        deliveries.c.updated_at >= bindparam("since"),
        messages.c.kind.in_([k.value for k in (*_ALERT_KINDS, MessageKind.REPLY_TO_TIPSTER)]),
    )
    .order_by(deliveries.c.updated_at.desc(), deliveries.c.id.desc())
    .limit(1)
)


def tip_from_row(row: Row) -> Tip:
    return Tip(
        id=row.id,
        reference=row.reference,
        resident_id=row.resident_id,
        alert_id=row.alert_id,
        text=row.text,
        media=tuple(row.media),
        lat=row.lat,
        lon=row.lon,
        anonymous=row.anonymous,
        contact=row.contact,
        tipster=row.tipster,
        state=TipState(row.state),
        thread_key=row.thread_key,
        created_at=row.created_at,
    )


def post_address(queue_address: str, post_id: str) -> Address:
    """Where a post made to ``queue_address`` (``slack:<channel>``) is, to edit it: ``slack:<channel>/<ts>``."""
    queue = Address.parse(queue_address)
    return Address(queue.channel, f"{queue.id.split('/')[0]}/{post_id}")


def _note(row: Row) -> TipNote:
    return TipNote(id=row.id, tip_id=row.tip_id, author=row.author, text=row.text, created_at=row.created_at)


class SqlTipRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, tip: Tip, photos: Sequence[TipPhoto], now: datetime) -> Tip:
        tip.created_at = tip.created_at or now
        tip.reference = await next_reference(self._conn, "T", tip.created_at.year)
        result = await self._conn.execute(
            insert(tips)
            .values(
                reference=tip.reference,
                alert_id=tip.alert_id,
                resident_id=tip.resident_id,
                text=tip.text,
                media=[p.name for p in photos],
                lat=tip.lat,
                lon=tip.lon,
                anonymous=tip.anonymous,
                contact=tip.contact,
                tipster=tip.tipster,
                state=tip.state.value,
                thread_key=tip.thread_key,
                created_at=tip.created_at,
            )
            .returning(tips.c.id)
        )
        tip.id = result.scalar_one()
        tip.media = tuple(p.name for p in photos)
        if photos:
            await self._conn.execute(
                insert(tip_media),
                [
                    {
                        "tip_id": tip.id,
                        "name": p.name,
                        "content_type": p.content_type,
                        "data": p.data,
                        "created_at": now,
                    }
                    for p in photos
                ],
            )
        return tip

    async def get(self, tip_id: int) -> Tip | None:
        row = (await self._conn.execute(select(tips).where(tips.c.id == tip_id))).first()
        return tip_from_row(row) if row else None

    async def get_by_reference(self, reference: str) -> Tip | None:
        row = (await self._conn.execute(select(tips).where(tips.c.reference == reference))).first()
        return tip_from_row(row) if row else None

    async def set_state(self, tip_id: int, state: TipState, *, expected: TipState | None = None) -> bool:
        query = update(tips).where(tips.c.id == tip_id)
        if expected is not None:
            query = query.where(tips.c.state == expected.value)
        return (await self._conn.execute(query.values(state=state.value))).rowcount == 1

    async def mark_seen_told(self, tip_id: int, now: datetime) -> bool:
        query = update(tips).where(tips.c.id == tip_id, tips.c.seen_told_at.is_(None)).values(seen_told_at=now)
        return (await self._conn.execute(query)).rowcount == 1

    async def count_since(self, resident_id: int, since: datetime) -> int:
        sent_tips = (
            select(func.count()).select_from(tips).where(tips.c.resident_id == resident_id, tips.c.created_at >= since)
        )
        answers = (
            select(func.count())
            .select_from(tip_notes.join(tips, tips.c.id == tip_notes.c.tip_id))
            .where(tips.c.resident_id == resident_id, tip_notes.c.author == TIPSTER, tip_notes.c.created_at >= since)
        )
        return (await self._conn.execute(select(sent_tips.scalar_subquery() + answers.scalar_subquery()))).scalar_one()

    async def posts_of(self, resident_id: int) -> list[TipPost]:
        d = deliveries
        query = (
            select(
                tips,
                messages.c.id.label("message_id"),
                d.c.address.label("post_address"),
                d.c.provider_message_id.label("post_id"),
            )
            .select_from(tips.join(messages, messages.c.tip_id == tips.c.id).join(d, d.c.message_id == messages.c.id))
            .where(
                tips.c.resident_id == resident_id,
                messages.c.kind == MessageKind.TIP_TO_OFFICERS.value,
                or_(d.c.provider_message_id.is_not(None), d.c.state.in_(_ON_THE_WAY)),
            )
            .order_by(tips.c.id)
            .with_for_update(of=d)  # PostgreSQL; SQLite's one writer at a time needs no lock
        )
        return [
            TipPost(
                tip_from_row(row), row.message_id, post_address(row.post_address, row.post_id) if row.post_id else None
            )
            for row in await self._conn.execute(query)
        ]

    async def officer_replied(self, tip_id: int) -> bool:
        query = select(tip_notes.c.id).where(tip_notes.c.tip_id == tip_id, tip_notes.c.author != TIPSTER).limit(1)
        return (await self._conn.execute(query)).first() is not None

    async def photos(self, tip_id: int) -> list[TipPhoto]:
        rows = await self._conn.execute(select(tip_media).where(tip_media.c.tip_id == tip_id).order_by(tip_media.c.id))
        return [TipPhoto(name=r.name, content_type=r.content_type, data=r.data) for r in rows]

    async def add_note(self, note: TipNote) -> TipNote:
        result = await self._conn.execute(
            insert(tip_notes)
            .values(tip_id=note.tip_id, author=note.author, text=note.text, created_at=note.created_at)
            .returning(tip_notes.c.id)
        )
        return TipNote(
            id=result.scalar_one(), tip_id=note.tip_id, author=note.author, text=note.text, created_at=note.created_at
        )

    async def note(self, note_id: int) -> TipNote | None:
        row = (await self._conn.execute(select(tip_notes).where(tip_notes.c.id == note_id))).first()
        return _note(row) if row else None

    async def notes(self, tip_id: int) -> list[TipNote]:
        rows = await self._conn.execute(select(tip_notes).where(tip_notes.c.tip_id == tip_id).order_by(tip_notes.c.id))
        return [_note(r) for r in rows]

    async def thread_root(self, key: str) -> int | None:
        return (
            await self._conn.execute(select(tip_threads.c.message_id).where(tip_threads.c.key == key))
        ).scalar_one_or_none()

    async def start_thread(self, key: str, alert_id: int | None, message_id: int, now: datetime) -> int:
        # Two first tips at once: the loser's upsert does nothing; it drops its root and uses the winner's.
        stmt = upsert_insert(self._conn, tip_threads).values(
            key=key, alert_id=alert_id, message_id=message_id, created_at=now
        )
        won = (
            await self._conn.execute(
                stmt.on_conflict_do_nothing(index_elements=[tip_threads.c.key]).returning(tip_threads.c.key)
            )
        ).first()
        if won is not None:
            return message_id
        await self._conn.execute(delete(messages).where(messages.c.id == message_id))
        root = await self.thread_root(key)
        assert root is not None, f"tips thread {key} vanished while starting"
        return root

    async def replied_to(self, address: Address, provider_message_id: str) -> RepliedMessage | None:
        row = (
            await self._conn.execute(
                select(messages.c.kind, messages.c.alert_id, messages.c.tip_id)
                .select_from(deliveries.join(messages, messages.c.id == deliveries.c.message_id))
                .where(
                    deliveries.c.address == str(address),
                    or_(
                        deliveries.c.provider_message_id == provider_message_id,
                        # an appeal sent as photo then text is known as "<text id>/<photo id>" (Telegram)
                        deliveries.c.provider_message_id.startswith(f"{provider_message_id}/", autoescape=True),
                    ),
                )
                .limit(1)
            )
        ).first()
        return RepliedMessage(MessageKind(row.kind), row.alert_id, row.tip_id) if row else None

    async def latest_sent(self, address: Address, since: datetime) -> RepliedMessage | None:
        row = (await self._conn.execute(_LATEST_SENT, {"address": str(address), "since": since})).first()
        return RepliedMessage(MessageKind(row.kind), row.alert_id, row.tip_id, row.headline) if row else None
