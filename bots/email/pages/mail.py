"""The two emails the pages send themselves: the sign-up's confirmation, and a fresh manage link.

These go straight to the relay from the request, not through delivery rows:
before the address is confirmed there is no resident to hang a row on (and
nothing may be stored), and the person is waiting to hear whether it went.
Both carry the one-click unsubscribe headers, like every email Lookout sends.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bots.email.compose import build_email
from bots.email.links import LinkSigner, Purpose
from bots.email.mailer import Mailer, MailError, SmtpTarget
from bots.email.templates import render
from core.force import ForceConfig

SEND_TIMEOUT_SECONDS = 15.0  # the person is waiting on the page


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

    def __init__(self, target: SmtpTarget, sender: str, signer: LinkSigner, force: ForceConfig) -> None:
        self._target = target
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
            sender=self._sender, to=to, subject=subject,
            text=render(f"mail/{template}.txt", **values), html=render(f"mail/{template}.html", **values),
            unsubscribe_url=values["unsubscribe_url"],
        )
        # One connection per message: the pages send a handful an hour, and a kept-open
        # connection would need closing when the app stops.
        mailer = Mailer(self._target)
        try:
            async with asyncio.timeout(SEND_TIMEOUT_SECONDS):
                await mailer.send(message)
        except TimeoutError:
            raise MailError("mail relay too slow") from None
        finally:
            await mailer.aclose()
