"""What the pages remember between requests, through the inbound-once service (core/services/inbound_once.py)
whose log every web process shares.

- A confirmation link is acted on once: its use is recorded, and a second
  press says "already confirmed" and changes nothing (so choices changed
  since are not overwritten by an old link).
- A tip form is sent once: a reload or a double press does not file it twice.
- The pages' emails, and the sign-up's codes by text, are capped a clock
  hour: ``MAILS_PER_HOUR`` to one mailbox (``jo.e+x@gmail.com`` and
  ``joe@gmail.com`` are one mailbox) or one mobile number,
  ``MAILS_PER_CLIENT_HOUR`` asked for by one client address, and
  ``LOOKOUT_PAGE_EMAILS_PER_HOUR`` in all (emails and texts together), so the
  forms cannot be used to flood an inbox, a phone, the relay or the SMS bill,
  however the address is spelt.
- A code sent by text is tried at most ``CODE_TRIES`` times, right or wrong.

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
from core.services.inbound_once import InboundOnce

CONFIRMED = "email-confirm"
TIP_SENT = "email-tip"
MAIL_SENT = "email-mail"
MAIL_CLIENT = "email-client"
MAIL_ALL = "email-all"
CODE_TRIED = "sms-code-try"
CODE_CONFIRMED = "sms-code-confirm"
MAILS_PER_HOUR = 3  # to one mailbox (or one mobile number)
MAILS_PER_CLIENT_HOUR = 20  # asked for from one client address (a household, office or library may share one)
# A use begun but never finished this long ago was lost with its process: it may be taken again.
STALE_AFTER = timedelta(minutes=5)
# An hour's mail slot is never taken again: the hour is over long before this.
SLOT_STALE_AFTER = timedelta(days=1)


class Ledger:
    def __init__(self, inbound: InboundOnce, secret: str, *, mails_per_hour: int = 120, clock: Clock) -> None:
        self._inbound = inbound
        self._mails_per_hour = mails_per_hour
        self._key = hmac.new(secret.encode(), b"lookout-pages-ledger", hashlib.sha256).digest()
        self._clock = clock  # for the clock hour an email counts in

    def _fingerprint(self, text: str) -> str:
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()[:48]

    async def begin(self, kind: str, secret_text: str) -> str | None:
        """The ledger key if this is the first use of ``secret_text`` for ``kind``; ``None`` if it was used."""
        key = self._fingerprint(secret_text)
        return key if await self._inbound.claim(kind, key, stale_after=STALE_AFTER) else None

    async def take_mail_slot(self, address: str, client: str) -> str | None:
        """Reserve one of this hour's emails to ``address`` asked for by ``client`` (its IP address); ``None`` when
        the mailbox's, the client's or everyone's allowance for the hour is spent. The key returned is the
        mailbox's slot (``finish`` or ``undo`` it). A mailbox already at its allowance spends nothing else, so
        asking again and again for one address cannot use up everyone's emails."""
        hour = self._clock().strftime("%Y%m%d%H")
        slot = await self._take(MAIL_SENT, f"{self._fingerprint(mailbox_of(address))}:{hour}:", MAILS_PER_HOUR)
        if slot is None:
            return None
        if (
            await self._take(MAIL_CLIENT, f"{self._fingerprint('client:' + client)}:{hour}:", MAILS_PER_CLIENT_HOUR)
            is None
            or await self._take(MAIL_ALL, f"{hour}:", self._mails_per_hour) is None
        ):
            await self.undo(MAIL_SENT, slot)
            return None
        return slot

    async def take_try(self, kind: str, secret_text: str, allowance: int) -> str | None:
        """One of ``allowance`` tries at ``secret_text`` (a code's nonce); ``None`` when all were used. Tries are never given
        back: counting them before the check is what stops several guesses at once from getting past the limit."""
        key = await self._take(kind, f"{self._fingerprint(secret_text)}:", allowance)
        if key is not None:
            await self._inbound.finish(kind, key)
        return key

    async def _take(self, kind: str, prefix: str, allowance: int) -> str | None:
        used = await self._inbound.count(kind, prefix)
        for slot in range(used, allowance):  # from the count on: one try, unless another request took that slot
            key = f"{prefix}{slot}"
            if await self._inbound.claim(kind, key, stale_after=SLOT_STALE_AFTER):
                return key
        return None

    async def finish(self, kind: str, key: str) -> None:
        await self._inbound.finish(kind, key)

    async def undo(self, kind: str, key: str) -> None:
        """The action failed: as if it was never begun (an email not sent does not count against the address)."""
        await self._inbound.forget(kind, key)


def mailbox_of(address: str) -> str:
    """The mailbox an address (or mobile number) reaches, for counting: lower case, without a ``+tag`` and without dots before the @
    (many providers ignore both, so each variant would otherwise get an allowance of its own)."""
    if "@" not in address:
        return address  # a mobile number (E.164): one spelling already
    local, _, domain = address.lower().rpartition("@")
    return f"{local.split('+', 1)[0].replace('.', '')}@{domain}"
