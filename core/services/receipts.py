"""Platform reports on messages already sent (delivered, read, failed), onto their delivery rows.

Officers see from these how far an alert reached and how many read it. A
failure reported after the platform had accepted a message is final for that
row (``dead`` with the platform's reason), except a WhatsApp alert refused as
outside the 24-hour window: that goes again, as the approved template.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from core.clock import Clock
from core.model import Receipt, ReceiptStatus
from core.ports import UnitOfWorkFactory

logger = logging.getLogger("lookout.receipts")


class ReceiptService:
    def __init__(self, uow: UnitOfWorkFactory, *, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def record(self, receipts: Sequence[Receipt]) -> int:
        """Apply the reports in one transaction; returns how many matched a delivery."""
        if not receipts:
            return 0
        now = self._clock()
        matched = 0
        async with self._uow() as uow:
            for receipt in receipts:
                matched += await uow.receipts.record(receipt, now)
            await uow.commit()
        failed = sum(r.status is ReceiptStatus.FAILED for r in receipts)
        if failed:
            logger.info("%d message(s) reported failed by %s", failed, receipts[0].address.channel.value)
        return matched
