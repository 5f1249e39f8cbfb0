"""The buttons on a tip in the tips channel: Acknowledge, Reply, Mark actioned, Mark spam / block.

Each press is acknowledged at once and worked after the answer. Acknowledge
and Mark actioned change the tip and redraw its message in place (chat.update)
with who did it; Reply opens a modal showing the tip (an audited view) with a
box for the reply; Mark spam asks first, in a small modal. Only officers may
work tips: anyone else is told so, politely, and the attempt is audited.
A press Slack sends again is dropped by the route's de-duplication.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack_officer.blocks.tips import reply_modal, spam_modal
from bots.slack_officer.deps import OfficerDeps, deps_of
from bots.slack_officer.replies import Officer, carry_out, refuse, tell
from bots.slack_officer.tip_cards import NOT_AN_OFFICER, change_state, redraw
from core.errors import Conflict
from core.model import TipState
from core.services.tips import NEXT_STATES

logger = logging.getLogger("lookout.slack")

ACK = re.compile(r"^tipq:ack:")
REPLY = re.compile(r"^tipq:reply:")
DONE = re.compile(r"^tipq:done:")
SPAM = re.compile(r"^tipq:spam:")
_BUTTON = re.compile(r"^tipq:(ack|reply|done|spam):(T-\d{4}-\d{6})$")

Work = Callable[["TipPress"], Awaitable[None]]


class TipPress:
    """One press of a tip's button: who, on which message (and thread), for which tip."""

    def __init__(self, deps: OfficerDeps, client: AsyncWebClient, body: dict[str, Any]) -> None:
        container = body.get("container") or {}
        message = body.get("message") or {}
        self.deps, self.client, self.body = deps, client, body
        self.channel: str = str(container.get("channel_id") or (body.get("channel") or {}).get("id") or "")
        self.ts: str = str(container.get("message_ts") or message.get("ts") or "")
        # The tip is a reply in its alert's (or day's) thread; notes about it go into the same thread.
        self.thread_ts: str = str(message.get("thread_ts") or container.get("thread_ts") or self.ts)
        self.officer = Officer(str(body["user"]["id"]), self.channel or None)
        action = (body.get("actions") or [{}])[0]
        found = _BUTTON.match(str(action.get("value") or action.get("action_id") or ""))
        if found is None or not self.channel or not self.ts:
            raise ValueError("not a tip button")
        self.reference = found.group(2)

    def metadata(self) -> dict[str, str]:
        """What a modal opened from this press needs to finish the job (Slack hands it back on submit)."""
        return {"ref": self.reference, "channel": self.channel, "ts": self.ts, "thread_ts": self.thread_ts}


async def _handle(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, *, action: str, doing: str, work: Work
) -> None:
    await ack()
    deps = deps_of(context)
    try:
        press = TipPress(deps, client, body)
    except (ValueError, KeyError, TypeError):
        logger.warning("a %s press carried no tip reference; ignored", action)
        officer = Officer(str((body.get("user") or {}).get("id", "")), (body.get("container") or {}).get("channel_id"))
        deps.tasks.spawn(
            tell(client, officer, "Sorry, that button doesn't belong to a tip I know. Nothing was changed."),
            name="unknown tip button",
        )
        return
    if not deps.roles.is_officer(press.officer.user):
        deps.tasks.spawn(
            refuse(deps, client, press.officer, action, press.reference, NOT_AN_OFFICER), name="tip refusal"
        )
        return

    async def run() -> None:
        async with deps.tip_lock(press.reference):
            await work(press)

    deps.tasks.spawn(
        carry_out(
            deps,
            client,
            press.officer,
            action=action,
            subject=press.reference,
            doing=doing.format(ref=press.reference),
            work=run,
        ),
        name=f"{action} {press.reference}",
    )


async def _acknowledge(p: TipPress) -> None:
    await change_state(p.deps, p.client, p.officer.user, p.reference, TipState.ACKNOWLEDGED, p.channel, p.ts)


async def _done(p: TipPress) -> None:
    await change_state(p.deps, p.client, p.officer.user, p.reference, TipState.ACTIONED, p.channel, p.ts)


async def _open_reply(p: TipPress) -> None:
    tip, photos, notes = await p.deps.tips.view(p.reference, p.officer.user)  # audited as the officer's view
    view = reply_modal(tip, len(photos), notes, p.deps.force.name, p.metadata(), p.deps.force.settings.timezone)
    await p.client.views_open(trigger_id=p.body["trigger_id"], view=view)


async def _open_spam(p: TipPress) -> None:
    queued = await p.deps.tips.for_queue(p.reference, p.officer.user)
    if TipState.SPAM not in NEXT_STATES[queued.tip.state]:
        await redraw(p.deps, p.client, p.officer.user, p.reference, p.channel, p.ts)
        raise Conflict(f"Tip {p.reference} is already marked as spam. Nothing was changed.")
    await p.client.views_open(trigger_id=p.body["trigger_id"], view=spam_modal(queued.tip, p.metadata()))


async def acknowledge_pressed(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any) -> None:
    await _handle(ack, body, client, context, action="tip.ack", doing="acknowledging tip {ref}", work=_acknowledge)


async def reply_pressed(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any) -> None:
    await _handle(ack, body, client, context, action="tip.reply", doing="opening tip {ref} to reply", work=_open_reply)


async def done_pressed(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any) -> None:
    await _handle(ack, body, client, context, action="tip.done", doing="marking tip {ref} actioned", work=_done)


async def spam_pressed(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any) -> None:
    await _handle(ack, body, client, context, action="tip.spam", doing="marking tip {ref} as spam", work=_open_spam)
