"""Telling an officer how their action went, and turning failures into polite words.

Every action's slow part runs after Slack has had its answer, so outcomes go
back as an ephemeral message in the channel the officer was working in (or a
direct message when the app cannot post there). Nothing fails silently: core's
errors are shown as they are (they are written for people), anything else is
logged with its traceback and the officer gets an apology.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack_officer.deps import OfficerDeps
from core.errors import InvalidInput, LookoutError, NotAllowed

logger = logging.getLogger("lookout.slack")

SORRY = (
    "Sorry — something went wrong on our side while {doing}. Please check `/alert list` before trying again; "
    "the details are in Lookout's log."
)


@dataclass(frozen=True)
class Officer:
    """Who acted, and where to answer them."""

    user: str
    channel: str | None


async def tell(client: AsyncWebClient, officer: Officer, text: str) -> None:
    """An ephemeral note to the officer where they are, or a direct message when that is impossible."""
    if officer.channel:
        try:
            await client.chat_postEphemeral(channel=officer.channel, user=officer.user, text=text)
            return
        except SlackApiError as exc:
            logger.info(
                "ephemeral note in %s failed (%s); sending it as a direct message",
                officer.channel,
                exc.response.get("error"),
            )
    await client.chat_postMessage(channel=officer.user, text=text)


def invalid_text(exc: InvalidInput) -> str:
    return "Nothing was changed:\n" + "\n".join(f"• *{field}*: {problem}" for field, problem in exc.errors.items())


async def refuse(
    deps: OfficerDeps, client: AsyncWebClient, officer: Officer, attempted: str, subject: str, reason: str
) -> None:
    """Audit a refused attempt and tell the person why, politely."""
    try:
        await deps.audit.refused(officer.user, attempted, subject, reason=reason)
    except Exception:
        logger.exception("could not audit a refused %s by %s", attempted, officer.user)
    await tell(client, officer, reason)


async def carry_out(
    deps: OfficerDeps,
    client: AsyncWebClient,
    officer: Officer,
    *,
    action: str,
    subject: str,
    doing: str,
    work: Callable[[], Awaitable[None]],
) -> None:
    """Run an officer's action after the ack: core's refusals and errors become messages, the rest is logged."""
    try:
        await work()
    except NotAllowed as exc:
        await refuse(deps, client, officer, action, subject, str(exc))
    except InvalidInput as exc:
        await tell(client, officer, invalid_text(exc))
    except LookoutError as exc:
        await tell(client, officer, str(exc))
    except Exception:
        logger.exception("Slack %s of %s by %s failed", action, subject or "-", officer.user)
        try:
            await tell(client, officer, SORRY.format(doing=doing))
        except Exception:
            logger.exception("could not tell %s that %s failed", officer.user, action)
