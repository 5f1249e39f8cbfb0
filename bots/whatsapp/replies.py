"""Sending the conversation's answers: straight back to the resident who just wrote.

WhatsApp limits messages to one user (about one per 6 s; error 131056). A
resident tapping quickly through a list can meet it: the answer then waits
out the rest of the interval once and goes again, rather than failing the
webhook. Other failures are raised: the bot answers 500 to a transient one (so
Meta delivers the message again) and logs a permanent one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from bots.whatsapp.graph import PAIR_RATE, CloudApi, GraphError

logger = logging.getLogger("lookout.whatsapp")

REMEMBERED_CHATS = 10_000  # when each of the most recent chats was last answered, to wait only what is left


class ReplySender:
    def __init__(
        self,
        api: CloudApi,
        *,
        pair_interval: float,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._api = api
        self._interval = pair_interval
        self._sleep = sleep
        self._monotonic = monotonic
        self._last: OrderedDict[str, float] = OrderedDict()

    async def send(self, wa_id: str, messages: Sequence[dict[str, Any]]) -> list[str]:
        """Send in order; returns the wamids."""
        return [await self._send_one(wa_id, message) for message in messages]

    async def _send_one(self, wa_id: str, message: dict[str, Any]) -> str:
        try:
            wamid = await self._api.send(wa_id, message)
        except GraphError as exc:
            if exc.code != PAIR_RATE:
                raise
            last = self._last.get(wa_id)
            elapsed = self._monotonic() - last if last is not None else 0.0
            wait = min(self._interval, max(0.5, self._interval - elapsed))
            logger.info("pair rate limit: waiting %.1f s to answer a resident", wait)
            await self._sleep(wait)
            wamid = await self._api.send(wa_id, message)
        self._last[wa_id] = self._monotonic()
        self._last.move_to_end(wa_id)
        while len(self._last) > REMEMBERED_CHATS:
            self._last.popitem(last=False)
        return wamid
