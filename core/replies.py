"""The bot's replies to residents: sent at once when the bot may, otherwise after the webhook has its answer.

A webhook is answered once the update's effects are stored (the conversation's
step, a tip, the "handled" mark) and its reply has gone — when the reply can
go at once. Telegram lets a bot send about 30 messages a second in all, so when
more residents write at once than that, a reply must wait its turn; the webhook
then answers without it and the reply follows at the bot's pace (first
replies first: the platform's pacing decides that). Waiting inside the request
made Telegram wait too: at 200 residents a second the requests queued behind
their replies and timed out. A platform's pacing calls ``waiting_its_turn()``
before a reply waits (for the pace, a "too many requests" pause, a retry), and
that releases the webhook.

Within one chat, replies go in the order their updates were handled, one
update's replies after the previous update's (a resident never reads the answer
to their second message before the first). A reply that cannot be sent is
logged; the conversation's step is already stored, so the resident's next
message carries on from it. Replies still queued when the process stops are
given ``drain_seconds`` to go; a process killed outright loses what it had
queued (at most the replies of the updates it answered in its last moments —
alerts, tips and officers' replies are delivery rows, never queued here).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar

from core.delivery.ratelimit import ChatTurns

logger = logging.getLogger("lookout.replies")

DRAIN_SECONDS = 20.0  # on a graceful stop, time for the queue to empty (a 30/s bot sends 600 replies in it)

Send = Callable[[], Awaitable[None]]

# The webhook waiting on the reply being sent in this context (the reply's task inherits it).
_WEBHOOK_WAITING: ContextVar[asyncio.Event | None] = ContextVar("reply_webhook_waiting", default=None)


def waiting_its_turn() -> None:
    """The reply being sent is about to wait (the platform's pace, a pause, a retry): let its webhook answer now."""
    released = _WEBHOOK_WAITING.get()
    if released is not None:
        released.set()


class ReplyQueue:
    """Sends each update's reply, in order within its chat, in the background when it must wait."""

    def __init__(self, name: str, *, drain_seconds: float = DRAIN_SECONDS) -> None:
        self._name = name
        self._drain_seconds = drain_seconds
        self._turns = ChatTurns()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def waiting(self) -> int:
        """Replies posted and not yet sent (or given up)."""
        return len(self._tasks)

    async def send(self, chat: str, send: Send) -> None:
        """Make one update's reply (``send``: its platform calls) after ``chat``'s earlier replies.

        Returns when the reply has gone, or as soon as it has to wait its turn (it then goes on in the background).
        """
        released = asyncio.Event()
        token = _WEBHOOK_WAITING.set(released)
        try:
            # Tasks start in the order they are created and each chat's turns are a FIFO lock, so a chat's
            # replies keep their order; different chats' replies wait only for the platform's pace.
            task = asyncio.create_task(self._send(chat, send, released), name=f"{self._name}-reply")
        finally:
            _WEBHOOK_WAITING.reset(token)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        await released.wait()

    async def _send(self, chat: str, send: Send, released: asyncio.Event) -> None:
        try:
            if self._turns.busy(chat):
                released.set()  # behind this chat's earlier reply
            async with self._turns.turn(chat):
                await send()
        except Exception as error:
            logger.warning("a %s reply to a resident was not sent: %s", self._name, type(error).__name__)
        finally:
            released.set()

    async def start(self) -> None:
        """Nothing to start: replies are sent as they are posted."""

    async def stop(self) -> None:
        """Let the queued replies go for up to ``drain_seconds``, then give up the rest (saying how many)."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=self._drain_seconds)
        if pending:
            logger.warning(
                "%d %s replies were still queued when the process stopped; not sent", len(pending), self._name
            )
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
