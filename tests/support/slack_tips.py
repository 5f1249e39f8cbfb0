"""The Slack tips queue in the residents' journeys: where a tip lands in the stand-in, and an officer answering it from Slack.

The app (``lookout serve``) runs with ``SLACK_API_BASE`` pointed at a
``SlackStandIn``; these helpers read what it posted there and press the tip's
Reply button, as Slack sends it, to the app's ``/slack/events``.
"""

from __future__ import annotations

import json

from sandbox.slack import SlackStandIn
from sandbox.slack_records import SlackMessage, UploadedFile
from sandbox.slack_users import SimulatedSlackClient
from tests.support.slack_officer import eventually


async def tip_in_slack(slack: SlackStandIn, channel: str, reference: str) -> SlackMessage:
    """The tip's message in the tips channel, once the worker has posted it."""
    return await eventually(
        lambda: next(
            (m for m in slack.messages_in(channel) if f"tipq:reply:{reference}" in json.dumps(m.blocks)), None
        ),
        timeout=15,
        what="the tip in the Slack tips channel",
    )


async def photos_in_thread(slack: SlackStandIn, tip: SlackMessage) -> list[UploadedFile]:
    """The photos uploaded (files upload v2, completed) into the tip's thread."""
    return await eventually(
        lambda: [f for f in slack.files.values() if f.completed and f.thread_ts == tip.thread_ts],
        timeout=15,
        what="the tip's photo in the Slack thread",
    )


async def said_in_thread(slack: SlackStandIn, tip: SlackMessage, fragment: str) -> SlackMessage:
    """The newest message in the tip's thread that says ``fragment``."""
    found = await eventually(
        lambda: [m for m in slack.messages_in(tip.channel, thread_ts=tip.thread_ts) if fragment in m.text],
        timeout=15,
        what=f"{fragment!r} in the Slack thread",
    )
    return found[-1]


async def officer_replies_in_slack(
    slack: SlackStandIn, events_url: str, officer: str, tip: SlackMessage, reference: str, text: str
) -> None:
    """Reply on the tip's message, then the modal's text and Send reply, as Slack sends them to the app."""
    async with SimulatedSlackClient(slack, events_url) as simulated:
        data = f"tipq:reply:{reference}"
        pressed = await simulated.block_action(officer, data, data, channel_id=tip.channel, message_ts=tip.ts)
        assert pressed.status_code == 200, pressed.text
        (modal,) = await eventually(lambda: slack.open_views(officer), what="the Reply modal")
        assert reference in json.dumps(modal) and modal["callback_id"] == "tip_reply"
        sent = await simulated.view_submission(officer, modal["id"], {"reply": {"value": text}})
        assert sent.status_code == 200 and sent.content == b"", sent.text
