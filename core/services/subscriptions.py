"""What residents do to their subscription, whatever app they use.

The Telegram and WhatsApp conversations both end in these calls, so the rules
live here once: the minimum age, up to five places stored only as H3 cells,
topics and sectors from the force config, and erasure that leaves nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from core.clock import Clock
from core.delivery.priority import Priority
from core.errors import InvalidInput, NotAllowed, NotFound
from core.force import ALL_TOPICS, ForceConfig
from core.geo.cells import cell_centre, snap
from core.model import MAX_PLACES_PER_RESIDENT, TIPSTER, Address, AuditEntry, MessageKind, Place, QuietHours, Resident
from core.ports import UnitOfWork, UnitOfWorkFactory
from core.services.alerts import clean_text
from core.tip_rendering import redacted_tip_text

logger = logging.getLogger("lookout.subscriptions")

MAX_LABEL = 40
# "Until I resume": far enough ahead to mean never, and a real timestamp both databases store.
PAUSED_INDEFINITELY = datetime(9999, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class NewPlace:
    """A place as the resident gave it; it is snapped to a cell before anything is stored."""

    label: str
    lat: float
    lon: float


class SubscriptionService:
    def __init__(self, uow: UnitOfWorkFactory, force: ForceConfig, *, clock: Clock) -> None:
        self._uow = uow
        self._force = force
        self._clock = clock

    async def subscribe(
        self,
        address: Address,
        *,
        age_confirmed: bool,
        places: Sequence[NewPlace],
        topics: Sequence[str],
        sector: str | None = None,
        language: str = "en",
    ) -> Resident:
        """Create the subscription, or replace the choices of an existing one. Nothing is stored on any error."""
        if not age_confirmed:
            raise NotAllowed(
                f"Sorry, you need to be {self._force.settings.minimum_age} or over to get {self._force.name} alerts. "
                "Nothing about you has been kept."
            )
        snapped = self._snap_all(places)
        chosen_topics = frozenset(self._force.check_topics(list(topics) or [ALL_TOPICS]))
        chosen_sector = self._force.check_sectors([sector], "sector")[0] if sector else None
        async with self._uow() as uow:
            resident = await uow.residents.get_by_address(address)
            if resident is None:
                resident = Resident(address=address)
            resident.age_confirmed, resident.language, resident.active = True, language, True
            resident.places, resident.topics, resident.sector = snapped, chosen_topics, chosen_sector
            resident.last_inbound_at = self._clock()
            if resident.id is None:
                await uow.residents.add(resident)
            else:
                await uow.residents.save(resident)
            await uow.commit()
        return resident

    async def get(self, address: Address) -> Resident:
        async with self._uow(read_only=True) as uow:
            return await self._resident(uow, address)

    async def is_subscribed(self, address: Address) -> bool:
        """Cheaper than ``get`` when only the answer matters (every message a resident writes asks it)."""
        async with self._uow(read_only=True) as uow:
            return await uow.residents.is_subscribed(address)

    async def add_place(self, address: Address, place: NewPlace) -> Resident:
        (snapped,) = self._snap_all([place])
        async with self._uow() as uow:
            resident = await self._resident(uow, address)
            if len(resident.places) >= MAX_PLACES_PER_RESIDENT:
                raise InvalidInput.one(
                    "places", f"You can have up to {MAX_PLACES_PER_RESIDENT} places. Remove one first."
                )
            resident.places.append(snapped)
            await uow.residents.save(resident)
            await uow.commit()
        return resident

    async def remove_place(self, address: Address, index: int) -> Resident:
        async with self._uow() as uow:
            resident = await self._resident(uow, address)
            if not 0 <= index < len(resident.places):
                raise InvalidInput.one("places", "That place isn't in your list any more.")
            if len(resident.places) == 1:
                raise InvalidInput.one(
                    "places", "This is your only place. Add another first, or use /stop to unsubscribe."
                )
            del resident.places[index]
            await uow.residents.save(resident)
            await uow.commit()
        return resident

    async def set_topics(self, address: Address, topics: Sequence[str]) -> Resident:
        if not topics:
            raise InvalidInput.one("topics", "Pick at least one topic (All local crime covers everything).")
        chosen = frozenset(self._force.check_topics(list(topics)))
        async with self._uow() as uow:
            resident = await self._resident(uow, address)
            resident.topics = chosen
            await uow.residents.save(resident)
            await uow.commit()
        return resident

    async def rename_place(self, address: Address, index: int, label: str) -> Resident:
        new_label = clean_text(label, "label", MAX_LABEL)
        async with self._uow() as uow:
            resident = await self._resident(uow, address)
            if not 0 <= index < len(resident.places):
                raise InvalidInput.one("places", "That place isn't in your list any more.")
            resident.places[index] = replace(resident.places[index], label=new_label)
            await uow.residents.save(resident)
            await uow.commit()
        return resident

    async def set_sector(self, address: Address, sector: str | None) -> Resident:
        """A business sector, or ``None`` to get alerts as a resident."""
        chosen = self._force.check_sectors([sector], "sector")[0] if sector else None
        return await self._change(address, sector=chosen)

    async def pause(self, address: Address, until: datetime | None) -> Resident:
        """No alerts until ``until`` (``None``: until they resume)."""
        if until is not None and until <= self._clock():
            raise InvalidInput.one("until", "Pick a time in the future.")
        return await self._change(address, paused_until=until or PAUSED_INDEFINITELY)

    async def opt_out(self, address: Address) -> Resident:
        """No more alerts (the carriers' STOP on SMS); /start or START makes them active again."""
        return await self._change(address, active=False)

    async def resume(self, address: Address) -> Resident:
        return await self._change(address, paused_until=None, active=True)

    async def set_quiet_hours(self, address: Address, quiet: QuietHours | None) -> Resident:
        if quiet is not None and quiet.start == quiet.end:
            raise InvalidInput.one("quiet_hours", "Quiet hours need a different start and end.")
        return await self._change(address, quiet_hours=quiet)

    async def set_language(self, address: Address, language: str) -> Resident:
        return await self._change(address, language=clean_text(language, "language", 8))

    async def _change(self, address: Address, **changes: Any) -> Resident:
        async with self._uow() as uow:
            resident = await self._resident(uow, address)
            for name, value in changes.items():
                setattr(resident, name, value)
            await uow.residents.save_flags(resident)
            await uow.commit()
        return resident

    async def export(self, address: Address) -> dict[str, Any]:
        """Everything Lookout holds about this resident, as a JSON-ready dict (their "my data" request)."""
        async with self._uow(read_only=True) as uow:
            resident = await self._resident(uow, address)
            tips = await uow.residents.tips_of(resident.id)  # type: ignore[arg-type]
            notes = {t.id: await uow.tips.notes(t.id) for t in tips}  # type: ignore[arg-type]
            received = await uow.residents.messages_received(resident.id)  # type: ignore[arg-type]
            answers = await uow.feedback.answers_of(resident.id)  # type: ignore[arg-type]
        return {
            "service": self._force.name,
            "exported_at": self._clock().isoformat(timespec="seconds"),
            "address": str(resident.address),
            "language": resident.language,
            "age_confirmed": resident.age_confirmed,
            "business_sector": resident.sector,
            "topics": sorted(resident.topics),
            "places": [_place_json(p) for p in resident.places],
            "paused_until": "until resumed"
            if resident.paused_until == PAUSED_INDEFINITELY
            else _iso(resident.paused_until),
            "quiet_hours": (
                {
                    "start": resident.quiet_hours.start.strftime("%H:%M"),
                    "end": resident.quiet_hours.end.strftime("%H:%M"),
                }
                if resident.quiet_hours
                else None
            ),
            "receiving_alerts": resident.active,
            "subscribed_at": _iso(resident.created_at),
            "alerts_received": received,
            # Their answers to "was this alert useful?" (unlinked from them after the delivery retention).
            "alert_feedback": [
                {"alert": reference, "useful": useful, "answered_at": _iso(at)} for reference, useful, at in answers
            ],
            # Whether officers keep this person's tips out of their queue (marked as spam, tipster blocked).
            "tips_blocked": resident.tips_blocked,
            "tips": [
                {
                    "reference": t.reference,
                    "text": t.text,
                    "sent_at": _iso(t.created_at),
                    "anonymous": t.anonymous,
                    "contact_given_to_officers": t.contact,
                    "shown_to_officers_as": t.tipster,
                    "state": t.state.value,
                    "photos": len(t.media),
                    "location": {"lat": t.lat, "lon": t.lon} if t.lat is not None else None,
                    # Officers' replies and the person's answers; officers are named by role, as their replies were.
                    "conversation": [
                        {"from": "you" if n.author == TIPSTER else "officer", "text": n.text, "at": _iso(n.created_at)}
                        for n in notes[t.id]
                    ],
                }
                for t in tips
            ],
        }

    async def erase(self, address: Address) -> bool:
        """Delete everything about this resident. The audit log records that it happened, not who or what."""
        async with self._uow() as uow:
            resident = await uow.residents.get_by_address(address)
            if resident is None:
                return False
            await self._redact_tip_posts(uow, resident.id)  # type: ignore[arg-type]
            await uow.residents.erase(resident.id)  # type: ignore[arg-type]
            await uow.audit.append(
                AuditEntry(actor="resident", action="erase", subject=f"{address.channel.value} resident")
            )
            await uow.commit()
        logger.info("a %s resident erased their data", address.channel.value)
        return True

    async def _redact_tip_posts(self, uow: UnitOfWork, resident_id: int) -> None:
        """Queue an edit of each post that shows the person's name or handle (tips they let officers contact them
        about): the worker rewrites it without them. The text is kept only until that edit is made.

        A post still on its way (queued, or being sent this moment) is detached from the tip and goes as the tip
        without them; if the worker had already drawn it with their name, it rewrites it as it lands
        (``DeliveryWorker.flush``). Either way what they saw reaches the officers, and who they are does not stay."""
        now = self._clock()
        for post in await uow.tips.posts_of(resident_id):
            tip = post.tip
            alert = await uow.alerts.get(tip.alert_id) if tip.alert_id is not None else None
            if post.address is None:
                await uow.outbox.detach_tip_post(post.message_id, redacted_tip_text(tip, alert, photos_posted=False))
                continue
            if tip.anonymous and not tip.contact:
                continue  # shows a pseudonym only
            message_id = await uow.outbox.new_message(MessageKind.TIP_REDACTION, body=redacted_tip_text(tip, alert))
            await uow.outbox.queue_to(message_id, post.address, None, now, priority=Priority.EXPECTED)

    def _snap_all(self, places: Sequence[NewPlace]) -> list[Place]:
        if not places:
            raise InvalidInput.one("places", "Share a location or type a postcode so we know where to send alerts for.")
        if len(places) > MAX_PLACES_PER_RESIDENT:
            raise InvalidInput.one("places", f"You can have up to {MAX_PLACES_PER_RESIDENT} places.")
        return [
            Place(clean_text(p.label, "label", MAX_LABEL), snap(p.lat, p.lon, self._force.resolution)) for p in places
        ]

    @staticmethod
    async def _resident(uow, address: Address) -> Resident:  # noqa: ANN001 - a UnitOfWork
        resident = await uow.residents.get_by_address(address)
        if resident is None:
            raise NotFound("You're not subscribed yet. Send /start to begin.")
        return resident


def _place_json(place: Place) -> dict[str, Any]:
    lat, lon = cell_centre(place.cell)
    # The cell is all that is stored; its centre is shown so a person can see roughly where it is.
    return {"label": place.label, "h3_cell": place.cell, "area_centre": {"lat": round(lat, 5), "lon": round(lon, 5)}}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None
