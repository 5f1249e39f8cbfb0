"""What the pages remember between requests, in the inbound-update log every web process shares.

- A confirmation link is acted on once: its use is recorded, and a second
  press says "already confirmed" and changes nothing (so choices changed
  since are not overwritten by an old link).
- A tip form is sent once: a reload or a double press does not file it twice.
- At most ``MAILS_PER_HOUR`` emails a clock hour go to one address from the
  pages, so the form cannot be used to flood someone's inbox.

Keys are HMACs (with the link secret) of the token or address, so the log
holds neither, and nobody holding the log can test a guessed address
against it. The log's rows are purged after two days, longer than any
confirmation link lives (24 hours).
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from core.clock import Clock
from core.ports import UnitOfWorkFactory

CONFIRMED = "email-confirm"
TIP_SENT = "email-tip"
MAIL_SENT = "email-mail"
MAILS_PER_HOUR = 3
# A use begun but never finished this long ago was lost with its process: it may be taken again.
STALE_AFTER = timedelta(minutes=5)
# An hour's mail slot is never taken again: the hour is over long before this.
SLOT_STALE_AFTER = timedelta(days=1)


class Ledger:
    def __init__(self, uow: UnitOfWorkFactory, secret: str, *, clock: Clock) -> None:
        self._uow = uow
        self._key = hmac.new(secret.encode(), b"lookout-pages-ledger", hashlib.sha256).digest()
        self._clock = clock

    def _fingerprint(self, text: str) -> str:
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()[:48]

    async def begin(self, kind: str, secret_text: str) -> str | None:
        """The ledger key if this is the first use of ``secret_text`` for ``kind``; ``None`` if it was used."""
        key = self._fingerprint(secret_text)
        return key if await self._begin(kind, key, STALE_AFTER) else None

    async def take_mail_slot(self, address: str) -> str | None:
        """Reserve one of this hour's emails to ``address``; ``None`` when the hour's allowance is spent."""
        hour = self._clock().strftime("%Y%m%d%H")
        who = self._fingerprint(address)
        for slot in range(MAILS_PER_HOUR):
            key = f"{who}:{hour}:{slot}"
            if await self._begin(MAIL_SENT, key, SLOT_STALE_AFTER):
                return key
        return None

    async def finish(self, kind: str, key: str) -> None:
        async with self._uow() as work:
            await work.inbound.finish(kind, key, self._clock())
            await work.commit()

    async def undo(self, kind: str, key: str) -> None:
        """The action failed: as if it was never begun (an email not sent does not count against the address)."""
        async with self._uow() as work:
            await work.inbound.forget(kind, key)
            await work.commit()

    async def _begin(self, kind: str, key: str, stale_after: timedelta) -> bool:
        async with self._uow() as work:
            fresh = await work.inbound.begin(kind, key, self._clock(), stale_after)
            await work.commit()
        return fresh
