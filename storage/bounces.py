"""Bounce counts: how many times in a row an address refused a message for good.

Kept on the resident's row, so erasing the resident erases the count, and
shared by every worker process through the database. The email adapter asks
after each refusal and, at the configured limit, reports the recipient gone
(the delivery engine then makes the resident inactive, as for a blocked bot).
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from core.model import Address
from storage.database import read_transaction, write_transaction
from storage.tables import residents


class SqlBounceCounts:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def bounced(self, address: Address) -> int:
        async with write_transaction(self._engine) as conn:
            result = await conn.execute(
                update(residents)
                .where(residents.c.address == str(address))
                .values(bounces=residents.c.bounces + 1)
                .returning(residents.c.bounces)
            )
            return result.scalar_one_or_none() or 0

    async def delivered(self, address: Address) -> None:
        # Read first: almost every address has no bounces, and a read never waits for writers (SQLite WAL).
        async with read_transaction(self._engine) as conn:
            count = (
                await conn.execute(select(residents.c.bounces).where(residents.c.address == str(address)))
            ).scalar()
        if count:
            async with write_transaction(self._engine) as conn:
                await conn.execute(update(residents).where(residents.c.address == str(address)).values(bounces=0))
