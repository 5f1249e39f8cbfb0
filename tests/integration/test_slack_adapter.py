"""The Slack ``ChannelAdapter`` against the sandbox's Slack Web API: threads, pacing, and every answer mapped
to a ``DeliveryResult`` the delivery worker can act on."""

from __future__ import annotations

import time

from bots.slack_officer.adapter import SlackAdapter, make_client
from core.model import Address, Channel
from core.outbound import Attachment, Button, OutboundMessage
from core.rendering import escape_slack_mrkdwn
from sandbox.slack import SlackStandIn
from sandbox.slack_records import SlackFaults, SlackLimits
from sandbox.slack_workspace import GENERAL_CHANNEL_ID, TIPS_CHANNEL_ID
from tests.support.processes import free_port

TOKEN = "xoxb-adapter"


def adapter_for(slack: SlackStandIn, **options: float) -> SlackAdapter:
    return SlackAdapter(make_client(TOKEN, slack.api_url), **options)


async def test_posts_to_a_channel_and_into_threads_with_buttons_and_photos():
    with SlackStandIn(TOKEN) as slack:
        adapter = adapter_for(slack, per_channel_interval=0)
        tip = "Seen by the lock: " + escape_slack_mrkdwn("<!channel> <http://x|y> & more")
        root = await adapter.send(
            Address(Channel.SLACK, TIPS_CHANNEL_ID), OutboundMessage(text="*Tips for A-2026-000001*")
        )
        assert root.ok and root.provider_message_id
        in_thread = await adapter.send(
            Address(Channel.SLACK, f"{TIPS_CHANNEL_ID}/{root.provider_message_id}"),
            OutboundMessage(
                text=tip,
                buttons=(Button("Acknowledge", "tip_ack:7"), Button("Reply", "tip_reply:7")),
                attachments=(Attachment("van.jpg", "image/jpeg", b"\xff\xd8\xff" + b"0" * 64),),
            ),
        )
        by_reply_to = await adapter.send(
            Address(Channel.SLACK, TIPS_CHANNEL_ID),
            OutboundMessage(text="The tipster answered", reply_to=root.provider_message_id),
        )
        assert in_thread.ok and by_reply_to.ok
        thread = slack.messages_in(TIPS_CHANNEL_ID, thread_ts=root.provider_message_id)
        assert [m.text for m in thread][:2] == ["*Tips for A-2026-000001*", tip]
        assert thread[1].text == "Seen by the lock: &lt;!channel&gt; &lt;http://x|y&gt; &amp; more"  # shown literally
        buttons = thread[1].blocks[-1]["elements"]
        assert [(b["action_id"], b["value"], b["text"]["text"]) for b in buttons] == [
            ("tip_ack:7", "tip_ack:7", "Acknowledge"),
            ("tip_reply:7", "tip_reply:7", "Reply"),
        ]
        (photo,) = [f for f in slack.files.values() if f.completed]
        assert photo.filename == "van.jpg" and photo.thread_ts == root.provider_message_id
        assert thread[-1].text == "The tipster answered"


async def test_one_post_a_second_per_channel_and_retry_after_honoured():
    with SlackStandIn(TOKEN, limits=SlackLimits(post_per_channel_per_second=1.0, post_burst=1)) as slack:
        paced = adapter_for(slack)
        started = time.monotonic()
        results = [
            await paced.send(Address(Channel.SLACK, GENERAL_CHANNEL_ID), OutboundMessage(text=f"n{i}"))
            for i in range(3)
        ]
        assert all(r.ok for r in results) and time.monotonic() - started >= 1.9 and slack.rate_limited == 0

        eager = adapter_for(slack, per_channel_interval=0)
        await eager.send(Address(Channel.SLACK, TIPS_CHANNEL_ID), OutboundMessage(text="first"))
        throttled = await eager.send(Address(Channel.SLACK, TIPS_CHANNEL_ID), OutboundMessage(text="second"))
        assert throttled.retryable and throttled.retry_after == 1.0 and throttled.error == "ratelimited"
        started = time.monotonic()
        after = await eager.send(Address(Channel.SLACK, TIPS_CHANNEL_ID), OutboundMessage(text="third"))
        assert after.ok and time.monotonic() - started >= 0.9  # it waited out Retry-After before posting there again


async def test_slack_errors_become_permanent_or_retryable():
    with SlackStandIn(TOKEN, limits=SlackLimits(post_per_channel_per_second=None)) as slack:
        adapter = adapter_for(slack, per_channel_interval=0)
        missing = await adapter.send(Address(Channel.SLACK, "C0MISSING"), OutboundMessage(text="x"))
        assert missing.permanent_reason == "channel_not_found" and not missing.retryable and not missing.recipient_gone
        slack.faults = SlackFaults(archived_channels={GENERAL_CHANNEL_ID})
        archived = await adapter.send(Address(Channel.SLACK, GENERAL_CHANNEL_ID), OutboundMessage(text="x"))
        assert archived.permanent_reason == "is_archived"
        wrong_token = SlackAdapter(make_client("xoxb-wrong", slack.api_url), per_channel_interval=0)
        assert (
            await wrong_token.send(Address(Channel.SLACK, TIPS_CHANNEL_ID), OutboundMessage(text="x"))
        ).permanent_reason == "invalid_auth"
        slack.faults = SlackFaults(server_error_share=1.0)
        outage = await adapter.send(Address(Channel.SLACK, TIPS_CHANNEL_ID), OutboundMessage(text="x"))
        assert outage.retryable and "503" in (outage.error or "")

    closed = SlackAdapter(make_client(TOKEN, f"http://127.0.0.1:{free_port()}/api/"), per_channel_interval=0)
    unreachable = await closed.send(Address(Channel.SLACK, TIPS_CHANNEL_ID), OutboundMessage(text="x"))
    assert unreachable.retryable and unreachable.error
