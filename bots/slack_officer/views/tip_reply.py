"""The Reply modal submitted: the officer's words go to the tipster through their own app, and a note into the thread.

The reply is checked and queued while Slack waits, so a mistake (nothing
written, too long, a tipster who has since erased their data) appears under
the text box and nothing is sent. The delivery worker takes it to the
resident; the thread gets a note saying who replied and what, so colleagues
can follow the conversation.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack_officer.blocks.tips import REPLY, read_reply, reply_note
from bots.slack_officer.deps import OfficerDeps, deps_of
from bots.slack_officer.replies import Officer, carry_out
from bots.slack_officer.tip_cards import TIP_SORRY, officers_only
from bots.slack_officer.views.compose import metadata_of
from core.errors import InvalidInput, LookoutError
from core.model import TipNote

logger = logging.getLogger("lookout.slack")


async def tip_reply_submitted(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient, context: Any
) -> None:
    deps = deps_of(context)
    metadata = metadata_of(view)
    officer = Officer(str(body["user"]["id"]), metadata.get("channel"))
    reference = str(metadata.get("ref") or "")
    if not await officers_only(ack, deps, officer, "tip.reply", reference, REPLY):
        return
    try:
        note = await deps.tips.reply(reference, officer.user, read_reply(view["state"]["values"]))
    except InvalidInput as exc:
        await ack(response_action="errors", errors={REPLY: " ".join(exc.errors.values())})
        return
    except LookoutError as exc:
        await ack(response_action="errors", errors={REPLY: str(exc)})
        return
    except Exception:
        logger.exception("the reply of %s on tip %s failed", officer.user, reference)
        await ack(response_action="errors", errors={REPLY: TIP_SORRY.format(doing="sending the reply")})
        return
    await ack()  # closes the modal; the worker takes the reply to the tipster
    deps.tasks.spawn(_note_in_thread(deps, client, officer, reference, note, metadata), name=f"reply note {reference}")


async def _note_in_thread(
    deps: OfficerDeps, client: AsyncWebClient, officer: Officer, reference: str, note: TipNote, metadata: dict[str, Any]
) -> None:
    async def work() -> None:
        channel, thread_ts = str(metadata.get("channel") or ""), str(metadata.get("thread_ts") or "")
        if channel and thread_ts:
            tip = (await deps.tips.for_queue(reference, officer.user)).tip
            await client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, unfurl_links=False, **reply_note(officer.user, tip, note)
            )

    # The reply itself is queued already: a failure here only loses the thread's note of it.
    await carry_out(
        deps,
        client,
        officer,
        action="tip.reply",
        subject=reference,
        doing=f"noting your reply on {reference} in the thread (the reply itself is on its way)",
        work=work,
    )
