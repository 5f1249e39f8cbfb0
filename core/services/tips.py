"""Tips: what residents saw, on its way to officers, and the conversation after.

A tip is stored and queued to the officers' tips queue (a Slack channel) in
one transaction: one thread per alert (``alert:<id>``), and one a day for tips
that answer no alert (``day:<yyyy-mm-dd>``). The thread's root message is
queued with the first tip; the worker holds each tip until its root is posted,
so tips always land in their thread. Officer replies go back to the resident
through their own app, and the resident's answers into the same thread. Every
officer action is audited.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from core.clock import Clock
from core.delivery.priority import Priority
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from core.force import ForceConfig
from core.geo.coords import check_lat_lon
from core.model import TIPSTER, Address, Alert, AlertState, AuditEntry, MessageKind, Tip, TipNote, TipPhoto, TipState
from core.ports import RepliedMessage, UnitOfWork, UnitOfWorkFactory
from core.pseudonyms import TipsterPseudonyms
from core.services.alerts import clean_text
from core.services.roles import Roles

logger = logging.getLogger("lookout.tips")

MAX_TIP_TEXT = 3000
MAX_REPLY_TEXT = 2000
MAX_PHOTOS = 5
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_CONTACT = 200
FLOOD_WINDOW = timedelta(minutes=1)
# Where an officer may move a tip from each state: forwards only, so a late or doubled press never undoes
# what a colleague did. Spam stays open from "actioned" so a tipster who turns abusive can still be blocked.
NEXT_STATES: dict[TipState, frozenset[TipState]] = {
    TipState.NEW: frozenset({TipState.ACKNOWLEDGED, TipState.ACTIONED, TipState.SPAM}),
    TipState.ACKNOWLEDGED: frozenset({TipState.ACTIONED, TipState.SPAM}),
    TipState.ACTIONED: frozenset({TipState.SPAM}),
    TipState.SPAM: frozenset(),
}
STATE_ACTIONS = frozenset(f"tip.{state.value}" for state in TipState)  # how state changes are named in the audit
_STATE_WORDS = {
    TipState.NEW: "new",
    TipState.ACKNOWLEDGED: "acknowledged",
    TipState.ACTIONED: "actioned",
    TipState.SPAM: "marked as spam",
}


class TooManyTips(Conflict):
    """Flood control: the resident sent more tips this minute than the force allows."""


@dataclass(frozen=True)
class NewTip:
    """A tip as the resident gave it; the service checks it."""

    text: str
    alert_id: int | None = None
    photos: Sequence[TipPhoto] = ()
    location: tuple[float, float] | None = None  # where they saw something: evidence, kept as sent
    may_contact: bool = False
    contact: str | None = None  # e.g. "@sam on Telegram"; kept only when may_contact


@dataclass(frozen=True)
class QueuedTip:
    """A tip as the officers' queue shows it: the tip, the alert it answers, and its state changes (oldest first)."""

    tip: Tip
    alert: Alert | None
    changes: list[AuditEntry]


def thread_key_for(alert_id: int | None, at: datetime, timezone: str) -> str:
    if alert_id is not None:
        return f"alert:{alert_id}"
    return f"day:{at.astimezone(ZoneInfo(timezone)).date().isoformat()}"


class TipService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        force: ForceConfig,
        *,
        roles: Roles,
        officer_queue: Address | None,
        pseudonyms: TipsterPseudonyms | None = None,
        clock: Clock,
    ) -> None:
        self._uow = uow
        self._force = force
        self._roles = roles
        self._queue = officer_queue
        self._pseudonyms = pseudonyms or TipsterPseudonyms()
        self._clock = clock

    # --- residents --------------------------------------------------------------------

    async def submit(self, address: Address, new: NewTip) -> Tip:
        """Store the tip and queue it to officers. Raises InvalidInput, NotFound, TooManyTips."""
        text = clean_text(new.text, "text", MAX_TIP_TEXT) if new.text.strip() else ""
        if not text and not new.photos and new.location is None:
            raise InvalidInput.one("text", "Please tell us what you saw.")
        lat_lon = check_lat_lon(*new.location) if new.location is not None else None
        if len(new.photos) > MAX_PHOTOS:
            raise InvalidInput.one("photos", f"Please send at most {MAX_PHOTOS} photos with one tip.")
        for photo in new.photos:
            if len(photo.data) > MAX_PHOTO_BYTES:
                raise InvalidInput.one("photos", "That photo is too big to keep. Please send a smaller one.")
        contact = clean_text(new.contact, "contact", MAX_CONTACT) if new.may_contact and new.contact else None
        now = self._clock()
        async with self._uow() as uow:
            resident = await uow.residents.get_by_address(address)
            if resident is None or resident.id is None:
                raise NotFound("Please subscribe first with /start, then send your information.")
            if await uow.tips.count_since(resident.id, now - FLOOD_WINDOW) >= self._force.settings.tips_per_minute:
                raise TooManyTips("Thank you — we have your information. Please wait a minute before sending more.")
            alert_id = await self._original_alert_id(uow, new.alert_id)
            tip = Tip(
                resident_id=resident.id,
                text=text,
                alert_id=alert_id,
                lat=lat_lon[0] if lat_lon else None,
                lon=lat_lon[1] if lat_lon else None,
                anonymous=not new.may_contact,
                contact=contact,
                tipster=self._pseudonyms.for_tip(resident.id, anonymous=not new.may_contact),
                thread_key=thread_key_for(alert_id, now, self._force.settings.timezone),
                created_at=now,
            )
            tip = await uow.tips.add(tip, new.photos, now)
            await uow.residents.save_activity(resident.id, now)
            if resident.tips_blocked:
                # Kept (it may still matter), but not put in front of officers again.
                await uow.tips.set_state(tip.id, TipState.SPAM)  # type: ignore[arg-type]
                tip.state = TipState.SPAM
            else:
                await self._queue_to_officers(uow, MessageKind.TIP_TO_OFFICERS, tip, note_id=None, now=now)
            await uow.commit()
        logger.info("tip %s received (alert %s, %d photos)", tip.reference, alert_id, len(new.photos))
        return tip

    async def answer(self, address: Address, tip_reference: str, text: str) -> TipNote:
        """The tipster answers an officer: into the tip's thread.

        Only on a tip an officer has replied to (a quoted reference is no way in otherwise), and counted by flood
        control like a tip. Raises NotFound, NotAllowed, TooManyTips."""
        body = clean_text(text, "text", MAX_TIP_TEXT)
        now = self._clock()
        async with self._uow() as uow:
            tip = await self._tip(uow, tip_reference)
            resident = await uow.residents.get_by_address(address)
            if resident is None or tip.resident_id != resident.id:
                raise NotFound(f"No tip {tip_reference} of yours was found.")
            if not await uow.tips.officer_replied(tip.id):  # type: ignore[arg-type]
                raise NotAllowed(
                    f"Officers haven't written to you about {tip.reference}, so there is nothing to answer. "
                    "To tell them something new, just send it as a message."
                )
            if await uow.tips.count_since(resident.id, now - FLOOD_WINDOW) >= self._force.settings.tips_per_minute:  # type: ignore[arg-type]
                raise TooManyTips("Thank you — we have your information. Please wait a minute before sending more.")
            note = await uow.tips.add_note(TipNote(tip_id=tip.id, author=TIPSTER, text=body, created_at=now))  # type: ignore[arg-type]
            await uow.residents.save_activity(resident.id, now)  # type: ignore[arg-type]
            if not resident.tips_blocked:
                await self._queue_to_officers(uow, MessageKind.TIP_FOLLOW_UP, tip, note_id=note.id, now=now)
            await uow.commit()
        return note

    async def replied_to(self, address: Address, provider_message_id: str) -> RepliedMessage | None:
        """What a resident's reply (to ``provider_message_id``) answers: an alert, or an officer's reply on a tip."""
        async with self._uow(read_only=True) as uow:
            return await uow.tips.replied_to(address, provider_message_id)

    async def latest_sent(self, address: Address, within: timedelta) -> RepliedMessage | None:
        """The newest alert or officer's reply sent to a resident in the last ``within`` (what a message on a
        channel without replies answers)."""
        async with self._uow(read_only=True) as uow:
            return await uow.tips.latest_sent(address, self._clock() - within)

    async def get_for(self, address: Address, tip_id: int) -> Tip:
        """A resident's own tip, by id (from a button)."""
        async with self._uow(read_only=True) as uow:
            tip = await uow.tips.get(tip_id)
            resident = await uow.residents.get_by_address(address)
        if tip is None or resident is None or tip.resident_id != resident.id:
            raise NotFound("That tip is no longer held.")
        return tip

    # --- officers -------------------------------------------------------------------

    async def view(self, reference: str, officer: str) -> tuple[Tip, list[TipPhoto], list[TipNote]]:
        self._roles.require_officer(officer)
        async with self._uow() as uow:
            tip = await self._tip(uow, reference)
            photos = await uow.tips.photos(tip.id)  # type: ignore[arg-type]
            notes = await uow.tips.notes(tip.id)  # type: ignore[arg-type]
            await self._audit(uow, officer, "tip.view", tip)
            await uow.commit()
        return tip, photos, notes

    async def reply(self, reference: str, officer: str, text: str) -> TipNote:
        """An officer's reply, relayed to the tipster through their own app."""
        self._roles.require_officer(officer)
        body = clean_text(text, "text", MAX_REPLY_TEXT)
        now = self._clock()
        async with self._uow() as uow:
            tip = await self._tip(uow, reference)
            resident = await uow.residents.get(tip.resident_id) if tip.resident_id is not None else None
            if resident is None:
                raise NotAllowed(
                    f"The tipster of {reference} has deleted their data, so they can no longer be reached."
                )
            note = await uow.tips.add_note(TipNote(tip_id=tip.id, author=officer, text=body, created_at=now))  # type: ignore[arg-type]
            await self._tell_seen(uow, tip, now)  # queued first: "seen" reaches them before the reply
            message_id = await uow.outbox.new_message(MessageKind.REPLY_TO_TIPSTER, tip_id=tip.id, note_id=note.id)
            await uow.outbox.queue_to(message_id, resident.address, resident.id, now, priority=Priority.URGENT)
            await self._audit(uow, officer, "tip.reply", tip, length=len(body))
            await uow.commit()
        return note

    async def set_state(self, reference: str, officer: str, state: TipState, *, block_tipster: bool = False) -> Tip:
        """Acknowledge, mark actioned, or mark spam (optionally keeping the tipster's future tips out of the queue).

        Only forwards (``NEXT_STATES``); anything else raises Conflict and changes nothing.
        """
        self._roles.require_officer(officer)
        async with self._uow() as uow:
            tip = await self._tip(uow, reference)
            if state not in NEXT_STATES[tip.state]:
                raise Conflict(self._not_now(tip, state))
            # Compare-and-set: two officers pressing at once in different web processes, one of them wins.
            if not await uow.tips.set_state(tip.id, state, expected=tip.state):  # type: ignore[arg-type]
                changed = await self._tip(uow, reference)
                raise Conflict(self._not_now(changed, state))
            tip.state = state
            blocked = False
            if block_tipster and tip.resident_id is not None:
                resident = await uow.residents.get(tip.resident_id)
                if resident is not None:
                    resident.tips_blocked = blocked = True
                    await uow.residents.save_flags(resident)
            if state in (TipState.ACKNOWLEDGED, TipState.ACTIONED):
                await self._tell_seen(uow, tip, self._clock())
            await self._audit(uow, officer, f"tip.{state.value}", tip, blocked_tipster=blocked)
            await uow.commit()
        return tip

    async def for_queue(self, reference: str, officer: str) -> QueuedTip:
        """What redrawing the tip's message in the queue needs (not audited: it shows nothing new to anyone)."""
        self._roles.require_officer(officer)
        async with self._uow(read_only=True) as uow:
            tip = await self._tip(uow, reference)
            alert = await uow.alerts.get(tip.alert_id) if tip.alert_id is not None else None
            # A tip changes state at most three times, but views and replies share its audit subject.
            entries = await uow.audit.entries(tip.reference, limit=1000)
        changes = [e for e in reversed(entries) if e.action in STATE_ACTIONS]
        return QueuedTip(tip, alert, changes)

    # --- inside ---------------------------------------------------------------------

    @staticmethod
    async def _tell_seen(uow: UnitOfWork, tip: Tip, now: datetime) -> None:
        """The first time an officer acts on a tip (acknowledges, replies, marks actioned), tell the tipster an
        officer has seen it: once per tip, through the delivery rows, never saying which officer."""
        if tip.resident_id is None or tip.state is TipState.SPAM:
            return
        resident = await uow.residents.get(tip.resident_id)
        if resident is None or not await uow.tips.mark_seen_told(tip.id, now):  # type: ignore[arg-type]
            return
        message_id = await uow.outbox.new_message(MessageKind.TIP_SEEN, tip_id=tip.id)
        await uow.outbox.queue_to(message_id, resident.address, resident.id, now, priority=Priority.URGENT)

    @staticmethod
    def _not_now(tip: Tip, wanted: TipState) -> str:
        if tip.state is wanted:
            return f"Tip {tip.reference} is already {_STATE_WORDS[wanted]}. Nothing was changed."
        return f"Tip {tip.reference} is {_STATE_WORDS[tip.state]}, so it can't be {_STATE_WORDS[wanted]} now. Nothing was changed."

    async def _queue_to_officers(
        self, uow: UnitOfWork, kind: MessageKind, tip: Tip, *, note_id: int | None, now: datetime
    ) -> None:
        if self._queue is None:
            logger.warning("tip %s kept, but no officers' queue is configured (SLACK_TIPS_CHANNEL)", tip.reference)
            return
        key = tip.thread_key or thread_key_for(tip.alert_id, now, self._force.settings.timezone)
        if await uow.tips.thread_root(key) is None:
            root = await uow.outbox.new_message(MessageKind.TIPS_THREAD, alert_id=tip.alert_id, thread_key=key)
            if await uow.tips.start_thread(key, tip.alert_id, root, now) == root:
                await uow.outbox.queue_to(root, self._queue, None, now, priority=Priority.URGENT)
        message_id = await uow.outbox.new_message(
            kind, alert_id=tip.alert_id, tip_id=tip.id, note_id=note_id, thread_key=key
        )
        await uow.outbox.queue_to(message_id, self._queue, None, now, priority=Priority.URGENT)

    @staticmethod
    async def _original_alert_id(uow: UnitOfWork, alert_id: int | None) -> int | None:
        if alert_id is None:
            return None
        alert = await uow.alerts.get(alert_id)
        if alert is None or alert.state in (AlertState.DRAFT, AlertState.SCHEDULED, AlertState.DISCARDED):
            return None  # a tip about something unknown is still a tip, in the day's thread
        return alert.original_id or alert.id

    @staticmethod
    async def _tip(uow: UnitOfWork, reference: str) -> Tip:
        tip = await uow.tips.get_by_reference(reference.strip().upper())
        if tip is None:
            raise NotFound(f"No tip with reference {reference.strip()!r}.")
        return tip

    @staticmethod
    async def _audit(uow: UnitOfWork, officer: str, action: str, tip: Tip, **detail: object) -> None:
        await uow.audit.append(
            AuditEntry(actor=officer, action=action, subject=tip.reference or "", detail=dict(detail))
        )
