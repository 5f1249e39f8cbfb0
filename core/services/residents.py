"""Services about residents that the bots call (the subscription journey grows here)."""

from __future__ import annotations

import logging
from datetime import datetime

from core.model import Address
from core.ports import UnitOfWorkFactory

logger = logging.getLogger("lookout.residents")


class ResidentService:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def mark_unreachable(self, address: Address) -> bool:
        """The resident blocked the bot (or their account is gone): stop sending to them.

        Returns False when nobody is subscribed at that address.
        """
        async with self._uow() as uow:
            resident = await uow.residents.get_by_address(address)
            if resident is None or not resident.active:
                return False
            resident.active = False
            await uow.residents.save(resident)
            await uow.commit()
        logger.info("a %s resident blocked the bot; no more alerts go to them", address.channel.value)
        return True

    async def note_inbound(self, address: Address, at: datetime) -> bool:
        """The resident wrote to us at ``at``: WhatsApp lets us answer freely for 24 hours from then.

        Returns False when nobody is subscribed at that address (nothing is stored about strangers).
        """
        async with self._uow() as uow:
            resident = await uow.residents.get_by_address(address)
            if resident is None or resident.id is None:
                return False
            if resident.last_inbound_at is None or at > resident.last_inbound_at:
                await uow.residents.save_activity(resident.id, at)
                await uow.commit()
        return True
