"""The spam modal submitted: the tip is closed as spam (and its tipster blocked, if ticked), then redrawn.

The change is made while Slack waits, so a tip that a colleague closed a
moment ago is reported under the checkbox and nothing changes; the message in
the channel is redrawn either way, so it shows the tip as it now is.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack_officer.blocks.tips import BLOCK, read_block_tipster
from bots.slack_officer.deps import OfficerDeps, deps_of
from bots.slack_officer.replies import Officer, carry_out
from bots.slack_officer.tip_cards import TIP_SORRY, officers_only, redraw
from bots.slack_officer.views.compose import metadata_of
from core.errors import LookoutError
from core.model import TipState

logger = logging.getLogger("lookout.slack")


async def tip_spam_submitted(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient, context: Any
) -> None:
    deps = deps_of(context)
    metadata = metadata_of(view)
    officer = Officer(str(body["user"]["id"]), metadata.get("channel"))
    reference = str(metadata.get("ref") or "")
    if not await officers_only(ack, deps, officer, "tip.spam", reference, BLOCK):
        return
    block_tipster = read_block_tipster(view["state"]["values"])
    try:
        async with deps.tip_lock(reference):
            await deps.tips.set_state(reference, officer.user, TipState.SPAM, block_tipster=block_tipster)
    except LookoutError as exc:
        await ack(response_action="errors", errors={BLOCK: str(exc)})
        _spawn_redraw(deps, client, officer, reference, metadata)
        return
    except Exception:
        logger.exception("marking tip %s as spam by %s failed", reference, officer.user)
        await ack(response_action="errors", errors={BLOCK: TIP_SORRY.format(doing="marking the tip as spam")})
        return
    await ack()
    _spawn_redraw(deps, client, officer, reference, metadata)


def _spawn_redraw(
    deps: OfficerDeps, client: AsyncWebClient, officer: Officer, reference: str, metadata: dict[str, Any]
) -> None:
    channel, ts = str(metadata.get("channel") or ""), str(metadata.get("ts") or "")
    if not (reference and channel and ts):
        return

    async def work() -> None:
        async with deps.tip_lock(reference):
            await redraw(deps, client, officer.user, reference, channel, ts)

    deps.tasks.spawn(
        carry_out(
            deps,
            client,
            officer,
            action="tip.spam",
            subject=reference,
            doing=f"showing tip {reference} as spam in the channel",
            work=work,
        ),
        name=f"redraw {reference}",
    )
