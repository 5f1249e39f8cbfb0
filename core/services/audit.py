"""Audit entries for what the alert and tip services do not record themselves: refusals above all.

Someone who is not allowed to act (not an officer, a supervisor approving their
own alert) changes nothing, but the attempt is kept with who and when. Refusals
are aggregated: the first of each (who, what, hour) is an audit row, the rest
only add to that hour's count, so pressing a forbidden button in a loop cannot
grow the append-only log without limit.
"""

from __future__ import annotations

from datetime import UTC

from core.clock import Clock
from core.model import AuditEntry
from core.origin import current_origin
from core.ports import UnitOfWorkFactory

MAX_ACTOR = 64
MAX_ACTION = 32
MAX_SUBJECT = 64


class AuditService:
    def __init__(self, uow: UnitOfWorkFactory, *, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def record(self, actor: str, action: str, subject: str = "", **detail: object) -> None:
        # The subject may come from what someone typed (``/alert cancel <anything>``): keep it to the column's size.
        entry = AuditEntry(
            actor=actor[:MAX_ACTOR], action=action[:MAX_ACTION], subject=subject[:MAX_SUBJECT], detail=dict(detail)
        )
        async with self._uow() as uow:
            await uow.audit.append(entry)
            await uow.commit()

    async def refused(self, actor: str, attempted: str, subject: str = "", *, reason: str) -> None:
        """``actor`` tried ``attempted`` (``raise``, ``approve``, …) and was refused for ``reason``.

        Counted per (actor, attempted, hour); only the first of the hour writes an audit row."""
        actor, attempted = actor[:MAX_ACTOR], attempted[:MAX_ACTION]
        hour = self._clock().astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        async with self._uow() as uow:
            count = await uow.audit.count_refusal(actor, attempted, hour, current_origin())
            if count == 1:
                await uow.audit.append(
                    AuditEntry(
                        actor=actor,
                        action="refused",
                        subject=subject[:MAX_SUBJECT],
                        detail={"attempted": attempted, "reason": reason, "counted_by_hour": True},
                    )
                )
            await uow.commit()

    async def entries(self, subject: str | None = None, limit: int = 100) -> list[AuditEntry]:
        async with self._uow(read_only=True) as uow:
            return await uow.audit.entries(subject, limit)
