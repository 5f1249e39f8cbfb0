"""The storage the core needs, as protocols; ``storage/`` implements them.

Services open a unit of work, use its repositories, and commit once: a
service call is one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Protocol

from core.geo.cells import Cover
from core.geo.nearness import Nearness
from core.model import (
    Address,
    Alert,
    AlertPhoto,
    AlertState,
    AlertStatus,
    AlertType,
    Audience,
    AuditEntry,
    Channel,
    DeliveryState,
    MessageKind,
    QuietHours,
    Receipt,
    Resident,
    Tip,
    TipNote,
    TipPhoto,
    TipState,
    Urgency,
)


@dataclass(frozen=True)
class RecipientCriteria:
    """Who an alert is for: the area's cover plus the alert's filters.

    A resident matches when one of their places lies in the cover, they are
    active, not erased and not paused at ``at``, testers only for practice
    alerts, and:
    - as a resident (no sector): subscribed to ``all`` or to one of ``topics``;
    - as a business (a sector): their sector is in ``sectors``, or, when the
      alert names no sectors, subscribed as above.
    """

    cover: Cover
    topics: tuple[str, ...]
    sectors: tuple[str, ...]
    audience: Audience
    testers_only: bool
    at: datetime
    everyone: bool = False  # every resident in the area whatever their topics (businesses still by the audience rule)
    nearness: Nearness | None = None  # when writing rows: the distances that order them nearest first


ChannelCounts = dict[Channel, int]


class ResidentRepository(Protocol):
    async def add(self, resident: Resident) -> Resident: ...
    async def get(self, resident_id: int) -> Resident | None: ...
    async def get_by_address(self, address: Address) -> Resident | None: ...
    async def is_subscribed(self, address: Address) -> bool:
        """Whether ``address`` has a subscription (one cheap query: no places or topics loaded)."""

    async def save(self, resident: Resident) -> None: ...
    async def save_activity(self, resident_id: int, at: datetime) -> None: ...
    async def save_flags(self, resident: Resident) -> None:
        """Save the resident's own settings (pause, quiet hours, language, flags), not places or topics."""

    async def tips_of(self, resident_id: int) -> list[Tip]: ...
    async def messages_received(self, resident_id: int) -> int: ...

    async def erase(self, resident_id: int) -> None:
        """Delete the resident and everything about them: places, topics, tips, delivery rows."""


class AlertRepository(Protocol):
    async def add(self, alert: Alert) -> Alert:
        """Store a new alert, giving it an id and a reference like ``A-2026-000123``."""

    async def get(self, alert_id: int, *, for_update: bool = False) -> Alert | None:
        """``for_update``: lock the row until the transaction ends (a change that depends on its state)."""

    async def get_by_reference(self, reference: str, *, for_update: bool = False) -> Alert | None: ...
    async def save(self, alert: Alert) -> None: ...
    async def recent(self, limit: int) -> list[Alert]: ...
    async def follow_ups(self, original_id: int) -> list[Alert]: ...
    async def due_to_send(self, now: datetime) -> list[Alert]:
        """Scheduled alerts whose send_at has come (locked for this transaction)."""

    async def due_to_expire(self, now: datetime) -> list[Alert]: ...


class Outbox(Protocol):
    """Outbound messages and their delivery rows."""

    async def new_message(
        self,
        kind: MessageKind,
        *,
        alert_id: int | None = None,
        tip_id: int | None = None,
        note_id: int | None = None,
        thread_key: str | None = None,
        body: str | None = None,  # the text itself, for kinds rendered when queued (notices, redactions)
    ) -> int: ...

    async def body(self, message_id: int) -> str | None:
        """The text stored with a message rendered when it was queued (OFFICER_NOTICE, TIP_REDACTION)."""
        ...

    async def detach_tip_post(self, message_id: int, body: str) -> None:
        """A tip's post still on its way when its tipster is erased: it outlives the tip, as ``body``
        (the tip without who sent it), and goes as that."""

    async def erased_tip_posts(self, delivery_ids: Sequence[int]) -> list[tuple[Address, str]]:
        """Of these tip posts (sent as rendered from their tip), those detached on their way (their tipster
        erased meanwhile): each post's own address and the text that must replace it."""

    async def queue_to(
        self, message_id: int, address: Address, resident_id: int | None, now: datetime, *, priority: int
    ) -> None:
        """One pending delivery of ``message_id`` to a single address (a tip, a reply)."""

    async def count_recipients(self, criteria: RecipientCriteria) -> ChannelCounts: ...

    async def queue_for_recipients(
        self, message_id: int, criteria: RecipientCriteria, now: datetime, *, priority: int
    ) -> ChannelCounts:
        """One pending delivery per matching resident, nearest first (by ``criteria.nearness``),
        sharing each channel fairly with the rows of the same ``priority`` already waiting;
        returns rows written per channel."""

    async def queue_copy(
        self,
        message_id: int,
        from_message_ids: Sequence[int],
        states: Sequence[DeliveryState],
        now: datetime,
        *,
        priority: int,
    ) -> ChannelCounts:
        """One pending delivery per address that has a delivery of ``from_message_ids`` in ``states``,
        in the order those were (nearest first)."""

    async def skip_unsent(self, message_ids: Sequence[int], reason: str, now: datetime) -> int:
        """Mark pending and retryable-failed deliveries of ``message_ids`` skipped."""

    async def progress(self, message_id: int) -> dict[Channel, dict[DeliveryState, int]]: ...

    async def queued_ahead(self, priority: int, now: datetime) -> dict[tuple[Channel, int], int]:
        """Rows still to send and due now, of ``priority`` or more urgent, per (channel, priority)."""


@dataclass(frozen=True)
class ClaimedDelivery:
    """A delivery row leased to this worker, with what is needed to decide and render it.

    Resident and alert state are read at claim time, so a pause, an erasure or
    a cancellation that happened after the alert was sent is honoured.
    """

    id: int
    message_id: int
    kind: MessageKind
    address: Address
    attempts: int
    alert_id: int | None
    alert_state: AlertState | None
    alert_expires_at: datetime | None
    urgency: Urgency | None
    reply_to: str | None  # the provider id of the original alert (or of the tips thread's root) at this address
    resident_id: int | None
    tip_id: int | None = None
    note_id: int | None = None
    thread_key: str | None = None
    thread_waiting: bool = False  # the tips thread's root is not posted yet
    lease_until: datetime | None = None  # by the database's clock: for reading, not for comparing with this machine's
    lease_deadline: float | None = None  # the worker's own monotonic reading by which the lease has surely not ended
    resident_active: bool = True
    resident_erased: bool = False
    paused_until: datetime | None = None
    quiet_hours: QuietHours | None = None
    last_inbound_at: datetime | None = None  # the resident's last message to us (WhatsApp's 24-hour window)
    priority: int = 0  # see core/delivery/priority.py: lower goes first
    turn: int = 0  # place in its channel's queue within the priority (nearest first, alerts sharing fairly)


@dataclass(frozen=True)
class Outcome:
    """What to write back for one claimed row."""

    delivery_id: int
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime | None = None
    provider_message_id: str | None = None
    error: str | None = None
    deactivate_resident: int | None = None
    tip_post: bool = False  # a tip's post drawn from the tip itself: checked as it lands for an erasure on its way


class DeliveryQueue(Protocol):
    async def claim(
        self, channel: Channel, limit: int, now: datetime, lease: timedelta, *, more_urgent_than: int | None = None
    ) -> list[ClaimedDelivery]:
        """Lease up to ``limit`` due rows of ``channel`` (pending/failed and due, or sending with an expired lease),
        most urgent first; ``more_urgent_than``: only rows of a lower priority number than that. A lease lasts
        ``lease`` by the database's clock, and ends by it: machines' clocks differ, the database's is one."""

    async def record(self, outcomes: Sequence[Outcome], now: datetime) -> None: ...

    async def release(self, delivery_ids: Sequence[int], now: datetime) -> None:
        """Give leased rows back unsent (a worker stopping)."""

    async def release_expired_leases(self, now: datetime) -> int:
        """Rows whose lease has ended (by the database's clock) back to pending; ``now`` stamps the change."""

    async def finish_alerts(self, message_ids: Sequence[int], now: datetime) -> int:
        """Mark alerts ``sent`` whose deliveries are all done; returns how many changed."""

    async def quiet_holds(self) -> list[tuple[int, QuietHours | None]]:
        """Residents with deliveries held for quiet hours, and their quiet hours now."""

    async def release_holds(self, resident_ids: Sequence[int], now: datetime) -> int:
        """Make those residents' held deliveries due now."""


@dataclass(frozen=True)
class RepliedMessage:
    """What a resident's reply points at: a message Lookout sent to them."""

    kind: MessageKind
    alert_id: int | None
    tip_id: int | None
    headline: str | None = None  # the alert's, when it is one (said back to the resident)


@dataclass(frozen=True)
class TipPost:
    """A tip's post to the officers' queue: made (``address`` is the post's own, ``slack:<channel>/<ts>``) or
    still on its way (``address`` None: queued, or being sent)."""

    tip: Tip
    message_id: int
    address: Address | None


class TipRepository(Protocol):
    async def add(self, tip: Tip, photos: Sequence[TipPhoto], now: datetime) -> Tip:
        """Store a tip with its photos, giving it an id and a reference like ``T-2026-000045``."""

    async def get(self, tip_id: int) -> Tip | None: ...
    async def get_by_reference(self, reference: str) -> Tip | None: ...
    async def set_state(self, tip_id: int, state: TipState, *, expected: TipState | None = None) -> bool:
        """Set the state (only if it is still ``expected``, when given); True if the row changed."""

    async def count_since(self, resident_id: int, since: datetime) -> int:
        """What the resident sent officers since then: tips and answers to officers (flood control counts both)."""
        ...

    async def posts_of(self, resident_id: int) -> list[TipPost]:
        """The posts of the resident's tips to the officers' queue, made or still on their way (not those that
        failed for good). Their delivery rows stay locked until the transaction ends, so a worker can neither
        take a queued one nor record a landed one meanwhile: an erasure sees each post as it is."""
        ...

    async def officer_replied(self, tip_id: int) -> bool:
        """Whether an officer has written to the tipster about this tip (only then may the tipster answer on it)."""
        ...

    async def mark_seen_told(self, tip_id: int, now: datetime) -> bool:
        """Note that the tipster is being told an officer has seen the tip; True only the first time (once per tip)."""
        ...

    async def photos(self, tip_id: int) -> list[TipPhoto]: ...
    async def add_note(self, note: TipNote) -> TipNote: ...
    async def note(self, note_id: int) -> TipNote | None: ...
    async def notes(self, tip_id: int) -> list[TipNote]: ...

    async def thread_root(self, key: str) -> int | None:
        """The root message of a tips thread, if it was started."""

    async def start_thread(self, key: str, alert_id: int | None, message_id: int, now: datetime) -> int:
        """Record ``message_id`` as the thread's root; if another transaction got there first, return theirs."""

    async def replied_to(self, address: Address, provider_message_id: str) -> RepliedMessage | None:
        """The message sent to ``address`` that the platform knows as ``provider_message_id``."""

    async def latest_sent(self, address: Address, since: datetime) -> RepliedMessage | None:
        """The newest alert or officer's reply sent to ``address`` since ``since``: on a channel without replies
        (SMS), what a message from them most likely answers."""


@dataclass(frozen=True)
class Backlog:
    """Deliveries due now on one channel, and how long the oldest has waited."""

    due: int
    oldest_due_seconds: float


class OperationalCounts(Protocol):
    """What /metrics reports about the queue and the tips."""

    async def deliveries_by_state(self) -> dict[tuple[Channel, DeliveryState], int]: ...

    async def due_backlog(self, now: datetime) -> dict[Channel, Backlog]: ...
    async def tips_by_state(self) -> dict[TipState, int]: ...


class Receipts(Protocol):
    """Platform reports on messages already sent (delivered, read, failed), written onto their delivery rows."""

    async def record(self, receipt: Receipt, now: datetime) -> bool:
        """Apply one report; False when no delivery matches (a conversation reply, or a purged row)."""


class InboundLog(Protocol):
    """Which inbound updates (Telegram update_id, WhatsApp wamid, …) were seen, so each is handled once."""

    async def begin(self, source: str, update_id: str, now: datetime, stale_after: timedelta) -> bool:
        """True if this update should be handled now: never seen, or seen but left
        unfinished for longer than ``stale_after`` by the database's clock (the process handling it died)."""

    async def finish(self, source: str, update_id: str, now: datetime) -> None: ...

    async def forget(self, source: str, update_id: str) -> None:
        """Handling failed: let the platform's retry handle it again."""

    async def count(self, source: str, prefix: str) -> int:
        """How many entries of ``source`` have an id starting with ``prefix`` (the pages count their emails so)."""


@dataclass(frozen=True)
class FeedbackCounts:
    """Residents' answers to "was this alert useful?"."""

    useful: int = 0
    not_useful: int = 0

    @property
    def total(self) -> int:
        return self.useful + self.not_useful


class AlertFeedback(Protocol):
    """Residents' "Useful / Not useful" answers: one per resident per alert."""

    async def was_sent(self, alert_id: int, resident_id: int) -> bool:
        """Whether the alert went (or is going out right now) to the resident: only they may answer it."""
        ...

    async def record(self, alert_id: int, resident_id: int, channel: Channel, useful: bool, now: datetime) -> None:
        """The resident's answer; a second answer replaces the first (it never counts twice)."""

    async def counts(self, alert_id: int) -> dict[Channel, FeedbackCounts]:
        """The answers to an alert, per channel the residents answered from."""
        ...

    async def answers_of(self, resident_id: int) -> list[tuple[str, bool, datetime]]:
        """The resident's own answers (their "my data"): the alert's reference, useful or not, when; oldest first."""
        ...


class Retention(Protocol):
    # The purges delete at most ``limit`` rows each call and say how many: the caller commits between calls.
    async def purge_deliveries(self, finished_before: datetime, *, limit: int) -> int:
        """Delete finished (sent, dead, skipped) delivery rows last touched before the cut-off."""

    async def purge_tips(self, created_before: datetime, *, limit: int) -> int: ...

    async def purge_inbound(self, received_before: datetime, *, limit: int) -> int: ...

    async def unlink_feedback(self, answered_before: datetime, *, limit: int) -> int:
        """Take the resident off answers to alerts given before the cut-off (the counts stay, nobody's in them)."""
        ...

    async def forget_redaction_texts(self, refusals_before: datetime) -> int:
        """Clear the text of finished TIP_REDACTION messages and detached tip posts (an erased tipster's tip, kept
        only to edit its post or to send it);
        delete refusal counts older than the cut-off."""
        ...

    async def purge_conversations(self, idle_before: datetime) -> int:
        """Abandoned conversations: a non-resident's state goes entirely (typed addresses, language, the chat
        itself); a resident's keeps only their language. Returns how many were purged."""


class AlertPhotos(Protocol):
    """The photos of appeals, one per alert, kept as bytes so every process can serve and send them."""

    async def add(self, alert_id: int, photo: AlertPhoto) -> None: ...

    async def of_alert(self, alert_id: int) -> AlertPhoto | None:
        """The alert's photo (``data`` None once purged), or None when it has none."""

    async def withdraw(self, alert_id: int, at: datetime) -> bool:
        """Stop serving the alert's photo (it was resolved); True when there was one."""

    async def purge(self, created_before: datetime, now: datetime, *, limit: int) -> int:
        """Delete the bytes of photos older than the cut-off whose alert is no longer live (or is past its expiry);
        the row keeps its size and digest. At most ``limit``; says how many."""


class AuditLog(Protocol):
    async def append(self, entry: AuditEntry) -> None: ...
    async def count_refusal(self, actor: str, action: str, hour: datetime, source: str) -> int:
        """Add one to the refused attempts of (actor, action) in that hour; the count afterwards."""
        ...

    async def entries(self, subject: str | None = None, limit: int = 100) -> list[AuditEntry]: ...


CellCounts = dict[str, int]  # H3 cell → residents


@dataclass(frozen=True)
class ReachRow:
    """Deliveries of one message in one (minute, channel, state) group, with how many were reported delivered and
    read; the minute is when the row last changed state (for a sent row: when it was sent)."""

    minute: datetime
    channel: Channel
    state: DeliveryState
    count: int
    delivered: int
    read: int


@dataclass(frozen=True)
class DeliverySummary:
    """What the per-state counts of a message's deliveries do not say on their own."""

    unreachable: int  # dead because the resident blocked the bot or their account is gone (now inactive)
    held: int  # pending until the residents' quiet hours end
    last_change_at: datetime | None  # when a delivery of the message last changed state
    delivered: int = 0  # reported delivered to the phone (WhatsApp statuses; Telegram reports none)
    read: int = 0  # reported read
    limit_held: int = 0  # pending: held by WhatsApp's daily messaging limit until a place frees
    limit_skipped: int = 0  # never sent: still held by the daily limit when the alert expired or was cancelled


@dataclass(frozen=True)
class AlertCount:
    type: AlertType
    state: AlertState
    status: AlertStatus
    count: int


class Reports(Protocol):
    """Read-only figures for officers: where an alert's recipients are, how a delivery went, totals."""

    async def recipient_cells(self, criteria: RecipientCriteria) -> CellCounts:
        """Matching residents per H3 cell of the cover (a resident with two places in it counts in both)."""

    async def delivery_summary(self, message_id: int) -> DeliverySummary: ...

    async def reach_rows(self, message_id: int) -> list[ReachRow]:
        """A message's deliveries counted per minute, channel and state (for the alert's report)."""

    async def reach_cells(self, message_id: int, cover: Cover) -> dict[str, dict[DeliveryState, int]]:
        """A message's recipients per H3 cell of the cover and delivery state (a resident with two places in it
        counts in both)."""

    async def tips_about(self, alert_id: int) -> int:
        """How many tips residents sent about the alert."""

    async def subscribers(self) -> dict[Channel, int]:
        """Active, not erased residents per channel."""

    async def alert_counts(self, since: datetime) -> list[AlertCount]:
        """Alerts, updates and cancellations created since ``since``, by type, state and status."""

    async def alert_deliveries(self, since: datetime) -> dict[DeliveryState, int]:
        """Deliveries of alerts, updates and cancellations created since ``since``, by state."""


@dataclass(frozen=True)
class ProgressWatch:
    """An officer-facing message kept current with an alert's delivery progress (a Slack status message)."""

    alert_id: int
    address: Address  # for Slack ``slack:<channel>/<message ts>``: the message itself, updated in place
    created_at: datetime
    updated_at: datetime  # when the message was last changed


class ProgressWatches(Protocol):
    """Leased so that exactly one web process updates each message, and another takes over if it dies."""

    async def add(self, alert_id: int, address: Address, now: datetime) -> None: ...

    async def claim(self, lease: timedelta, limit: int) -> list[ProgressWatch]:
        """Lease unfinished watches that nobody holds (never leased, or the holder's lease ran out), for ``lease``
        by the database's clock (machines' clocks differ)."""

    async def renew(self, alert_id: int, lease: timedelta, *, updated_at: datetime | None = None) -> None: ...

    async def finish(self, alert_id: int, now: datetime) -> None: ...

    async def move(self, alert_id: int, address: Address) -> None:
        """The message was posted (a watch made with no message yet): where it is now."""

    async def address_of(self, alert_id: int) -> Address | None:
        """Where the alert's status message is (its card), if it has one."""
        ...


@dataclass(frozen=True)
class AllowanceGrant:
    """What ``MessagingAllowance.take`` decided: addresses that may go now, and when each refused one may try
    again (in the order they were asked for)."""

    granted: frozenset[str]
    retry_at: tuple[datetime, ...] = ()


class MessagingAllowance(Protocol):
    """A platform's allowance of unique people per rolling 24 hours (WhatsApp's messaging limit); see
    core/delivery/allowance.py. Taking places is serialised across workers (PostgreSQL) within the transaction."""

    async def take(
        self, channel: Channel, addresses: Sequence[str], limit: int, now: datetime, window: timedelta
    ) -> AllowanceGrant:
        """Count ``addresses`` (in this order: nearest first) against ``limit`` people per ``window``: those counted
        within the window go free, new ones while places are left; the rest are refused, each with the moment a
        place frees for it."""
        ...

    async def used(self, channel: Channel, now: datetime, window: timedelta) -> int:
        """People counted within the window."""
        ...

    async def needing_places(
        self, criteria: RecipientCriteria, channel: Channel, now: datetime, window: timedelta
    ) -> int:
        """How many of the residents the criteria match on ``channel`` would each take a new place now: outside
        their service window and not counted within the window."""
        ...


class UnitOfWork(Protocol):
    residents: ResidentRepository
    alerts: AlertRepository
    outbox: Outbox
    deliveries: DeliveryQueue
    retention: Retention
    inbound: InboundLog
    audit: AuditLog
    tips: TipRepository
    operations: OperationalCounts
    reports: Reports
    watches: ProgressWatches
    allowance: MessagingAllowance
    receipts: Receipts
    feedback: AlertFeedback
    photos: AlertPhotos

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Roll back anything not committed."""

    async def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    """A new unit of work per transaction. ``read_only=True`` for one that only reads:
    it never waits for writers (and must not write)."""

    def __call__(self, *, read_only: bool = False) -> UnitOfWork: ...


class BounceCounts(Protocol):
    """How often an address has refused our messages for good in a row (email bounces), kept with the resident."""

    async def bounced(self, address: Address) -> int:
        """Count one more refusal; returns the count now (0 when no resident has this address)."""

    async def delivered(self, address: Address) -> None:
        """The address took a message: its refusals in a row start again from none."""
