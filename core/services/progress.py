"""How an alert's delivery is going, for the officer who sent it, and the status messages that show it.

``report`` reads the per-channel, per-state counts of the alert's deliveries
plus what the counts alone do not say (who blocked the bot, who is waiting for
quiet hours, when the last delivery finished). ``watch`` / ``claim`` /
``renew`` / ``finish`` keep track of the officer-facing status messages under
a lease, so a web process that dies mid-delivery hands its messages to the
next one and the final report still appears.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.clock import Clock
from core.errors import NotFound
from core.model import Address, Alert, Channel, DeliveryState
from core.ports import ProgressWatch, UnitOfWorkFactory

_WAITING = (DeliveryState.PENDING, DeliveryState.SENDING, DeliveryState.FAILED)


@dataclass(frozen=True)
class DeliveryReport:
    alert: Alert
    by_channel: dict[Channel, dict[DeliveryState, int]]
    unreachable: int  # dead because the resident blocked the bot or is gone
    held: int  # waiting for the residents' quiet hours
    last_change_at: datetime | None
    limit_held: int = 0  # waiting for a place in WhatsApp's daily messaging limit
    limit_skipped: int = 0  # never sent: the alert ended while they waited for the daily limit

    def count(self, *states: DeliveryState, channel: Channel | None = None) -> int:
        chosen = [self.by_channel.get(channel, {})] if channel is not None else list(self.by_channel.values())
        return sum(per_state.get(s, 0) for per_state in chosen for s in states)

    @property
    def total(self) -> int:
        return self.count(*DeliveryState)

    @property
    def sent(self) -> int:
        return self.count(DeliveryState.SENT)

    @property
    def blocked(self) -> int:
        return self.unreachable

    @property
    def failed(self) -> int:
        """Given up on for another reason than the resident having gone."""
        return self.count(DeliveryState.DEAD) - self.unreachable

    @property
    def skipped(self) -> int:
        return self.count(DeliveryState.SKIPPED)

    @property
    def retrying(self) -> int:
        return self.count(DeliveryState.FAILED)

    @property
    def waiting(self) -> int:
        """Not finished yet: pending (including quiet-hour holds), in flight, or failed and due to be retried."""
        return self.count(*_WAITING)

    @property
    def done(self) -> bool:
        return self.waiting == 0

    def eta(self, now: datetime) -> timedelta | None:
        """How long the rest will take at the pace so far (None until something is done, or once all is)."""
        finished = self.total - self.waiting
        if self.done or finished <= 0 or self.alert.sent_at is None:
            return None
        elapsed = max((now - self.alert.sent_at).total_seconds(), 0.0)
        return timedelta(seconds=elapsed * (self.waiting - self.held - self.limit_held) / finished)

    @property
    def took(self) -> timedelta | None:
        """From sending to the last delivery's outcome (once done)."""
        if not self.done or self.alert.sent_at is None:
            return None
        end = self.last_change_at or self.alert.sent_at
        return max(end - self.alert.sent_at, timedelta(0))


class ProgressService:
    def __init__(self, uow: UnitOfWorkFactory, *, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def report(self, alert_id: int) -> DeliveryReport:
        async with self._uow(read_only=True) as uow:
            alert = await uow.alerts.get(alert_id)
            if alert is None:
                raise NotFound(f"There is no alert with id {alert_id}.")
            if alert.message_id is None:  # not sent (yet)
                return DeliveryReport(alert, {}, 0, 0, None)
            by_channel = await uow.outbox.progress(alert.message_id)
            summary = await uow.reports.delivery_summary(alert.message_id)
        return DeliveryReport(
            alert,
            by_channel,
            summary.unreachable,
            summary.held,
            summary.last_change_at,
            summary.limit_held,
            summary.limit_skipped,
        )

    # --- status messages -----------------------------------------------------------------

    async def watch(self, alert_id: int, address: Address) -> None:
        """Keep the message at ``address`` current with the alert's delivery until it is done."""
        async with self._uow() as uow:
            await uow.watches.add(alert_id, address, self._clock())
            await uow.commit()

    async def claim(self, lease: timedelta, limit: int = 20) -> list[ProgressWatch]:
        async with self._uow() as uow:
            claimed = await uow.watches.claim(lease, limit)
            await uow.commit()
        return claimed

    async def renew(self, alert_id: int, lease: timedelta, *, changed: bool) -> datetime:
        """Hold the watch for another ``lease``; ``changed`` records that the message was just updated."""
        now = self._clock()
        async with self._uow() as uow:
            await uow.watches.renew(alert_id, lease, updated_at=now if changed else None)
            await uow.commit()
        return now

    async def card_of(self, alert_id: int) -> Address | None:
        """Where the alert's status message is, if it has one."""
        async with self._uow(read_only=True) as uow:
            return await uow.watches.address_of(alert_id)

    async def move(self, alert_id: int, address: Address) -> None:
        async with self._uow() as uow:
            await uow.watches.move(alert_id, address)
            await uow.commit()

    async def finish(self, alert_id: int) -> None:
        async with self._uow() as uow:
            await uow.watches.finish(alert_id, self._clock())
            await uow.commit()
