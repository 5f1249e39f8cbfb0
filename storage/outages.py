"""Which database errors mean "the database is away" (``core.outages.StorageUnavailable``), and the translation.

A refused or dropped connection, a server shutting down or still starting
(PostgreSQL's ``AdminShutdown``, ``CannotConnectNow``), or SQLite still locked
after its busy timeout: the DB-API calls these ``OperationalError`` or
``InterfaceError``, and SQLAlchemy flags a connection it had to throw away.
Constraint violations and programming errors are not outages and pass through.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from core.outages import StorageUnavailable


def is_outage(error: BaseException) -> bool:
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, OperationalError | InterfaceError)


def unavailable(error: BaseException) -> StorageUnavailable:
    """The ``StorageUnavailable`` to raise ``from error``, naming the driver's own error in one line."""
    cause = getattr(error, "orig", None) or error
    first_line = (str(cause).strip().splitlines() or [""])[0]
    return StorageUnavailable(f"{type(cause).__name__}: {first_line}" if first_line else type(cause).__name__)


@asynccontextmanager
async def reported_as_unavailable() -> AsyncIterator[None]:
    """Raise an outage inside as ``StorageUnavailable``; anything else unchanged."""
    try:
        yield
    except Exception as error:
        if is_outage(error):
            raise unavailable(error) from error
        raise
