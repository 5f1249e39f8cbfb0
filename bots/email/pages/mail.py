"""The two emails the pages send themselves: the sign-up's confirmation, and a fresh manage link.

These go to the relay from the web process, not through delivery rows:
before the address is confirmed there is no resident to hang a row on (and
nothing may be stored). The confirmation is sent while the person waits, to
tell them whether it went; a manage link is queued (``ManageLinks``) so the
page answers in the same time whether or not the address is signed up. Both
take their turn from the relay's pace (``LOOKOUT_EMAIL_PER_SECOND``: one schedule
in the database shared with the delivery workers, on SQLite as on PostgreSQL) and carry the one-click unsubscribe
headers, like every email Lookout sends.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bots.email.compose import build_email
from bots.email.links import LinkSigner, Purpose
from bots.email.mailer import Mailer, MailError, SmtpTarget
from bots.email.pages.ledger import MAIL_SENT, Ledger
from bots.email.templates import render
from core.delivery.ratelimit import Pacer
from core.errors import NotFound
from core.force import ForceConfig
from core.model import Address
from core.services.subscriptions import SubscriptionService

logger = logging.getLogger("lookout.email")

SEND_TIMEOUT_SECONDS = 15.0  # the person is waiting on the page (the wait for the relay's pace included)
QUEUED_LINKS = 1000  # far more than the hourly cap lets in


@dataclass(frozen=True)
class Choices:
    """A sign-up's choices, in words (for the confirmation email and page)."""

    places: tuple[str, ...]
    topics: tuple[str, ...]
    sector: str | None


def choices_in_words(force: ForceConfig, payload: dict) -> Choices:
    topics = force.topics
    sectors = force.sectors
    return Choices(
        places=tuple(str(p.get("label", "")) for p in payload.get("places", [])),
        topics=tuple(topics[k].label for k in payload.get("topics", []) if k in topics),
        sector=sectors[payload["sector"]].label if payload.get("sector") in sectors else None,
    )


class PageMail:
    """Composes and sends the pages' emails; ``MailError`` when the relay does not take one."""

    def __init__(self, target: SmtpTarget, sender: str, signer: LinkSigner, force: ForceConfig, pacer: Pacer) -> None:
        self._target = target
        self._pacer = pacer
        self._sender = sender
        self._signer = signer
        self._force = force

    async def confirmation(self, email: str, payload: dict) -> None:
        values = {
            "force_name": self._force.name,
            "confirm_url": self._signer.url(Purpose.CONFIRM, payload),
            "unsubscribe_url": self._signer.unsubscribe_url(email),
            "choices": choices_in_words(self._force, payload),
        }
        await self._send(email, f"Confirm your {self._force.name} alerts", "confirm", values)

    async def manage_link(self, email: str) -> None:
        values = {
            "force_name": self._force.name,
            "manage_url": self._signer.manage_url(email),
            "unsubscribe_url": self._signer.unsubscribe_url(email),
        }
        await self._send(email, f"Your link to change your {self._force.name} alerts", "manage_link", values)

    async def _send(self, to: str, subject: str, template: str, values: dict) -> None:
        message = build_email(
            sender=self._sender,
            to=to,
            subject=subject,
            text=render(f"mail/{template}.txt", **values),
            html=render(f"mail/{template}.html", **values),
            unsubscribe_url=values["unsubscribe_url"],
        )
        # One connection per message: the pages send a handful an hour, and a kept-open
        # connection would need closing when the app stops.
        mailer = Mailer(self._target)
        try:
            async with asyncio.timeout(SEND_TIMEOUT_SECONDS):
                await self._pacer.acquire()
                await mailer.send(message)
        except TimeoutError:
            raise MailError("mail relay too slow") from None
        finally:
            await mailer.aclose()


class ManageLinks:
    """Fresh manage links, sent from a queue outside the request.

    The page does the same work for every address (the ledger's count, a place
    in this queue) and answers at once; only here, later, does it matter whether
    the address is signed up: a subscriber gets a link, anyone else nothing.
    A link still queued when the process stops is not sent (the person asks again).
    """

    def __init__(self, mail: PageMail, ledger: Ledger, subscriptions: SubscriptionService) -> None:
        self._mail = mail
        self._ledger = ledger
        self._subscriptions = subscriptions
        self._queue: asyncio.Queue[tuple[Address, str]] = asyncio.Queue(QUEUED_LINKS)
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def request(self, address: Address, slot: str) -> None:
        """Queue a link for ``address`` (``slot``: its ledger slot, finished once sent or found unneeded)."""
        try:
            self._queue.put_nowait((address, slot))
        except asyncio.QueueFull:
            logger.warning("a manage link was not queued: %d are waiting", QUEUED_LINKS)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="manage-links")

    async def stop(self) -> None:
        """Let a link under way finish (its mail is bounded by SEND_TIMEOUT_SECONDS); the queued ones are dropped.
        Cancelling mid-link would break its database connection as the process closes its engine."""
        if self._task is None:
            return
        self._stopping.set()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        stopping = asyncio.create_task(self._stopping.wait())
        try:
            while True:
                taking = asyncio.create_task(self._queue.get())
                await asyncio.wait({taking, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if stopping.done():
                    taking.cancel()
                    return
                address, slot = taking.result()
                try:
                    await self._send(address, slot)
                except Exception:  # one link's failure must not stop the others
                    logger.exception("a fresh manage link failed")
        finally:
            stopping.cancel()

    async def _send(self, address: Address, slot: str) -> None:
        try:
            await self._subscriptions.get(address)
        except NotFound:
            await self._ledger.finish(MAIL_SENT, slot)  # counted all the same, as for a subscriber
            return
        try:
            await self._mail.manage_link(address.id)
        except MailError as failure:
            await self._ledger.undo(MAIL_SENT, slot)
            logger.warning(
                "a fresh manage link was not sent: %s", "refused" if failure.permanent else "relay unavailable"
            )
            return
        await self._ledger.finish(MAIL_SENT, slot)
        logger.info("a fresh manage link was sent")
