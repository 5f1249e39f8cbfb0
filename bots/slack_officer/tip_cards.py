"""Changing a tip's message in the tips channel, and who may: shared by the tip buttons and the tip modals.

The message was posted by the delivery worker; after an officer's action it is
redrawn in place (chat.update) from the tip as it now is, so everyone in the
channel sees its state, who changed it and when, and only the buttons that
still make sense.
"""

from __future__ import annotations

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack_officer.blocks.tips import tip_message
from bots.slack_officer.deps import OfficerDeps
from bots.slack_officer.replies import Officer
from core.errors import Conflict
from core.model import TipState

NOT_AN_OFFICER = (
    "Sorry — only officers listed in SLACK_OFFICER_IDS can work tips. Nothing was changed. "
    "Ask your Lookout administrator to add you if you should."
)
TIP_SORRY = "Sorry — something went wrong on our side while {doing}; nothing was changed. Please try again in a moment."


async def redraw(
    deps: OfficerDeps, client: AsyncWebClient, officer: str, reference: str, channel: str, ts: str
) -> None:
    """The tip's message as it is now, for everyone in the channel."""
    queued = await deps.tips.for_queue(reference, officer)
    await client.chat_update(channel=channel, ts=ts, **tip_message(queued, deps.force.settings.timezone))


async def change_state(
    deps: OfficerDeps,
    client: AsyncWebClient,
    officer: str,
    reference: str,
    state: TipState,
    channel: str,
    ts: str,
    *,
    block_tipster: bool = False,
) -> None:
    """Change the tip, then redraw it. When it had moved on already, redraw it anyway (the message may be behind)
    and let the Conflict say why nothing changed."""
    try:
        await deps.tips.set_state(reference, officer, state, block_tipster=block_tipster)
    except Conflict:
        await redraw(deps, client, officer, reference, channel, ts)
        raise
    await redraw(deps, client, officer, reference, channel, ts)


async def officers_only(
    ack: AsyncAck, deps: OfficerDeps, officer: Officer, action: str, reference: str, block: str
) -> bool:
    """A tip modal submitted by someone who is not an officer: the reason under ``block``, the attempt audited."""
    if deps.roles.is_officer(officer.user):
        return True
    await ack(response_action="errors", errors={block: NOT_AN_OFFICER})
    deps.tasks.spawn(deps.audit.refused(officer.user, action, reference, reason=NOT_AN_OFFICER), name="audit refusal")
    return False
