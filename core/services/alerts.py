"""Alert services: the one API the Slack app, the CLI and the scheduler use.

draft → preview → (approve) → send → update… → cancel / expire. Each call is
one transaction and leaves an audit entry; ``send`` resolves the recipients
and writes every delivery row in that same transaction, so an alert is either
fully queued or not sent at all.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import TypeVar

from core.channels import PUBLISHED_LIMITS, strictest_text_limit
from core.clock import Clock
from core.delivery.allowance import ALLOWANCE_WINDOW
from core.delivery.priority import Priority, alert_priority
from core.delivery.ratelimit import HEADROOM
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from core.force import ForceConfig
from core.geo.areas import Area
from core.geo.cells import area_cells, cover_of
from core.geo.nearness import nearness
from core.model import (
    Address,
    Alert,
    AlertPhoto,
    AlertState,
    AlertStatus,
    AlertType,
    Audience,
    AuditEntry,
    Certainty,
    Channel,
    DeliveryState,
    MessageKind,
    Severity,
    Urgency,
)
from core.origin import current_origin
from core.ports import CellCounts, ChannelCounts, RecipientCriteria, UnitOfWork, UnitOfWorkFactory
from core.rendering import alert_parts, alert_plain_text, escape_slack_mrkdwn, format_duration
from core.services.reach import ReachReport
from core.services.roles import SYSTEM_ACTOR, Roles
from core.sms_alerts import alert_sms
from core.sms_segments import count_segments
from core.templates import require_filled

PAID_BROADCAST_STARS = 0.1  # Telegram's fee per paid-broadcast message (docs/platforms.md)
MAX_HEADLINE = 120
MAX_CONTACT = 300
MAX_EXPIRY = timedelta(days=14)
LIVE_STATES = (AlertState.SENDING, AlertState.SENT)
# An appeal can be resolved while live, and after it expired (residents still have its photo).
RESOLVABLE_STATES = (*LIVE_STATES, AlertState.EXPIRED)
# Said when the officer says nothing: an alert may end in a person found safe, an arrest or a vehicle recovered,
# so the words that say which are the officer's.
RESOLVED_MESSAGE = "This is resolved. Thank you to everyone who shared it or came forward with information."
FOLLOW_UP_KINDS = {
    AlertType.UPDATE: MessageKind.ALERT_UPDATE,
    AlertType.CANCEL: MessageKind.ALERT_CANCEL,
    AlertType.RESOLVED: MessageKind.ALERT_RESOLVED,
}
# Who an update goes to: everyone the original reached or is reaching.
REACHED = (DeliveryState.PENDING, DeliveryState.SENDING, DeliveryState.SENT, DeliveryState.FAILED)


@dataclass
class AlertRequest:
    """What an officer fills in. Strings as typed; the service checks them."""

    incident_number: str
    headline: str
    message: str
    area: Area
    topics: Sequence[str] = ()
    everyone: bool = False  # "Everyone in the area": the officer must choose this or name topics
    sectors: Sequence[str] = ()
    audience: str = Audience.BOTH.value
    urgency: str = Urgency.IMMEDIATE.value
    severity: str = Severity.MODERATE.value
    certainty: str = Certainty.LIKELY.value
    status: str = AlertStatus.ACTUAL.value
    contact: str | None = None
    expires_at: datetime | None = None
    template: str | None = None  # the force template it was started from (recorded in the audit log)
    photo: AlertPhoto | None = None  # an appeal's photo, already checked and re-encoded (bots/photo_files.py)


@dataclass(frozen=True)
class Paces:
    """How fast the delivery worker sends on each channel (messages/s), to say how long an alert will take.

    ``paid``: the faster rate urgent alerts get where the force pays for it (Telegram's paid broadcast).
    """

    free: Mapping[Channel, float] = field(default_factory=dict)
    paid: Mapping[Channel, float] = field(default_factory=dict)
    # People per rolling 24 hours a channel may reach outside their service window (WhatsApp's messaging limit).
    daily_limits: Mapping[Channel, int] = field(default_factory=dict)

    def of(self, channel: Channel, priority: int) -> float:
        if priority == Priority.URGENT and channel in self.paid:
            return self.paid[channel]
        return self.free.get(channel) or PUBLISHED_LIMITS[channel].messages_per_second * HEADROOM


@dataclass(frozen=True)
class DailyLimitForecast:
    """How an alert fits a channel's allowance of people per rolling 24 hours (WhatsApp's messaging limit)."""

    channel: Channel
    limit: int  # people per rolling 24 hours
    left: int  # places left now
    now: int  # the channel's recipients who get it now (nearest first; their service window open, already counted, or a place)
    held: int  # held until places free (while the alert is live)


@dataclass(frozen=True)
class SmsPricing:
    """What an alert costs by text: the segment budget, the price of a segment, and its public page (the link a cut text ends with)."""

    max_segments: int
    price_per_segment: float
    link_for: Callable[[str], str | None] = lambda reference: None


@dataclass(frozen=True)
class SmsCost:
    """The alert as a text: segments each, how many texts, the estimated price of them all."""

    segments: int
    encoding: str  # "GSM-7" or "UCS-2"
    texts: int
    price: float

    @property
    def total_segments(self) -> int:
        return self.segments * self.texts


@dataclass(frozen=True)
class Preview:
    alert: Alert
    area_description: str
    recipients: ChannelCounts
    approval_needed: bool
    approval_reason: str | None
    # Seconds until 95% of each channel's recipients have it: the rows ahead of it and the channel's pace.
    eta_95_s: dict[Channel, float] = field(default_factory=dict)
    # Telegram Stars a paid broadcast would cost (messages beyond the free rate), when it would go as one.
    stars_estimate: float | None = None
    # Set when the alert would use more of WhatsApp's daily messaging limit than is left.
    daily_limit: DailyLimitForecast | None = None
    sms_cost: SmsCost | None = None  # when it goes to anyone by text

    @property
    def total(self) -> int:
        return sum(self.recipients.values())


@dataclass(frozen=True)
class SendResult:
    alert: Alert
    recipients: ChannelCounts = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.recipients.values())


def reach_in_words(alert: Alert, force: ForceConfig) -> str:
    """Who the alert is for, as the preview says it: everyone in the area, or who chose which topics."""
    if alert.everyone:
        return "Everyone in the area, whatever topics they chose"
    labels = [force.topics[t].label if t in force.topics else t for t in alert.topics]
    return "Only residents who chose " + " or ".join(labels)


def timing_in_words(preview: Preview) -> str:
    """How long each channel will take to reach 95% of its residents, and a paid broadcast's cost."""
    parts = [
        f"{CHANNEL_NAMES.get(channel, channel.value.capitalize())} {format_duration(seconds)}"
        for channel, seconds in sorted(preview.eta_95_s.items())
    ]
    text = "95% reached in about: " + ", ".join(parts) if parts else "Nobody to reach"
    if preview.stars_estimate is not None:
        text += f"; Telegram paid broadcast: about {preview.stars_estimate:,.0f} Stars"
    return text


CHANNEL_NAMES = {Channel.WHATSAPP: "WhatsApp", Channel.SMS: "SMS"}  # the others read right capitalised


def sms_cost_in_words(cost: SmsCost) -> str:
    """The preview's SMS line: segments a text and the estimated price (at SMS_PRICE_PER_SEGMENT)."""
    each = "1 segment" if cost.segments == 1 else f"{cost.segments} segments"
    texts = "1 text" if cost.texts == 1 else f"{cost.texts:,} texts"
    return f"SMS: {each} a text ({cost.encoding}); {texts}, {cost.total_segments:,} segments, about {cost.price:,.2f}"


def daily_limit_in_words(forecast: DailyLimitForecast) -> str:
    """What the preview says when an alert would exceed what is left of a channel's daily limit."""
    name = "WhatsApp" if forecast.channel is Channel.WHATSAPP else forecast.channel.value.capitalize()
    return (
        f"{name} daily limit: {forecast.left:,} of {forecast.limit:,} people left in the last 24 hours. "
        f"{forecast.now:,} of the {forecast.now + forecast.held:,} {name} residents get it now, nearest first; "
        f"{forecast.held:,} are held and get it as the 24 hours roll on and places free, while the alert is live "
        "(those still held when it expires are reported as not sent)."
    )


E = TypeVar("E", bound=Enum)


def clean_text(value: str, field_name: str, max_length: int) -> str:
    """Trim, refuse empty, over-long or control-character text (newlines and tabs are fine)."""
    text = unicodedata.normalize("NFC", value or "").strip()
    if not text:
        raise InvalidInput.one(field_name, "this can't be empty")
    if len(text) > max_length:
        raise InvalidInput.one(field_name, f"this is {len(text)} characters; the most is {max_length}")
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in text):
        raise InvalidInput.one(field_name, "this contains control characters; please retype it")
    return text


def _enum(kind: type[E], value: str, field_name: str) -> E:
    for member in kind:
        if value.strip().lower() == member.value.lower():
            return member
    raise InvalidInput.one(field_name, f"'{value}' is not one of {', '.join(m.value for m in kind)}")


class AlertService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        force: ForceConfig,
        *,
        roles: Roles,
        channels: Sequence[Channel] = (),
        paces: Paces = Paces(),
        sms: SmsPricing | None = None,
        clock: Clock,
        cards: str | None = None,
    ) -> None:
        """``cards``: the officers' Slack channel, where the card of an alert sent from outside Slack is posted."""
        self._uow = uow
        self._cards = cards
        self._sms = sms
        self._force = force
        self._roles = roles
        self._text_limit = strictest_text_limit(channels)
        self._slack = Channel.SLACK in channels  # supervisors are told of cancellations in Slack
        self._clock = clock
        self._paces = paces

    # --- composing -----------------------------------------------------------------

    def compose(self, request: AlertRequest, author: str) -> Alert:
        """Check every field and build a draft alert (not stored). Raises InvalidInput naming the fields."""
        errors: dict[str, str] = {}
        now = self._clock()

        def check(field_name: str, fn: Callable[[], object]) -> object:
            try:
                return fn()
            except InvalidInput as exc:
                errors.update(exc.errors if exc.errors else {field_name: str(exc)})
                return None

        incident = check("incident_number", lambda: self._force.check_incident_number(request.incident_number or ""))
        headline = check(
            "headline", lambda: require_filled(clean_text(request.headline, "headline", MAX_HEADLINE), "headline")
        )
        message = check(
            "message", lambda: require_filled(clean_text(request.message, "message", self._text_limit), "message")
        )
        if request.template:
            check("template", lambda: self._force.template(request.template or ""))
        contact = check("contact", lambda: clean_text(request.contact or self._force.contact, "contact", MAX_CONTACT))
        topics = check("reach", lambda: self._check_reach(request))
        sectors = check("sectors", lambda: self._force.check_sectors(list(request.sectors)))
        audience = check("audience", lambda: _enum(Audience, request.audience, "audience"))
        urgency = check("urgency", lambda: _enum(Urgency, request.urgency, "urgency"))
        severity = check("severity", lambda: _enum(Severity, request.severity, "severity"))
        certainty = check("certainty", lambda: _enum(Certainty, request.certainty, "certainty"))
        status = check("status", lambda: _enum(AlertStatus, request.status, "status"))
        expires = check("expires", lambda: self._check_expiry(request.expires_at, now))
        if errors:
            raise InvalidInput(errors)
        alert = Alert(
            incident_number=incident,  # type: ignore[arg-type]
            headline=headline,  # type: ignore[arg-type]
            message=message,  # type: ignore[arg-type]
            contact=contact,  # type: ignore[arg-type]
            area=request.area,
            area_description=request.area.describe(),
            topics=topics,  # type: ignore[arg-type]
            everyone=request.everyone,
            sectors=sectors,  # type: ignore[arg-type]
            audience=audience,  # type: ignore[arg-type]
            urgency=urgency,  # type: ignore[arg-type]
            severity=severity,  # type: ignore[arg-type]
            certainty=certainty,  # type: ignore[arg-type]
            status=status,  # type: ignore[arg-type]
            author=author,
            created_at=now,
            expires_at=expires,  # type: ignore[arg-type]
        )
        self._check_length(alert)
        return alert

    def _check_reach(self, request: AlertRequest) -> tuple[str, ...]:
        """Everyone in the area, or named topics: chosen, never assumed (a silent default missed people)."""
        topics = self._force.check_topics(list(request.topics))
        if request.everyone and topics:
            raise InvalidInput.one("reach", "choose either everyone in the area or specific topics, not both")
        if not request.everyone and not topics:
            raise InvalidInput.one("reach", "choose who this is for: everyone in the area, or one or more topics")
        return topics

    def _check_expiry(self, expires_at: datetime | None, now: datetime) -> datetime:
        if expires_at is None:
            return now + timedelta(hours=self._force.settings.default_alert_hours)
        if expires_at.tzinfo is None:
            raise InvalidInput.one("expires", "give the expiry with a time zone")
        if expires_at <= now:
            raise InvalidInput.one("expires", "the expiry must be in the future")
        if expires_at - now > MAX_EXPIRY:
            raise InvalidInput.one("expires", "an alert can stay live for at most 14 days")
        return expires_at

    def _check_length(self, alert: Alert) -> None:
        length = len(alert_plain_text(alert, self._force.name))
        if length > self._text_limit:
            raise InvalidInput.one(
                "message",
                f"the alert comes to {length} characters with its heading, area, incident number and contact; "
                f"the limit is {self._text_limit}. Please shorten the message by {length - self._text_limit}.",
            )

    # --- the officer's actions ------------------------------------------------------

    async def draft(self, request: AlertRequest, author: str) -> Alert:
        self._roles.require_officer(author)
        alert = self.compose(request, author)
        async with self._uow() as uow:
            await uow.alerts.add(alert)
            extra: dict[str, object] = {"template": request.template} if request.template else {}
            if request.photo is not None:
                await uow.photos.add(alert.id, replace(request.photo, created_at=self._clock()))  # type: ignore[arg-type]
                extra["photo"] = {"bytes": request.photo.size, "sha256": request.photo.sha256}
            await self._audit(uow, author, "draft", alert, area=alert.area_description, **extra)
            await uow.commit()
        return alert

    async def preview(self, alert_id: int, actor: str) -> Preview:
        self._roles.require_officer(actor)
        async with self._uow() as uow:
            alert = await self._get(uow, alert_id)
            counts = await self._recipients(uow, alert)
            needed, reason = await self._approval_of(uow, alert, counts)
            priority = alert_priority(MessageKind.ALERT, alert.urgency)
            ahead = await uow.outbox.queued_ahead(priority, self._clock())
            limited = await self._daily_limit(uow, alert, counts)
            await self._audit(uow, actor, "preview", alert, recipients=sum(counts.values()))
            await uow.commit()
        going = {c: n - (limited.held if limited and limited.channel is c else 0) for c, n in counts.items()}
        etas = {c: self._eta_95(c, n, priority, ahead) for c, n in going.items() if n}
        return Preview(
            alert,
            alert.area_description,
            counts,
            needed and alert.approver is None,
            reason,
            etas,
            self._stars(counts.get(Channel.TELEGRAM, 0), priority),
            limited,
            self._sms_cost(alert, counts.get(Channel.SMS, 0)),
        )

    def _sms_cost(self, alert: Alert, texts: int) -> SmsCost | None:
        """The alert as the SMS adapter will cut it (core/sms_alerts.py), counted and priced."""
        if self._sms is None or not texts:
            return None
        link = self._sms.link_for(alert.reference) if alert.reference else None
        text = alert_sms(alert_parts(alert), self._force.name, self._sms.max_segments, link=link)
        counted = count_segments(text)
        return SmsCost(
            counted.count, counted.encoding, texts, round(counted.count * texts * self._sms.price_per_segment, 2)
        )

    async def _daily_limit(self, uow: UnitOfWork, alert: Alert, counts: ChannelCounts) -> DailyLimitForecast | None:
        """The forecast when the alert would need more places in a channel's daily limit than are left.
        An update goes to people reached in the last hours, counted already: no forecast."""
        if alert.type is AlertType.UPDATE:
            return None
        now = self._clock()
        for channel, limit in self._paces.daily_limits.items():
            if not counts.get(channel):
                continue
            needing = await uow.allowance.needing_places(self._criteria(alert), channel, now, ALLOWANCE_WINDOW)
            left = max(0, limit - await uow.allowance.used(channel, now, ALLOWANCE_WINDOW))
            if needing > left:
                return DailyLimitForecast(channel, limit, left, counts[channel] - (needing - left), needing - left)
        return None

    def _eta_95(self, channel: Channel, count: int, priority: int, ahead: dict[tuple[Channel, int], int]) -> float:
        """Rows more urgent go first; rows of the same priority share the channel turn about with this alert."""
        wanted = 0.95 * count
        before = sum(n for (c, level), n in ahead.items() if c is channel and level < priority)
        alongside = min(ahead.get((channel, priority), 0), wanted)
        return round((before + alongside + wanted) / self._paces.of(channel, priority), 1)

    def _stars(self, telegram: int, priority: int) -> float | None:
        """Paid broadcasts are billed for the messages beyond the free rate: at the paid pace, nearly all of them."""
        paid = self._paces.paid.get(Channel.TELEGRAM)
        if not telegram or priority != Priority.URGENT or not paid:
            return None
        free = self._paces.free.get(Channel.TELEGRAM) or PUBLISHED_LIMITS[Channel.TELEGRAM].messages_per_second
        return round(telegram * max(0.0, 1 - free / paid) * PAID_BROADCAST_STARS, 1)

    async def approve(self, alert_id: int, supervisor: str, *, recorded_by: str | None = None) -> Alert:
        """A supervisor's approval. ``recorded_by`` names who entered it when that
        is not the supervisor (an operator at the shell), so the audit says both."""
        self._roles.require_supervisor(supervisor)
        async with self._uow() as uow:
            alert = await self._get(uow, alert_id, lock=True)
            self._require_state(alert, (AlertState.DRAFT,), "approved")
            if supervisor == alert.author:
                raise NotAllowed("You can't approve your own alert; ask another supervisor.")
            alert.approver, alert.approved_at = supervisor, self._clock()
            await uow.alerts.save(alert)
            extra = {"recorded_by": recorded_by} if recorded_by else {}
            await self._audit(uow, supervisor, "approve", alert, **extra)
            await uow.commit()
        return alert

    async def discard(self, alert_id: int, actor: str) -> Alert:
        self._roles.require_officer(actor)
        async with self._uow() as uow:
            alert = await self._get(uow, alert_id, lock=True)
            self._require_state(alert, (AlertState.DRAFT,), "discarded")
            alert.state = AlertState.DISCARDED
            await uow.alerts.save(alert)
            await self._audit(uow, actor, "discard", alert)
            await uow.commit()
        return alert

    async def send(self, alert_id: int, actor: str) -> SendResult:
        """Queue one delivery per recipient and mark the alert sending — all or nothing."""
        self._roles.require_officer(actor)
        now = self._clock()
        async with self._uow() as uow:
            alert = await self._get(uow, alert_id, lock=True)
            self._require_state(alert, (AlertState.DRAFT,), "sent")
            if alert.type is AlertType.UPDATE:
                result = await self._send_approved_update(uow, alert, actor, now)
            else:
                result = await self._send_in(uow, alert, actor, now)
            await self._card(uow, result.alert, now)
            await uow.commit()
        return result

    async def schedule(self, alert_id: int, actor: str, send_at: datetime) -> Preview:
        """Have the scheduler send a draft at ``send_at``. Approval is settled now, as for sending now."""
        self._roles.require_officer(actor)
        now = self._clock()
        if send_at.tzinfo is None:
            raise InvalidInput.one("send_at", "give the time with a time zone")
        if send_at <= now:
            raise InvalidInput.one("send_at", "that time has passed; send it now instead")
        async with self._uow() as uow:
            alert = await self._get(uow, alert_id, lock=True)
            self._require_state(alert, (AlertState.DRAFT,), "scheduled")
            self._require_original(alert)  # an update waiting for approval is sent, not scheduled
            if alert.expires_at is not None and alert.expires_at <= send_at:
                raise InvalidInput.one("send_at", "the alert would have expired by then; give a later expiry")
            counts = await uow.outbox.count_recipients(self._criteria(alert))
            needed, reason = self._approval(alert, sum(counts.values()))
            if needed and alert.approver is None:
                raise NotAllowed(f"{alert.reference} needs a supervisor's approval before it is scheduled: {reason}.")
            alert.state, alert.send_at = AlertState.SCHEDULED, send_at
            await uow.alerts.save(alert)
            await self._audit(
                uow, actor, "schedule", alert, send_at=send_at.isoformat(), recipients_now=sum(counts.values())
            )
            await uow.commit()
        return Preview(alert, alert.area_description, counts, False, None)

    async def send_due_scheduled(self, grace: timedelta) -> list[SendResult | Alert]:
        """Send scheduled alerts whose time has come, each once.

        One that is later than ``grace`` (Lookout was down) is not sent blind:
        it becomes ``missed`` and the audit log says so, for an officer to decide.
        """
        now = self._clock()
        done: list[SendResult | Alert] = []
        async with self._uow() as uow:
            for alert in await uow.alerts.due_to_send(now):
                late = now - alert.send_at  # type: ignore[operator]
                if late > grace or (alert.expires_at is not None and alert.expires_at <= now):
                    alert.state = AlertState.MISSED
                    await uow.alerts.save(alert)
                    await self._audit(
                        uow, SYSTEM_ACTOR, "schedule_missed", alert, late_seconds=int(late.total_seconds())
                    )
                    done.append(alert)
                    continue
                done.append(await self._send_in(uow, alert, alert.author, now, scheduled=True))
                await self._card(uow, alert, now, scheduled=True)
            await uow.commit()
        return done

    async def _send_in(
        self, uow: UnitOfWork, alert: Alert, actor: str, now: datetime, *, scheduled: bool = False
    ) -> SendResult:
        if alert.expires_at is not None and alert.expires_at <= now:
            raise Conflict(f"{alert.reference} expired before it was sent; draft it again with a later expiry.")
        message_id = await uow.outbox.new_message(MessageKind.ALERT, alert_id=alert.id)
        priority = alert_priority(MessageKind.ALERT, alert.urgency)
        counts = await uow.outbox.queue_for_recipients(
            message_id, self._criteria(alert, ranked=True), now, priority=priority
        )
        needed, reason = self._approval(alert, sum(counts.values()))
        # A scheduled alert settled approval when it was scheduled.
        if needed and alert.approver is None and not scheduled:
            raise NotAllowed(f"{alert.reference} needs a supervisor's approval before it is sent: {reason}.")
        alert.message_id, alert.sent_at = message_id, now
        alert.state = AlertState.SENDING if counts else AlertState.SENT
        await uow.alerts.save(alert)
        await self._audit(
            uow,
            SYSTEM_ACTOR if scheduled else actor,
            "send",
            alert,
            recipients=sum(counts.values()),
            scheduled=scheduled,
        )
        return SendResult(alert, counts)

    async def update(
        self, reference: str, actor: str, *, message: str, headline: str | None = None, contact: str | None = None
    ) -> SendResult:
        """A follow-up to exactly the people the original reached (or is reaching).

        If the original needed a supervisor's approval, so does its update: it is kept as a draft (state
        ``draft``, nothing queued) for a supervisor other than its author to approve and an officer to send,
        as an alert is. An expired alert can't be updated."""
        self._roles.require_officer(actor)
        now = self._clock()
        async with self._uow() as uow:
            original = await self._by_reference(uow, reference, lock=True)
            self._require_original(original)
            self.require_updatable(original, now)
            follow_up = self._follow_up(
                original,
                AlertType.UPDATE,
                actor,
                now,
                headline=clean_text(headline or original.headline, "headline", MAX_HEADLINE),
                message=clean_text(message, "message", self._text_limit),
                contact=clean_text(contact or original.contact, "contact", MAX_CONTACT),
            )
            self._check_length(follow_up)
            needed, reason = await self._approval_of(uow, follow_up, await self._recipients(uow, follow_up))
            if needed:
                follow_up.state, follow_up.sent_at = AlertState.DRAFT, None
                await uow.alerts.add(follow_up)
                await self._audit(
                    uow, actor, "update", follow_up, original=original.reference, awaiting_approval=reason
                )
                await uow.commit()
                return SendResult(follow_up, {})
            counts = await self._queue_follow_up(uow, follow_up, [original.message_id], REACHED, now)  # type: ignore[list-item]
            await self._audit(
                uow, actor, "update", follow_up, original=original.reference, recipients=sum(counts.values())
            )
            await self._card(uow, follow_up, now)
            await uow.commit()
        return SendResult(follow_up, counts)

    async def _send_approved_update(self, uow: UnitOfWork, update: Alert, actor: str, now: datetime) -> SendResult:
        """Send an update that waited for approval, if it has it and its alert is still live."""
        original = await self._get(uow, update.original_id, lock=True)  # type: ignore[arg-type]
        self.require_updatable(original, now)
        needed, reason = await self._approval_of(uow, update, await self._recipients(uow, update))
        if needed and update.approver is None:
            raise NotAllowed(f"{update.reference} needs a supervisor's approval before it is sent: {reason}.")
        update.state, update.sent_at = AlertState.SENDING, now
        counts = await self._queue_follow_up(uow, update, [original.message_id], REACHED, now)  # type: ignore[list-item]
        await self._audit(uow, actor, "send", update, original=original.reference, recipients=sum(counts.values()))
        return SendResult(update, counts)

    async def cancel(self, reference: str, actor: str, *, reason: str = "") -> SendResult:
        """Stop what has not gone yet and tell those already reached that it is cancelled."""
        self._roles.require_officer(actor)
        now = self._clock()
        async with self._uow() as uow:
            original = await self._by_reference(uow, reference, lock=True)
            self._require_original(original)
            self._require_state(original, LIVE_STATES, "cancelled")
            follow_ups = await uow.alerts.follow_ups(original.id)  # type: ignore[arg-type]
            message_ids = [a.message_id for a in (original, *follow_ups) if a.message_id is not None]
            skipped = await uow.outbox.skip_unsent(message_ids, "cancelled", now)
            reason_text = clean_text(reason or "This alert has been cancelled. Thank you for your help.", "reason", 500)
            notice = self._follow_up(original, AlertType.CANCEL, actor, now, message=reason_text)
            reached = (DeliveryState.SENDING, DeliveryState.SENT)
            counts = await self._queue_follow_up(uow, notice, message_ids, reached, now)
            for alert in (original, *follow_ups):
                if alert.state in LIVE_STATES:
                    alert.state, alert.cancelled_at = AlertState.CANCELLED, now
                    await uow.alerts.save(alert)
            await self._audit(
                uow, actor, "cancel", original, notice=notice.reference, skipped=skipped, notified=sum(counts.values())
            )
            await self._tell_supervisors_of_cancel(
                uow, original, actor, reason_text, sum(counts.values()), skipped, now
            )
            await self._card(uow, notice, now)
            await uow.commit()
        return SendResult(notice, counts)

    async def resolve(self, reference: str, actor: str, *, message: str = "") -> SendResult:
        """ "Resolved" (a person found safe, say): stop what has not gone, tell everyone reached, withdraw the photo.

        The photo stops being served at once; each platform takes back what it can when the resolution reaches
        it (Telegram deletes or edits the photo; elsewhere the resolution asks people not to share it)."""
        self._roles.require_officer(actor)
        now = self._clock()
        text = clean_text(message or RESOLVED_MESSAGE, "message", self._text_limit)
        async with self._uow() as uow:
            original = await self._by_reference(uow, reference, lock=True)
            self._require_original(original)
            self._require_state(original, RESOLVABLE_STATES, "resolved")
            follow_ups = await uow.alerts.follow_ups(original.id)  # type: ignore[arg-type]
            message_ids = [a.message_id for a in (original, *follow_ups) if a.message_id is not None]
            skipped = await uow.outbox.skip_unsent(message_ids, "resolved", now)
            notice = self._follow_up(original, AlertType.RESOLVED, actor, now, message=text)
            reached = (DeliveryState.SENDING, DeliveryState.SENT)
            counts = await self._queue_follow_up(uow, notice, message_ids, reached, now)
            for alert in (original, *follow_ups):
                if alert.state in RESOLVABLE_STATES:
                    alert.state = AlertState.RESOLVED
                    await uow.alerts.save(alert)
            withdrawn = await uow.photos.withdraw(original.id, now)  # type: ignore[arg-type]
            await self._audit(
                uow,
                actor,
                "resolve",
                original,
                notice=notice.reference,
                skipped=skipped,
                notified=sum(counts.values()),
                photo_withdrawn=withdrawn,
            )
            await self._card(uow, notice, now)
            await uow.commit()
        return SendResult(notice, counts)

    async def photo(self, alert_id: int) -> AlertPhoto | None:
        """The photo of an alert (or of the alert a follow-up belongs to), bytes and all; None when it has none."""
        async with self._uow(read_only=True) as uow:
            return await uow.photos.of_alert(alert_id)

    async def _card(self, uow: UnitOfWork, alert: Alert, now: datetime, *, scheduled: bool = False) -> None:
        """An alert sent from the command line or on a schedule gets its card in the officers' channel, as a
        Slack-raised one has in the officer's: a watch with no message yet, which the Slack status board posts and
        then keeps current. (In Slack, the card the officer pressed Send on is the watch.)"""
        if self._cards and (scheduled or current_origin() != "slack"):
            await uow.watches.add(alert.id, Address(Channel.SLACK, f"{self._cards}/"), now)  # type: ignore[arg-type]

    async def _tell_supervisors_of_cancel(
        self, uow: UnitOfWork, original: Alert, actor: str, reason: str, notified: int, skipped: int, now: datetime
    ) -> None:
        """A cancellation never waits for anyone, so supervisors are told of it after the fact, in Slack."""
        if not self._slack or not self._roles.supervisors:
            return
        who = (
            f"<@{actor}>"
            if self._roles.is_officer(actor) and not actor.startswith("cli:")
            else escape_slack_mrkdwn(actor)
        )
        body = (
            f":no_entry: *{escape_slack_mrkdwn(original.reference or '')} was cancelled* by {who} (from {current_origin()}): "
            f"{escape_slack_mrkdwn(original.headline)}\n"
            + "".join(f"> {escape_slack_mrkdwn(line)}\n" for line in reason.splitlines() or [""])
            + f"{notified:,} residents already reached are being told; {skipped:,} deliveries not yet made were stopped."
        )
        message_id = await uow.outbox.new_message(MessageKind.OFFICER_NOTICE, alert_id=original.id, body=body)
        for supervisor in sorted(self._roles.supervisors):
            await uow.outbox.queue_to(
                message_id, Address(Channel.SLACK, supervisor), None, now, priority=Priority.URGENT
            )

    async def expire_due(self) -> list[Alert]:
        """Expire live alerts past their expiry: deliveries not yet made are skipped."""
        now = self._clock()
        async with self._uow() as uow:
            expired = await uow.alerts.due_to_expire(now)
            for alert in expired:
                follow_ups = await uow.alerts.follow_ups(alert.id)  # type: ignore[arg-type]
                ids = [a.message_id for a in (alert, *follow_ups) if a.message_id is not None]
                skipped = await uow.outbox.skip_unsent(ids, "expired", now)
                for item in (alert, *follow_ups):
                    if item.state in LIVE_STATES:
                        item.state = AlertState.EXPIRED
                        await uow.alerts.save(item)
                await self._audit(uow, SYSTEM_ACTOR, "expire", alert, skipped=skipped)
            await uow.commit()
        return expired

    @staticmethod
    def _follow_up(
        original: Alert,
        kind: AlertType,
        actor: str,
        now: datetime,
        *,
        message: str,
        headline: str | None = None,
        contact: str | None = None,
    ) -> Alert:
        """An update, cancellation or resolution of ``original``: same area and audience, new text and author."""
        return replace(
            original,
            id=None,
            reference=None,
            type=kind,
            original_id=original.id,
            author=actor,
            approver=None,
            state=AlertState.SENDING,
            created_at=now,
            approved_at=None,
            sent_at=now,
            cancelled_at=None,
            message_id=None,
            message=message,
            headline=original.headline if headline is None else headline,
            contact=original.contact if contact is None else contact,
        )

    @staticmethod
    async def _queue_follow_up(
        uow: UnitOfWork,
        follow_up: Alert,
        from_message_ids: Sequence[int],
        states: Sequence[DeliveryState],
        now: datetime,
    ) -> ChannelCounts:
        """Store the follow-up (unless it is stored already) and queue it to every address the earlier messages
        reached (in ``states``)."""
        if follow_up.id is None:
            await uow.alerts.add(follow_up)
        kind = FOLLOW_UP_KINDS[follow_up.type]
        follow_up.message_id = await uow.outbox.new_message(kind, alert_id=follow_up.id)
        priority = alert_priority(kind, follow_up.urgency)
        counts = await uow.outbox.queue_copy(follow_up.message_id, from_message_ids, states, now, priority=priority)
        if not counts:
            follow_up.state = AlertState.SENT
        await uow.alerts.save(follow_up)
        return counts

    # --- reading ---------------------------------------------------------------------

    async def get(self, reference: str) -> Alert:
        async with self._uow(read_only=True) as uow:
            return await self._by_reference(uow, reference)

    async def recent(self, limit: int = 20) -> list[Alert]:
        async with self._uow(read_only=True) as uow:
            return await uow.alerts.recent(limit)

    async def progress(self, alert_id: int) -> dict[Channel, dict[DeliveryState, int]]:
        async with self._uow(read_only=True) as uow:
            alert = await self._get(uow, alert_id)
            return await uow.outbox.progress(alert.message_id) if alert.message_id else {}

    async def reach_report(self, reference: str, actor: str) -> ReachReport:
        """Who the sent alert reached, on which channel, when and where; an officer's export, so audited."""
        self._roles.require_officer(actor)
        async with self._uow() as uow:
            alert = await self._by_reference(uow, reference)
            if alert.message_id is None:
                raise Conflict(
                    f"{alert.reference} is {alert.state.value} and was never sent, so there is no report yet."
                )
            rows = await uow.reports.reach_rows(alert.message_id)
            cover = cover_of(area_cells(alert.area, self._force.resolution), self._force.resolution)
            cells = await uow.reports.reach_cells(alert.message_id, cover)
            tips = await uow.reports.tips_about(alert.id)  # type: ignore[arg-type]
            feedback = await uow.feedback.counts(alert.id)  # type: ignore[arg-type]
            await self._audit(uow, actor, "report", alert, deliveries=sum(r.count for r in rows), tips=tips)
            await uow.commit()
        return ReachReport(alert, rows, cells, tips, feedback)

    async def reach_by_cell(self, alert_id: int) -> CellCounts:
        """The residents the alert would reach (or reached), per H3 cell of its area: for the preview's picture."""
        async with self._uow(read_only=True) as uow:
            alert = await self._get(uow, alert_id)
            return await uow.reports.recipient_cells(self._criteria(alert))

    # --- helpers ---------------------------------------------------------------------

    def _criteria(self, alert: Alert, *, ranked: bool = False) -> RecipientCriteria:
        """Who the alert is for; ``ranked`` adds the distances that put the nearest first (for writing rows)."""
        resolution = self._force.resolution
        cells = area_cells(alert.area, resolution)  # once, for the cover and the ranking alike
        return RecipientCriteria(
            cover=cover_of(cells, resolution),
            topics=alert.topics,
            everyone=alert.everyone,
            sectors=alert.sectors,
            audience=alert.audience,
            testers_only=alert.status is not AlertStatus.ACTUAL,
            at=self._clock(),
            nearness=nearness(alert.area, resolution, cells) if ranked else None,
        )

    async def _recipients(self, uow: UnitOfWork, alert: Alert) -> ChannelCounts:
        """Who the alert would reach: for an update, whoever its original reached; otherwise the area's residents now."""
        if alert.type is not AlertType.UPDATE:
            return await uow.outbox.count_recipients(self._criteria(alert))
        original = await self._get(uow, alert.original_id)  # type: ignore[arg-type]
        progress = await uow.outbox.progress(original.message_id) if original.message_id else {}
        counts = {
            channel: sum(n for state, n in states.items() if state in REACHED) for channel, states in progress.items()
        }
        return {channel: n for channel, n in counts.items() if n}

    async def _approval_of(self, uow: UnitOfWork, alert: Alert, counts: ChannelCounts) -> tuple[bool, str | None]:
        """The four-eyes rule: an alert's own, and for an update, also whether its original needed approval."""
        needed, reason = self._approval(alert, sum(counts.values()))
        if needed or alert.type is not AlertType.UPDATE:
            return needed, reason
        original = await self._get(uow, alert.original_id)  # type: ignore[arg-type]
        if original.approver is not None:
            return True, f"it updates {original.reference}, which needed a supervisor's approval"
        return False, None

    def require_updatable(self, original: Alert, now: datetime | None = None) -> None:
        """Raise Conflict (saying why) unless ``original`` is live and not past its expiry."""
        now = now or self._clock()
        if original.state is AlertState.EXPIRED or (
            original.state in LIVE_STATES and original.expires_at is not None and original.expires_at <= now
        ):
            raise Conflict(
                f"{original.reference} has expired, so it can't be updated: residents no longer see it as "
                "current. Raise a new alert if the situation needs one."
            )
        self._require_state(original, LIVE_STATES, "updated")

    def _approval(self, alert: Alert, recipients: int) -> tuple[bool, str | None]:
        settings = self._force.settings
        if alert.status.value in settings.approval_required_statuses:
            return True, f"{alert.status.value} alerts always need approval in {self._force.name}"
        if recipients > settings.approval_threshold:
            return (
                True,
                f"it would reach {recipients:,} residents, more than the {settings.approval_threshold:,} a single officer may send to",
            )
        return False, None

    @staticmethod
    async def _get(uow: UnitOfWork, alert_id: int, *, lock: bool = False) -> Alert:
        alert = await uow.alerts.get(alert_id, for_update=lock)
        if alert is None:
            raise NotFound(f"There is no alert with id {alert_id}.")
        return alert

    @staticmethod
    async def _by_reference(uow: UnitOfWork, reference: str, *, lock: bool = False) -> Alert:
        alert = await uow.alerts.get_by_reference(reference, for_update=lock)
        if alert is None:
            raise NotFound(
                f"There is no alert {reference.strip()!r}. References look like A-2026-000123; `lookout alert list` shows recent ones."
            )
        return alert

    @staticmethod
    def _require_original(alert: Alert) -> None:
        if alert.type is not AlertType.ALERT:
            raise Conflict(f"{alert.reference} is an {alert.type.value.lower()}; use the original alert's reference.")

    @staticmethod
    def _require_state(alert: Alert, allowed: Sequence[AlertState], verb: str) -> None:
        if alert.state not in allowed:
            raise Conflict(f"{alert.reference} is {alert.state.value} and can't be {verb}.")

    @staticmethod
    async def _audit(uow: UnitOfWork, actor: str, action: str, alert: Alert, **detail: object) -> None:
        await uow.audit.append(
            AuditEntry(
                actor=actor, action=action, subject=alert.reference or "", detail={"alert_id": alert.id, **detail}
            )
        )
