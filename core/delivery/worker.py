"""The delivery worker: claims due rows, sends them at each platform's pace, records what happened.

One asyncio task per channel claims that channel's rows (so a slow Slack
never holds up Telegram), a pool of senders works through them under the
channel's pacer and per-chat spacing, and a flusher writes the outcomes back
in batches. A row is leased while it is in this process; if the process dies
the lease runs out and another worker sends it again — at most one duplicate
per row in flight, never a loss. If the database goes away (a restart), the
worker says so once, keeps its unrecorded outcomes, and carries on when it is
back: claims back off, rows it could not prepare wait without using an attempt.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from core.alert_photos import photo_link
from core.channels import in_service_window
from core.clock import Clock
from core.delivery.allowance import ALLOWANCE_WINDOW, REFUSED_HOLD, needs_place
from core.delivery.holds import DAILY_LIMIT_HOLD, QUIET_HOLD, quiet_hours_end
from core.delivery.policy import RetryPolicy
from core.delivery.priority import Priority
from core.delivery.ratelimit import HEADROOM, ChatSpacer, ChatTurns, Pacer, SharedPacer, SlotSource
from core.model import Alert, AlertPhoto, AlertState, Channel, DeliveryState, MessageKind, Urgency
from core.outages import Outage, StorageUnavailable
from core.outbound import ChannelAdapter, DeliveryResult, OutboundMessage
from core.ports import ClaimedDelivery, Outcome, UnitOfWork, UnitOfWorkFactory
from core.rendering import photo_withdrawn_text, render_alert, with_photo, with_whatsapp_window
from core.services.notices import OfficerNotices
from core.tip_rendering import (
    render_reply_to_tipster,
    render_thread_root,
    render_tip_follow_up,
    render_tip_for_officers,
    render_tip_seen,
)

logger = logging.getLogger("lookout.worker")

CLAIM_RETRY_SECONDS = 2.0
ALERT_CACHE_SIZE = 1000
RENDERED_CACHE_SIZE = 10_000
ALERT_KINDS = (MessageKind.ALERT, MessageKind.ALERT_UPDATE, MessageKind.ALERT_CANCEL, MessageKind.ALERT_RESOLVED)
# Follow-ups that must go whatever became of the alert (they are what became of it).
CLOSING_KINDS = (MessageKind.ALERT_CANCEL, MessageKind.ALERT_RESOLVED)
ENDED_STATES = {AlertState.CANCELLED: "cancelled", AlertState.RESOLVED: "resolved"}
# Telegram lets a bot delete its own messages for 48 hours; an hour's margin for clocks and queues.
TELEGRAM_DELETE_WINDOW = timedelta(hours=47)
PHOTO_CACHE_SIZE = 8  # photos are up to a few hundred kB; a broadcast needs one
THREADED_TIP_KINDS = (MessageKind.TIP_TO_OFFICERS, MessageKind.TIP_FOLLOW_UP)
BODY_KINDS = (MessageKind.OFFICER_NOTICE, MessageKind.TIP_REDACTION)  # rendered when queued: the text is stored
THREAD_WAIT = timedelta(seconds=1)
SENDER_WINDOW_S = 0.5  # senders per channel: this many seconds' worth at its rate (see _sender_count)
MIN_SENDERS = 4


@dataclass(frozen=True)
class WorkerConfig:
    lease: timedelta = timedelta(seconds=60)
    idle_poll: float = 0.2  # seconds between claims when there is nothing to do
    flush_interval: float = 0.2
    flush_size: int = 500
    max_in_flight: int = 200  # concurrent sends per channel
    max_claim: int = 1000
    # Claim about this many seconds' worth at the channel's rate: short, so an urgent alert written
    # meanwhile is claimed (and jumps the rows waiting here) within about a second.
    claim_seconds_of_work: float = 2.0


class DeliveryWorker:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        adapters: Mapping[Channel, ChannelAdapter],
        *,
        force_name: str,
        timezone: str = "Europe/London",
        alert_template: str = "police_alert",  # WhatsApp: the approved template for alerts outside the 24-hour window
        policy: RetryPolicy = RetryPolicy(),
        config: WorkerConfig = WorkerConfig(),
        slot_source: SlotSource | None = None,
        shared_channels: Collection[Channel] | None = None,  # the channels paced through slot_source (None: all)
        rates: Mapping[Channel, float | None] | None = None,
        paid_rates: Mapping[Channel, float] | None = None,
        daily_limits: Mapping[Channel, int | None] | None = None,
        notices: OfficerNotices | None = None,
        public_url: str | None = None,  # where the public can fetch an appeal's photo (WhatsApp, email, SMS)
        clock: Clock,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._uow = uow
        self._adapters = dict(adapters)
        self._force_name = force_name
        self._alert_template = alert_template
        self._public_url = public_url
        self._photos: dict[int, AlertPhoto | None] = {}
        self._zone = ZoneInfo(timezone)
        self._policy = policy
        self._config = config
        self._clock = clock
        self._monotonic = monotonic
        self._rng = random.Random()

        def source(channel: Channel) -> SlotSource | None:
            return slot_source if shared_channels is None or channel in shared_channels else None

        self._pacers = {
            c: self._pacer(c, a, source(c), (rates or {}).get(c, _DEFAULT), monotonic)
            for c, a in self._adapters.items()
        }
        # Paid lanes (Telegram's paid broadcast): urgent alerts go at this rate instead, until refused for want of balance.
        self._paid_pacers = {
            c: self._pacer(c, self._adapters[c], source(c), rate, monotonic, lane="paid")
            for c, rate in (paid_rates or {}).items()
            if c in self._adapters
        }
        # People per rolling 24 hours a channel may reach outside their service window (WhatsApp's messaging limit).
        self._daily_limits = {c: n for c, n in (daily_limits or {}).items() if n is not None and c in self._adapters}
        self._notices = notices
        self._spacers = {c: ChatSpacer(a.limits.per_chat_interval, monotonic) for c, a in self._adapters.items()}
        self._chat_turns = {c: ChatTurns() for c in self._adapters}
        self._alerts: dict[int, Alert] = {}
        self._alert_loads: dict[int, asyncio.Future[Alert]] = {}  # alerts being read, so each is read once
        self._rendered: dict[tuple[object, ...], OutboundMessage] = {}
        self._outcomes: list[tuple[Outcome, int]] = []
        self._outstanding: dict[Channel, int] = {c: 0 for c in self._adapters}
        self._stopping = asyncio.Event()
        self._outage = Outage(logger, "delivery worker")

    @staticmethod
    def _pacer(
        channel: Channel,
        adapter: ChannelAdapter,
        source: SlotSource | None,
        rate: float | object | None,
        monotonic: Callable[[], float],
        *,
        lane: str = "",
    ) -> Pacer:
        """The channel's published rate less headroom, unless ``rates`` overrides it (None = unlimited)."""
        per_second = adapter.limits.messages_per_second * HEADROOM if rate is _DEFAULT else rate
        if per_second is None or source is None:
            return Pacer(per_second, monotonic)  # type: ignore[arg-type]
        key = f"channel:{channel.value}" + (f":{lane}" if lane else "")
        return SharedPacer(key, per_second, source, monotonic)  # type: ignore[arg-type]

    @property
    def adapters(self) -> Mapping[Channel, ChannelAdapter]:
        return self._adapters

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        """Deliver until ``stop()``; then finish what is in flight and give back the rest."""
        logger.info("delivery worker started for %s", ", ".join(c.value for c in self._adapters) or "no channels")
        flusher = asyncio.create_task(self._flush_periodically())
        try:
            await asyncio.gather(*(self._run_channel(c) for c in self._adapters))
        finally:
            # The flusher is told, not cancelled: a cancel landing mid-flush (or while the pool rolls its connection
            # back on return) breaks that connection as the process closes its engine, and logs a traceback.
            self._stopping.set()
            await asyncio.gather(flusher, return_exceptions=True)
            await self.flush()

    async def run_until_idle(self, idle_rounds: int = 2) -> None:
        """Deliver everything due now, then return (tests and one-shot runs)."""
        for _ in range(10_000):
            worked = await asyncio.gather(*(self._drain_once(c) for c in self._adapters))
            await self.flush()
            if not any(worked):
                idle_rounds -= 1
                if idle_rounds <= 0:
                    return

    # --- one channel ---------------------------------------------------------------

    async def _run_channel(self, channel: Channel) -> None:
        # In claim order (priority, turn): an urgent row claimed while routine ones wait here goes ahead of them.
        queue: asyncio.PriorityQueue[_Queued] = asyncio.PriorityQueue()
        senders = [asyncio.create_task(self._send_from(channel, queue)) for _ in range(self._sender_count(channel))]
        claim_size = self._claim_size(channel)
        try:
            while not self._stopping.is_set():
                # Rows count as outstanding from claim until their outcome is known,
                # including while they wait for a pacing slot: this bounds how long
                # any row sits in this process (well within its lease).
                room = claim_size - self._outstanding[channel]
                waiting = _lowest_priority_waiting(queue)
                if room < max(1, claim_size // 2) and waiting is None:
                    await self._sleep(self._config.idle_poll / 4)
                    continue
                began = self._outage.try_began()
                try:
                    if room < max(1, claim_size // 2):
                        # Full of less urgent rows: look for more urgent ones, and make way for them.
                        rows = await self._claim(channel, max(1, claim_size // 2), above=waiting)
                        await self._give_back_less_urgent(channel, queue, rows)
                        if not rows:
                            await self._sleep(self._config.idle_poll)
                            continue
                    else:
                        rows = await self._claim(channel, room)
                except StorageUnavailable as exc:  # the database restarting, say: wait for it, quietly
                    self._outage.failed(exc)
                    await self._sleep(self._outage.backoff())
                    continue
                except Exception:  # a bug: say so loudly, but keep the worker alive
                    logger.exception("could not claim %s deliveries; retrying shortly", channel.value)
                    await self._sleep(CLAIM_RETRY_SECONDS)
                    continue
                self._outage.recovered(began)
                self._outstanding[channel] += len(rows)
                for row in rows:
                    queue.put_nowait(_Queued(row))
                if not rows:
                    await self._sleep(self._config.idle_poll)
        finally:
            await self._stop_channel(channel, queue, senders)

    async def _stop_channel(
        self, channel: Channel, queue: asyncio.PriorityQueue[_Queued], senders: list[asyncio.Task[None]]
    ) -> None:
        """Give back rows not yet started, let sends under way finish, then stop the senders."""
        leftovers = []
        while not queue.empty():
            leftovers.append(queue.get_nowait().row.id)
            queue.task_done()
        self._outstanding[channel] -= len(leftovers)
        try:
            await asyncio.wait_for(queue.join(), timeout=30)
        except TimeoutError:
            logger.warning("some sends did not finish within 30 s of stopping; their leases will expire")
        for task in senders:
            task.cancel()
        await asyncio.gather(*senders, return_exceptions=True)
        if leftovers:
            try:
                async with self._uow() as uow:
                    await uow.deliveries.release(leftovers, self._clock())
                    await uow.commit()
            except StorageUnavailable as exc:
                logger.warning(
                    "could not give back %d unsent deliveries (%s); they return when their leases end",
                    len(leftovers),
                    exc,
                )

    async def _drain_once(self, channel: Channel) -> bool:
        rows = await self._claim(channel, self._claim_size(channel))
        semaphore = asyncio.Semaphore(self._config.max_in_flight)

        async def one(row: ClaimedDelivery) -> None:
            async with semaphore:
                await self._deliver(channel, row)

        await asyncio.gather(*(one(r) for r in rows))
        return bool(rows)

    async def _send_from(self, channel: Channel, queue: asyncio.PriorityQueue[_Queued]) -> None:
        while True:
            row = (await queue.get()).row
            try:
                await self._deliver(channel, row)
            finally:
                self._outstanding[channel] -= 1
                queue.task_done()

    def _sender_count(self, channel: Channel) -> int:
        """Enough concurrent sends for the channel's rate, and no more.

        A sender holds its row while it waits for a pacing slot, so every sender
        beyond what the rate needs is a row already out of the priority queue: an
        urgent row claimed now would queue behind them. Half a second's worth
        covers the platforms' answer times.
        """
        rates = [p.rate for p in (self._pacers[channel], self._paid_pacers.get(channel)) if p is not None]
        known = [rate for rate in rates if rate is not None]
        if len(known) < len(rates):
            return self._config.max_in_flight
        window = math.ceil(max(known) * SENDER_WINDOW_S)
        return min(self._config.max_in_flight, max(MIN_SENDERS, window))

    def _claim_size(self, channel: Channel) -> int:
        rate = self._pacers[channel].rate
        paid = self._paid_pacers.get(channel)
        if paid is not None and rate is not None:
            rate = None if paid.rate is None else max(rate, paid.rate)
        if rate is None:
            return self._config.max_claim
        # No more than a quarter of a lease's worth: rows must leave this process well before their lease ends.
        seconds = min(self._config.claim_seconds_of_work, self._config.lease.total_seconds() / 4)
        return max(1, min(self._config.max_claim, int(rate * seconds)))

    async def _claim(self, channel: Channel, limit: int, *, above: int | None = None) -> list[ClaimedDelivery]:
        """Lease due rows; ``above``: only those more urgent than that priority."""
        now = self._clock()
        # The lease is timed by the database's clock; this process keeps to it by its own monotonic clock, read
        # before asking, so its deadline falls no later than the lease's end whatever this machine's clock says.
        deadline = self._monotonic() + self._config.lease.total_seconds()
        async with self._uow() as uow:
            rows = await uow.deliveries.claim(channel, limit, now, self._config.lease, more_urgent_than=above)
            rows = await self._within_allowance(uow, channel, rows, now)
            await uow.commit()
        return [replace(row, lease_deadline=deadline) for row in rows]

    async def _within_allowance(
        self, uow: UnitOfWork, channel: Channel, rows: list[ClaimedDelivery], now: datetime
    ) -> list[ClaimedDelivery]:
        """The rows that may go now under the channel's daily limit; the others are held in this same transaction
        (pending, no attempt used) until a place frees for each, nearest first. Rows about to be skipped or held
        for another reason, and residents inside their service window, take no place."""
        limit = self._daily_limits.get(channel)
        if limit is None or not rows:
            return rows
        asking = [row for row in rows if needs_place(channel, row, now) and self._skip_or_hold(row, now) is None]
        if not asking:
            return rows
        grant = await uow.allowance.take(channel, [str(row.address) for row in asking], limit, now, ALLOWANCE_WINDOW)
        refused = [
            address for address in dict.fromkeys(str(row.address) for row in asking) if address not in grant.granted
        ]
        if not refused:
            return rows
        retry_at = dict(zip(refused, grant.retry_at, strict=False))
        held = [
            Outcome(
                row.id,
                DeliveryState.PENDING,
                row.attempts,
                next_attempt_at=retry_at[str(row.address)],
                error=DAILY_LIMIT_HOLD,
            )
            for row in asking
            if str(row.address) in retry_at
        ]
        await uow.deliveries.record(held, now)
        logger.info(
            "%s daily limit (%d people per 24 hours): %d deliveries held until places free",
            channel.value,
            limit,
            len(held),
        )
        held_ids = {outcome.delivery_id for outcome in held}
        return [row for row in rows if row.id not in held_ids]

    async def _give_back_less_urgent(
        self, channel: Channel, queue: asyncio.PriorityQueue[_Queued], rows: list[ClaimedDelivery]
    ) -> None:
        """Rows waiting here that are less urgent than ``rows`` go back to the queue, for whichever worker is free
        once the urgent ones are out: this process keeps only about a claim's worth of work."""
        if not rows:
            return
        best = min(row.priority for row in rows)
        kept: list[_Queued] = []
        returned: list[_Queued] = []
        while not queue.empty():
            item = queue.get_nowait()
            queue.task_done()
            (returned if item.row.priority > best else kept).append(item)
        for item in kept:
            queue.put_nowait(item)
        if not returned:
            return
        self._outstanding[channel] -= len(returned)
        try:
            async with self._uow() as uow:
                await uow.deliveries.release([item.row.id for item in returned], self._clock())
                await uow.commit()
        except StorageUnavailable as exc:
            logger.warning(
                "could not give back %d less urgent deliveries (%s); they return when their leases end",
                len(returned),
                exc,
            )

    # --- one delivery ----------------------------------------------------------------

    async def _deliver(self, channel: Channel, row: ClaimedDelivery) -> None:
        try:
            outcome = await self._decide_and_send(channel, row)
        except StorageUnavailable as exc:
            # Not sent: reading the row's tip or reserving a shared send slot needs the database.
            self._outage.failed(exc)
            outcome = self._not_attempted(row, "waiting for the database")
        except Exception as exc:  # a bug or an adapter crash must not lose the row: retry it later
            logger.exception("delivery %s failed unexpectedly", row.id)
            outcome = self._failure(row, DeliveryResult.retry(f"internal error: {type(exc).__name__}"))
        if outcome is None:
            return
        self._outcomes.append((outcome, row.message_id))
        if len(self._outcomes) >= self._config.flush_size:
            await self.flush()

    async def _decide_and_send(self, channel: Channel, row: ClaimedDelivery) -> Outcome | None:
        """The row's outcome, or None when its lease ran out before it could be sent."""
        now = self._clock()
        held = self._skip_or_hold(row, now)
        if held is not None:
            return held
        # One send at a time to each chat, in the order the rows were claimed, so a
        # thread of tips (or an alert and its update) arrives in the order it was written.
        async with self._chat_turns[channel].turn(row.address.id):
            message = await self._render(channel, row)
            paid = self._paid_lane(channel, row)
            if paid is not None:
                message = replace(message, paid_broadcast=True)
            await self._spacers[channel].wait_turn(row.address.id)
            await (paid or self._pacers[channel]).acquire()
            if row.lease_deadline is not None and row.lease_deadline <= self._monotonic():
                # Kept too long here (a long 429 pause, say): another worker may have it
                # now. Leave it alone rather than risk sending it twice.
                logger.warning("delivery %s: lease ran out before sending; leaving it to be claimed again", row.id)
                return None
            result = await self._adapters[channel].send(row.address, message)
        if result.ok:
            return Outcome(
                row.id,
                DeliveryState.SENT,
                row.attempts + 1,
                provider_message_id=result.provider_message_id,
                tip_post=row.kind is MessageKind.TIP_TO_OFFICERS and row.tip_id is not None,
            )
        if result.over_daily_limit:
            # Meta counted differently (another number of the portfolio, say): wait for a place, as if we had known.
            return Outcome(
                row.id,
                DeliveryState.PENDING,
                row.attempts,
                next_attempt_at=self._clock() + REFUSED_HOLD,
                error=DAILY_LIMIT_HOLD,
            )
        if result.paid_refused:
            await self._end_paid_lane(channel, result.error or "refused", row)
        if result.retry_after and result.pause_channel:
            self._pacers[channel].pause(result.retry_after)
        return self._failure(row, result)

    def _paid_lane(self, channel: Channel, row: ClaimedDelivery) -> Pacer | None:
        """The paid pacer when this row may go as a paid broadcast: an urgent alert, update or cancellation."""
        if row.priority != Priority.URGENT or row.kind not in ALERT_KINDS:
            return None
        return self._paid_pacers.get(channel)

    async def _end_paid_lane(self, channel: Channel, reason: str, row: ClaimedDelivery) -> None:
        """The platform will not take paid sends (no balance): back to the free rate, said once in the log and
        once to the officers (the notice service makes it once across every worker)."""
        if self._paid_pacers.pop(channel, None) is None:
            return
        logger.warning(
            "%s refused a paid broadcast (%s): urgent alerts now go at the free rate; top up the balance and restart",
            channel.value,
            reason,
        )
        if self._notices is not None and row.alert_id is not None:
            try:
                await self._notices.paid_broadcast_refused(row.alert_id, channel, reason)
            except Exception:  # the officers' notice must never cost a delivery
                logger.exception("could not queue the officers' notice of the refused paid broadcast")

    def _failure(self, row: ClaimedDelivery, result: DeliveryResult) -> Outcome:
        now = self._clock()
        if not result.retryable:
            reason = result.permanent_reason or result.error or "refused by the platform"
            gone = row.resident_id if result.recipient_gone else None
            return Outcome(row.id, DeliveryState.DEAD, row.attempts + 1, error=reason, deactivate_resident=gone)
        throttled = result.retry_after is not None
        attempts = row.attempts if throttled else row.attempts + 1
        if self._policy.exhausted(attempts):
            return Outcome(
                row.id, DeliveryState.DEAD, attempts, error=f"gave up after {attempts} attempts: {result.error}"
            )
        wait = result.retry_after if result.retry_after is not None else self._policy.delay(attempts, None, self._rng)
        return Outcome(
            row.id, DeliveryState.FAILED, attempts, next_attempt_at=now + timedelta(seconds=wait), error=result.error
        )

    def _not_attempted(self, row: ClaimedDelivery, reason: str) -> Outcome:
        """Back to the queue shortly, without using up one of its attempts."""
        retry_at = self._clock() + timedelta(seconds=self._outage.backoff())
        return Outcome(row.id, DeliveryState.FAILED, row.attempts, next_attempt_at=retry_at, error=reason)

    def _skip_or_hold(self, row: ClaimedDelivery, now: datetime) -> Outcome | None:
        def skipped(reason: str) -> Outcome:
            return Outcome(row.id, DeliveryState.SKIPPED, row.attempts, error=reason)

        if row.resident_id is not None and row.resident_erased:
            return skipped("erased")
        if row.resident_id is not None and not row.resident_active:
            return skipped("inactive")
        if row.kind in THREADED_TIP_KINDS and row.reply_to is None and row.thread_waiting:
            # The thread's root is not posted yet: wait for it (not an attempt), so the tip lands in its thread.
            return Outcome(
                row.id,
                DeliveryState.PENDING,
                row.attempts,
                next_attempt_at=now + THREAD_WAIT,
                error="waiting for its thread",
            )
        if row.kind not in ALERT_KINDS:
            return None
        if row.kind not in CLOSING_KINDS:
            if row.alert_state in ENDED_STATES:
                return skipped(ENDED_STATES[row.alert_state])
            if row.alert_state is AlertState.EXPIRED or (row.alert_expires_at and row.alert_expires_at <= now):
                return skipped("expired")
        if row.paused_until is not None and row.paused_until > now:
            return skipped("paused")
        if row.quiet_hours is not None and row.urgency is not Urgency.IMMEDIATE:
            release = quiet_hours_end(row.quiet_hours, now, self._zone)
            if release is not None:
                return Outcome(row.id, DeliveryState.PENDING, row.attempts, next_attempt_at=release, error=QUIET_HOLD)
        return None

    async def _render(self, channel: Channel, row: ClaimedDelivery) -> OutboundMessage:
        if row.kind in ALERT_KINDS and row.alert_id is not None:
            window_open = channel is Channel.WHATSAPP and in_service_window(row.last_inbound_at, self._clock())
            # Every recipient of an alert on a channel reads the same message (but for what it replies to and,
            # on WhatsApp, whether the 24-hour window is open): render it once, not once per recipient.
            key = (row.alert_id, row.kind, channel, row.reply_to, window_open)
            message = self._rendered.get(key)
            if message is None:
                message = await self._render_alert(channel, row, window_open)
                if len(self._rendered) >= RENDERED_CACHE_SIZE:
                    self._rendered.clear()  # alert text never changes once sent; this only bounds memory
                self._rendered[key] = message
            return message
        if row.kind in BODY_KINDS:
            async with self._uow(read_only=True) as uow:
                body = await uow.outbox.body(row.message_id)
            return OutboundMessage(text=body or "", in_place=row.kind is MessageKind.TIP_REDACTION)
        if row.kind is MessageKind.TIP_TO_OFFICERS and row.tip_id is None:
            return await self._erased_tip_post(row)
        if row.kind is MessageKind.TIPS_THREAD and row.thread_key:
            return render_thread_root(row.thread_key, await self._alert(row.alert_id) if row.alert_id else None)
        if row.tip_id is not None:
            async with self._uow(read_only=True) as uow:
                tip = await uow.tips.get(row.tip_id)
                note = await uow.tips.note(row.note_id) if row.note_id is not None else None
                photos = await uow.tips.photos(row.tip_id) if row.kind is MessageKind.TIP_TO_OFFICERS else []
            if tip is None and row.kind is MessageKind.TIP_TO_OFFICERS:
                return await self._erased_tip_post(row)  # erased since this row was claimed
            if tip is None:
                raise LookupError(f"tip {row.tip_id} of delivery {row.id} is gone")
            if row.kind is MessageKind.TIP_TO_OFFICERS:
                alert = await self._alert(tip.alert_id) if tip.alert_id else None
                return render_tip_for_officers(tip, alert, photos, reply_to=row.reply_to)
            if row.kind is MessageKind.TIP_SEEN:
                return render_tip_seen(tip, self._force_name, channel)
            if note is not None and row.kind is MessageKind.TIP_FOLLOW_UP:
                return render_tip_follow_up(tip, note, reply_to=row.reply_to)
            if note is not None and row.kind is MessageKind.REPLY_TO_TIPSTER:
                return render_reply_to_tipster(tip, note, self._force_name, channel)
        raise LookupError(f"no renderer for {row.kind.value} message {row.message_id}")

    async def _render_alert(self, channel: Channel, row: ClaimedDelivery, window_open: bool) -> OutboundMessage:
        assert row.alert_id is not None
        alert = await self._alert(row.alert_id)
        original = await self._alert(alert.original_id) if row.kind in CLOSING_KINDS and alert.original_id else None
        photo = await self._photo(alert.original_id or alert.id)  # type: ignore[arg-type]
        shared = photo is not None and row.kind is MessageKind.ALERT_RESOLVED
        message = render_alert(
            alert, self._force_name, channel, reply_to=row.reply_to, original=original, photo_shared=shared
        )
        if photo is not None and row.kind is MessageKind.ALERT:
            link = (
                photo_link(self._public_url, alert.reference or "", photo.token) if photo.withdrawn_at is None else None
            )
            message = with_photo(message, channel, photo.data, link)
        if shared and channel is Channel.TELEGRAM and original is not None and row.reply_to:
            young = original.sent_at is not None and self._clock() - original.sent_at < TELEGRAM_DELETE_WINDOW
            message = replace(
                message, withdraw_photo=photo_withdrawn_text(original, self._force_name), delete_photo=young
            )
        if channel is Channel.WHATSAPP:
            message = with_whatsapp_window(
                message, alert, self._alert_template, window_open=window_open, photo_shared=shared
            )
        return message

    async def _photo(self, alert_id: int) -> AlertPhoto | None:
        """The appeal's photo (read once per worker: it never changes, but for being withdrawn or purged)."""
        if alert_id not in self._photos:
            async with self._uow(read_only=True) as uow:
                photo = await uow.photos.of_alert(alert_id)
            if len(self._photos) >= PHOTO_CACHE_SIZE:
                self._photos.clear()
            self._photos[alert_id] = photo
        return self._photos[alert_id]

    async def _erased_tip_post(self, row: ClaimedDelivery) -> OutboundMessage:
        """A tip post whose tipster was erased before it went (SubscriptionService.erase): the tip without them,
        in its thread, from the text the erasure left on the message."""
        async with self._uow(read_only=True) as uow:
            body = await uow.outbox.body(row.message_id)
        if body is None:
            raise LookupError(f"tip post {row.message_id} of delivery {row.id} is gone")
        return OutboundMessage(text=body, reply_to=row.reply_to)

    async def _alert(self, alert_id: int) -> Alert:
        alert = self._alerts.get(alert_id)
        if alert is not None:
            return alert
        # The first rows of a broadcast reach here together, one per sender: one read serves them all.
        loading = self._alert_loads.get(alert_id)
        if loading is None:
            loading = asyncio.ensure_future(self._load_alert(alert_id))
            self._alert_loads[alert_id] = loading
            loading.add_done_callback(lambda _: self._alert_loads.pop(alert_id, None))
        return await asyncio.shield(loading)  # a sender stopped meanwhile does not cancel the others' read

    async def _load_alert(self, alert_id: int) -> Alert:
        async with self._uow(read_only=True) as uow:
            alert = await uow.alerts.get(alert_id)
        if alert is None:
            raise LookupError(f"alert {alert_id} is gone")
        if len(self._alerts) >= ALERT_CACHE_SIZE:
            self._alerts.clear()  # alert text never changes once sent; this only bounds memory
        self._alerts[alert_id] = alert
        return alert

    # --- writing back ------------------------------------------------------------------

    async def flush(self) -> None:
        if not self._outcomes:
            return
        batch, self._outcomes = self._outcomes, []
        now = self._clock()
        began = self._outage.try_began()
        try:
            async with self._uow() as uow:
                await uow.deliveries.record([o for o, _ in batch], now)
                await uow.deliveries.finish_alerts(sorted({m for _, m in batch}), now)
                await self._rewrite_erased_tip_posts(
                    uow, [o.delivery_id for o, _ in batch if o.tip_post and o.state is DeliveryState.SENT], now
                )
                await uow.commit()
        except Exception as exc:
            # Keep the outcomes and try again on the next flush: the rows stay
            # leased meanwhile, and if we die they are sent again (not lost).
            self._outcomes[:0] = batch
            if isinstance(exc, StorageUnavailable):
                self._outage.failed(exc)
            else:
                logger.exception("could not record %d delivery outcomes; will retry", len(batch))
            return
        self._outage.recovered(began)

    @staticmethod
    async def _rewrite_erased_tip_posts(uow: UnitOfWork, landed: list[int], now: datetime) -> None:
        """Tip posts drawn with their tipster that landed after the tipster was erased: queue the edit that takes
        them off (in the transaction that records the landing, which the erasure's lock on the row orders against)."""
        if not landed:
            return
        for post, text in await uow.outbox.erased_tip_posts(landed):
            message_id = await uow.outbox.new_message(MessageKind.TIP_REDACTION, body=text)
            await uow.outbox.queue_to(message_id, post, None, now, priority=Priority.EXPECTED)

    async def _flush_periodically(self) -> None:
        while not self._stopping.is_set():
            await self._sleep(self._config.flush_interval)
            await self.flush()

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except TimeoutError:
            pass


_DEFAULT = object()


def _lowest_priority_waiting(queue: asyncio.PriorityQueue[_Queued]) -> int | None:
    """The least urgent priority among rows waiting for a sender, when some are not urgent (else None)."""
    waiting = [item.row.priority for item in queue._queue]  # type: ignore[attr-defined]  # a peek, nothing taken
    worst = max(waiting, default=None)
    return worst if worst else None


@dataclass(frozen=True)
class _Queued:
    """A claimed row waiting in this process for a sender, ordered as the claim orders rows."""

    row: ClaimedDelivery

    def __lt__(self, other: _Queued) -> bool:
        return (self.row.priority, self.row.turn, self.row.id) < (other.row.priority, other.row.turn, other.row.id)
