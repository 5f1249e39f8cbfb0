"""Each inbound handled once, however often it arrives: the one service every door uses.

Platforms deliver again whatever they think failed: Telegram and WhatsApp retry
anything not answered 2xx, Slack retries a slow request, a person presses a
confirmation link twice or reloads a form. A door names each inbound by its
platform's own identity (``source`` and ``key``: Telegram's update_id, WhatsApp's
wamid, Slack's trigger_id or event_id, a page's keyed hash of a token) and

- ``claim``s it: handle it now only if it was never seen, or was seen but left
  unfinished for longer than ``stale_after`` (the process handling it died);
- ``finish``es it once handled: from then on it is a duplicate;
- ``forget``s it when handling failed, so the platform's retry is handled. When
  the database itself is what failed (a restart, a failover), forgetting fails
  too, and while the claim stands every retry would be answered "duplicate" and
  never handled: so a forget refused by an outage is tried again for about ten
  seconds (a restarting database is back by then). Given up, the claim lapses
  after ``stale_after`` instead.

``handle`` does the three around one piece of work. The log itself is the
``InboundLog`` port (storage/inbound.py), shared by every web process. A door
that writes its claim and its "finished" inside transactions of its own (the
Telegram webhook, with the conversation's reads and writes) uses the same log
and this service's ``forget``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import TypeVar

from core.clock import Clock
from core.outages import StorageUnavailable
from core.ports import UnitOfWorkFactory

logger = logging.getLogger("lookout.inbound")

T = TypeVar("T")

# A platform's update left unfinished this long was lost with its process (handling one takes well under a second).
STALE_AFTER = timedelta(seconds=60)
FORGET_RETRY_PAUSES_S = (0.5, 1.0, 2.0, 2.0, 2.0, 2.0)  # about 10 s: a restarting database is back by then
MAX_KEY = 128  # the log's column; a platform's id is far shorter, a forged one may not be


def stored_key(key: str) -> str:
    """The key as the log keeps it: itself when it is short printable ASCII (every genuine platform id is), else
    its SHA-256, so that a forged or odd id (too long, a NUL byte that PostgreSQL refuses) is still handled once."""
    if len(key) <= MAX_KEY and key.isascii() and key.isprintable():
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class AlreadyHandled:
    """What ``handle`` gives for an inbound handled (or being handled) before: answer the platform 2xx and drop it."""

    def __repr__(self) -> str:
        return "ALREADY_HANDLED"


ALREADY_HANDLED = AlreadyHandled()


class InboundOnce:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        *,
        clock: Clock,
        forget_pauses: Sequence[float] = FORGET_RETRY_PAUSES_S,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._forget_pauses = tuple(forget_pauses)
        self._sleep = sleep

    async def claim(self, source: str, key: str, *, stale_after: timedelta = STALE_AFTER) -> bool:
        """True if this inbound should be handled now (see the module's docstring)."""
        async with self._uow() as work:
            fresh = await work.inbound.begin(source, stored_key(key), self._clock(), stale_after)
            await work.commit()
        return fresh

    async def finish(self, source: str, key: str) -> None:
        async with self._uow() as work:
            await work.inbound.finish(source, stored_key(key), self._clock())
            await work.commit()

    async def forget(self, source: str, key: str) -> bool:
        """Handling failed (or an allowance taken was not used): let it be claimed again. Retried through a
        database outage; False when it could not be done (the claim then lapses after its ``stale_after``)."""
        pauses = list(self._forget_pauses)
        while True:
            try:
                async with self._uow() as work:
                    await work.inbound.forget(source, stored_key(key))
                    await work.commit()
                return True
            except StorageUnavailable:
                if not pauses:
                    break
                await self._sleep(pauses.pop(0))
            except Exception:
                logger.exception("%s inbound could not be released for its retry", source)
                return False
        logger.warning(
            "%s inbound could not be released for its retry (the database is away); it will be once its claim lapses",
            source,
        )
        return False

    async def count(self, source: str, prefix: str) -> int:
        """How many inbounds of ``source`` have a key starting with ``prefix`` (the email pages count their emails so)."""
        async with self._uow(read_only=True) as work:
            return await work.inbound.count(source, prefix)

    async def handle(
        self,
        source: str,
        key: str,
        work: Callable[[], Awaitable[T]],
        *,
        stale_after: timedelta = STALE_AFTER,
        failed: Callable[[T], bool] = lambda _result: False,
    ) -> T | AlreadyHandled:
        """Run ``work`` unless this inbound was handled (or is being handled) already: ``ALREADY_HANDLED`` then.
        If ``work`` raises, or its result is ``failed`` (a 5xx the platform will retry), the inbound is forgotten
        so that retry is handled; otherwise it is finished."""
        if not await self.claim(source, key, stale_after=stale_after):
            return ALREADY_HANDLED
        try:
            result = await work()
        except BaseException:
            await self.forget(source, key)
            raise
        if failed(result):
            await self.forget(source, key)
        else:
            await self.finish(source, key)
        return result
