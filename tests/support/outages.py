"""The database going away in a test, without restarting anything: statements refused at the driver."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

WAIT_S = 30.0  # only a ceiling for a broken build: no assertion is about how long anything took


class RefusedStatements:
    """While ``on``, every statement fails with the DB-API's own ``OperationalError``, as a dropped
    connection or a restarting server makes it fail; ``refused`` counts them."""

    def __init__(self) -> None:
        self.on = False
        self.refused = 0

    @contextmanager
    def installed(self, engine: AsyncEngine) -> Iterator[RefusedStatements]:
        dbapi_error = engine.sync_engine.dialect.loaded_dbapi.OperationalError

        def refuse(*_args: object) -> None:
            if self.on:
                self.refused += 1
                raise dbapi_error("server closed the connection unexpectedly")

        event.listen(engine.sync_engine, "before_cursor_execute", refuse)
        try:
            yield self
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", refuse)


async def eventually(check: Callable[[], object], what: str) -> None:
    """Wait until ``check()`` (maybe a coroutine function) is true; fail after ``WAIT_S``."""
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.05)
