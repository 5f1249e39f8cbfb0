"""Platform reports on sent messages (WhatsApp ``statuses``), written onto their delivery rows.

A report finds its row by (address, provider message id), the pair
``ix_deliveries_address_provider`` indexes. Times only move forward: a late
"delivered" never overwrites an earlier one, and "read" implies delivered.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from core.model import DeliveryState, MessageKind, Receipt, ReceiptStatus
from storage.tables import deliveries, messages, residents

# Only alerts have a template to fall back on when the 24-hour window turns out to be closed.
_TEMPLATE_KINDS = (MessageKind.ALERT.value, MessageKind.ALERT_UPDATE.value, MessageKind.ALERT_CANCEL.value)


class SqlReceipts:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def record(self, receipt: Receipt, now: datetime) -> bool:
        d = deliveries
        row = (
            await self._conn.execute(
                select(d.c.id, d.c.state, d.c.resident_id, d.c.updated_at, messages.c.kind)
                .select_from(d.join(messages, messages.c.id == d.c.message_id))
                .where(d.c.address == str(receipt.address), d.c.provider_message_id == receipt.provider_message_id)
                .limit(1)
            )
        ).first()
        if row is None:
            return False
        if receipt.status is ReceiptStatus.DELIVERED:
            await self._conn.execute(
                update(d).where(d.c.id == row.id, d.c.delivered_at.is_(None)).values(delivered_at=receipt.at)
            )
        elif receipt.status is ReceiptStatus.READ:
            await self._conn.execute(
                update(d)
                .where(d.c.id == row.id)
                .values(
                    read_at=func.coalesce(d.c.read_at, receipt.at),
                    delivered_at=func.coalesce(d.c.delivered_at, receipt.at),
                )
            )
        elif receipt.status is ReceiptStatus.FAILED and row.state == DeliveryState.SENT.value:
            await self._failed(row, receipt, now)
        return True

    async def _failed(self, row, receipt: Receipt, now: datetime) -> None:  # noqa: ANN001 - a result row
        d = deliveries
        error = (receipt.error or "the platform reported the message failed")[:500]
        if receipt.window_closed and row.kind in _TEMPLATE_KINDS and row.resident_id is not None:
            # Accepted, then refused as outside the 24-hour window: our record of their last message was
            # wrong. Forget it (unless they wrote again since this was sent) so the retry goes as the template.
            await self._conn.execute(
                update(residents)
                .where(residents.c.id == row.resident_id, residents.c.last_inbound_at <= row.updated_at)
                .values(last_inbound_at=None)
            )
            await self._conn.execute(
                update(d)
                .where(d.c.id == row.id)
                .values(state=DeliveryState.PENDING.value, next_attempt_at=now, last_error=error, updated_at=now)
            )
            return
        await self._conn.execute(
            update(d).where(d.c.id == row.id).values(state=DeliveryState.DEAD.value, last_error=error, updated_at=now)
        )
        if receipt.recipient_gone and row.resident_id is not None:
            await self._conn.execute(update(residents).where(residents.c.id == row.resident_id).values(active=False))
