"""Notes to officers about how delivery is going, queued through the outbox like every other message.

Today one: Telegram refused a paid broadcast for want of Stars, so urgent
alerts fall back to the free rate. Every refused message says so, and so
may every worker process; officers are told once per alert, in the thread
of the alert's card (or, without a card, to the officer who sent it).
"""

from __future__ import annotations

from core.clock import Clock
from core.delivery.priority import Priority
from core.model import Address, AuditEntry, Channel, MessageKind
from core.ports import UnitOfWorkFactory
from core.rendering import escape_slack_mrkdwn
from core.services.roles import SLACK_USER_ID, SYSTEM_ACTOR

PAID_REFUSED = "paid_broadcast_refused"  # the audit action: also how "once" is known across processes


class OfficerNotices:
    def __init__(self, uow: UnitOfWorkFactory, *, slack: bool, clock: Clock) -> None:
        self._uow = uow
        self._slack = slack  # notices go to Slack; without it the audit (and the log) keep the fact
        self._clock = clock

    async def paid_broadcast_refused(self, alert_id: int, channel: Channel, reason: str) -> bool:
        """Tell officers once that ``channel`` refused a paid broadcast of the alert (or its update/cancellation)
        and urgent alerts now go at the free rate. True when this call queued the notice."""
        now = self._clock()
        async with self._uow() as uow:
            alert = await uow.alerts.get(alert_id, for_update=True)
            if alert is not None and alert.original_id is not None:
                alert = await uow.alerts.get(alert.original_id, for_update=True)
            if alert is None or alert.id is None:
                return False
            # The alert's row is locked until commit: a second worker waits here, then sees the entry.
            if any(
                entry.action == PAID_REFUSED for entry in await uow.audit.entries(alert.reference or "", limit=1000)
            ):
                return False
            await uow.audit.append(
                AuditEntry(
                    actor=SYSTEM_ACTOR,
                    action=PAID_REFUSED,
                    subject=alert.reference or "",
                    detail={"alert_id": alert.id, "channel": channel.value, "reason": reason[:200]},
                )
            )
            to = await self._where(uow, alert.id, alert.author) if self._slack else None
            if to is not None:
                body = (
                    f":warning: *{channel.value.capitalize()} refused a paid broadcast* of "
                    f"{escape_slack_mrkdwn(alert.reference or '')} ({escape_slack_mrkdwn(reason[:200])}). "
                    "Urgent alerts now go at the free rate, so they take longer to reach everyone. "
                    "Top up the bot's Stars balance, then restart the delivery workers to send at the paid rate again."
                )
                message_id = await uow.outbox.new_message(MessageKind.OFFICER_NOTICE, alert_id=alert.id, body=body)
                await uow.outbox.queue_to(message_id, to, None, now, priority=Priority.URGENT)
            await uow.commit()
        return to is not None

    @staticmethod
    async def _where(uow, alert_id: int, author: str) -> Address | None:  # noqa: ANN001 - a UnitOfWork
        """The thread of the alert's card, else the officer who wrote it (a Slack user), else nobody."""
        card = await uow.watches.address_of(alert_id)
        if card is not None and card.channel is Channel.SLACK:
            return card
        return Address(Channel.SLACK, author) if SLACK_USER_ID.match(author) else None
