"""Work started after Slack has had its answer, kept track of so none is lost or silently fails.

Slack wants an answer within 3 s, so listeners acknowledge first and hand the
slow part (geocoding, counting, drawing, the Web API calls) to ``spawn``. The
tasks are held here (asyncio keeps only weak references to running tasks),
anything that escapes a task's own error handling is logged, and ``drain``
lets them finish when the web process stops.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

logger = logging.getLogger("lookout.slack")


class BackgroundTasks:
    def __init__(self) -> None:
        self._running: set[asyncio.Task[Any]] = set()

    def spawn(self, work: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(work, name=name)
        self._running.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._running.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:  # the task's own handler should have caught it; this is the last line
            logger.error("Slack background task %s failed", task.get_name(), exc_info=error)

    async def drain(self, timeout: float = 10.0) -> None:
        """Let running work finish (up to ``timeout``), then cancel what is left."""
        if not self._running:
            return
        _, pending = await asyncio.wait(set(self._running), timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    def __len__(self) -> int:
        return len(self._running)
