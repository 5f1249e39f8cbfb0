"""Audit entries for what the alert and tip services do not record themselves: refusals above all.

Someone who is not allowed to act (not an officer, a supervisor approving their
own alert) changes nothing, but the attempt is kept with who and when.
"""
from __future__ import annotations

from core.model import AuditEntry
from core.ports import UnitOfWorkFactory

MAX_ACTOR = 64
MAX_ACTION = 32
MAX_SUBJECT = 64


class AuditService:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def record(self, actor: str, action: str, subject: str = "", **detail: object) -> None:
        # The subject may come from what someone typed (``/alert cancel <anything>``): keep it to the column's size.
        entry = AuditEntry(actor=actor[:MAX_ACTOR], action=action[:MAX_ACTION], subject=subject[:MAX_SUBJECT], detail=dict(detail))
        async with self._uow() as uow:
            await uow.audit.append(entry)
            await uow.commit()

    async def refused(self, actor: str, attempted: str, subject: str = "", *, reason: str) -> None:
        """``actor`` tried ``attempted`` (``raise``, ``approve``, …) and was refused for ``reason``."""
        await self.record(actor, "refused", subject, attempted=attempted, reason=reason)

    async def entries(self, subject: str | None = None, limit: int = 100) -> list[AuditEntry]:
        async with self._uow(read_only=True) as uow:
            return await uow.audit.entries(subject, limit)
