"""The reply queue: a reply that can go at once goes before the webhook answers; one that must wait follows it,
in order within its chat; a graceful stop lets the queue empty."""

from __future__ import annotations

import asyncio
import logging

import pytest

from core.replies import ReplyQueue, waiting_its_turn


async def test_a_reply_that_can_go_at_once_is_sent_before_the_webhook_answers() -> None:
    sent: list[str] = []

    async def reply() -> None:
        await asyncio.sleep(0.01)  # the platform's answer takes a moment
        sent.append("hello")

    await ReplyQueue("Test").send("chat-1", reply)
    assert sent == ["hello"]


async def test_a_reply_that_must_wait_its_turn_releases_the_webhook_and_follows() -> None:
    queue = ReplyQueue("Test")
    turn = asyncio.Event()
    sent: list[str] = []

    async def paced_reply() -> None:
        waiting_its_turn()  # what a platform's pacing says before a long wait
        await turn.wait()
        sent.append("later")

    await asyncio.wait_for(queue.send("chat-1", paced_reply), timeout=5)  # answered without the reply
    assert sent == [] and queue.waiting == 1
    turn.set()
    await queue.stop()
    assert sent == ["later"] and queue.waiting == 0


async def test_one_chats_replies_keep_their_order_and_other_chats_do_not_wait_for_them() -> None:
    queue = ReplyQueue("Test")
    first_may_go = asyncio.Event()
    sent: list[str] = []

    def reply(text: str, *, wait_for: asyncio.Event | None = None):
        async def send() -> None:
            if wait_for is not None:
                waiting_its_turn()
                await wait_for.wait()
            sent.append(text)

        return send

    await queue.send("alice", reply("alice 1", wait_for=first_may_go))
    await queue.send("alice", reply("alice 2"))  # behind alice's first: answered at once, sent after it
    await queue.send("bob", reply("bob 1"))  # nobody ahead in bob's chat: sent before the webhook answers
    assert sent == ["bob 1"]
    first_may_go.set()
    await queue.stop()
    assert sent == ["bob 1", "alice 1", "alice 2"]


async def test_a_failed_reply_is_logged_and_the_next_one_in_the_chat_still_goes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    queue = ReplyQueue("Test")
    sent: list[str] = []

    async def broken() -> None:
        raise ConnectionResetError("the platform hung up")

    async def fine() -> None:
        sent.append("next")

    with caplog.at_level(logging.WARNING, logger="lookout.replies"):
        await queue.send("chat-1", broken)
        await queue.send("chat-1", fine)
    assert sent == ["next"]
    assert "a Test reply to a resident was not sent: ConnectionResetError" in caplog.text


async def test_a_stop_gives_the_queue_its_drain_time_then_says_what_was_not_sent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    queue = ReplyQueue("Test", drain_seconds=0.2)
    never = asyncio.Event()

    async def stuck() -> None:
        waiting_its_turn()
        await never.wait()

    await queue.send("chat-1", stuck)
    with caplog.at_level(logging.WARNING, logger="lookout.replies"):
        await queue.stop()
    assert queue.waiting == 0
    assert "1 Test replies were still queued when the process stopped; not sent" in caplog.text
