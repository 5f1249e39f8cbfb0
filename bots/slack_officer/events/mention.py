"""``@Lookout`` in a channel: answer in the thread with what the app does (bolt has acknowledged the event already)."""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bots.slack_officer.blocks.listing import help_message
from bots.slack_officer.deps import deps_of
from bots.slack_officer.replies import Officer, carry_out


async def app_mentioned(event: dict[str, Any], client: AsyncWebClient, context: Any) -> None:
    deps = deps_of(context)
    officer = Officer(str(event.get("user") or ""), event.get("channel"))
    text, blocks = help_message(deps.force, officer=deps.roles.is_officer(officer.user))

    async def work() -> None:
        await client.chat_postMessage(
            channel=str(event["channel"]), thread_ts=event.get("thread_ts") or event.get("ts"), text=text, blocks=blocks
        )

    deps.tasks.spawn(
        carry_out(deps, client, officer, action="mention", subject="", doing="answering the mention", work=work),
        name="answer mention",
    )
