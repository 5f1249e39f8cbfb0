"""The SQL unit of work: one connection, one transaction, its repositories."""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from core.clock import Clock
from storage.alerts import SqlAlertRepository
from storage.allowance import SqlMessagingAllowance
from storage.audit import SqlAuditLog
from storage.database import only_reading, write_turn
from storage.deliveries import SqlDeliveryQueue
from storage.feedback import SqlAlertFeedback
from storage.inbound import SqlInboundLog
from storage.operations import SqlOperationalCounts
from storage.outages import is_outage, unavailable
from storage.outbox import SqlOutbox
from storage.photos import SqlAlertPhotos
from storage.receipts import SqlReceipts
from storage.reports import SqlReports
from storage.residents import SqlResidentRepository
from storage.retention import SqlRetention
from storage.tips import SqlTipRepository
from storage.watches import SqlProgressWatches

logger = logging.getLogger("lookout.storage")


class SqlUnitOfWork:
    """One transaction. A database outage inside (refused or dropped connection) leaves it as
    ``core.outages.StorageUnavailable``, so callers can wait and retry instead of crashing."""

    residents: SqlResidentRepository
    alerts: SqlAlertRepository
    outbox: SqlOutbox
    deliveries: SqlDeliveryQueue
    retention: SqlRetention
    inbound: SqlInboundLog
    audit: SqlAuditLog
    tips: SqlTipRepository
    operations: SqlOperationalCounts
    reports: SqlReports
    watches: SqlProgressWatches
    allowance: SqlMessagingAllowance
    receipts: SqlReceipts
    feedback: SqlAlertFeedback
    photos: SqlAlertPhotos

    def __init__(self, engine: AsyncEngine, *, clock: Clock, read_only: bool = False) -> None:
        self._engine = engine
        self._clock = clock  # the time its repositories stamp rows with (created_at, audit times)
        self._read_only = read_only
        self._conn: AsyncConnection | None = None
        self._tx: AsyncTransaction | None = None
        self._turn: AbstractAsyncContextManager[None] | None = None

    @property
    def connection(self) -> AsyncConnection:
        assert self._conn is not None, "use the unit of work inside 'async with'"
        return self._conn

    async def __aenter__(self) -> SqlUnitOfWork:
        if not self._read_only:
            self._turn = write_turn(self._engine)
            await self._turn.__aenter__()
        try:
            self._conn = await self._engine.connect()
            if self._read_only:
                await only_reading(self._conn)
            self._tx = await self._conn.begin()
        except BaseException as error:
            try:
                if self._conn is not None:
                    await self._conn.close()
            except Exception:
                pass  # the connection that failed to begin is being thrown away anyway
            finally:
                self._conn = None
                await self._leave_turn()
            if is_outage(error):
                raise unavailable(error) from error
            raise
        self.residents = SqlResidentRepository(self._conn, self._clock)
        self.alerts = SqlAlertRepository(self._conn)
        self.outbox = SqlOutbox(self._conn, self._clock)
        self.deliveries = SqlDeliveryQueue(self._conn)
        self.retention = SqlRetention(self._conn)
        self.inbound = SqlInboundLog(self._conn)
        self.audit = SqlAuditLog(self._conn, self._clock)
        self.tips = SqlTipRepository(self._conn)
        self.operations = SqlOperationalCounts(self._conn)
        self.reports = SqlReports(self._conn)
        self.watches = SqlProgressWatches(self._conn)
        self.allowance = SqlMessagingAllowance(self._conn)
        self.receipts = SqlReceipts(self._conn)
        self.feedback = SqlAlertFeedback(self._conn)
        self.photos = SqlAlertPhotos(self._conn)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            try:
                if self._tx is not None and self._tx.is_active:
                    await self._tx.rollback()
            finally:
                try:
                    if self._conn is not None:
                        await self._conn.close()
                    self._conn = self._tx = None
                finally:
                    await self._leave_turn()
        except Exception as cleanup_error:
            if exc is not None and is_outage(cleanup_error):
                pass  # a dropped connection fails its rollback too: the block's own error is the one to report
            elif is_outage(cleanup_error):
                raise unavailable(cleanup_error) from cleanup_error
            else:
                raise
        if exc is not None and is_outage(exc):
            raise unavailable(exc) from exc

    async def _leave_turn(self) -> None:
        if self._turn is not None:
            turn, self._turn = self._turn, None
            await turn.__aexit__(None, None, None)

    async def commit(self) -> None:
        assert self._tx is not None, "use the unit of work inside 'async with'"
        await self._tx.commit()
        if self.residents.erased and self.connection.dialect.name == "sqlite":
            await self._checkpoint()

    async def _checkpoint(self) -> None:
        """After an erasure on SQLite: copy the WAL into the database and empty it, so the deleted rows' old
        versions do not stay readable in the WAL file (secure_delete has zeroed them in the database)."""
        raw = await self.connection.get_raw_connection()
        driver = raw.driver_connection  # aiosqlite, in autocommit: no transaction is open after the commit
        cursor = await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
        busy, _, _ = await cursor.fetchone()
        await cursor.close()
        if busy:
            logger.warning("the WAL checkpoint after an erasure was blocked by a reader; it completes at the next one")


def unit_of_work_factory(engine: AsyncEngine, *, clock: Clock):  # noqa: ANN201 - returns core.ports.UnitOfWorkFactory
    """A factory the core calls for each transaction (``read_only=True`` for one that only reads).
    ``clock`` is the one the services use: rows written here carry the same time as the services see."""

    def new(*, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, clock=clock, read_only=read_only)

    return new
