"""The SQL unit of work: one connection, one transaction, four repositories."""
from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from storage.alerts import SqlAlertRepository
from storage.audit import SqlAuditLog
from storage.deliveries import SqlDeliveryQueue
from storage.inbound import SqlInboundLog
from storage.outbox import SqlOutbox
from storage.residents import SqlResidentRepository
from storage.retention import SqlRetention


class SqlUnitOfWork:
    residents: SqlResidentRepository
    alerts: SqlAlertRepository
    outbox: SqlOutbox
    deliveries: SqlDeliveryQueue
    retention: SqlRetention
    inbound: SqlInboundLog
    audit: SqlAuditLog

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._conn: AsyncConnection | None = None
        self._tx: AsyncTransaction | None = None

    @property
    def connection(self) -> AsyncConnection:
        assert self._conn is not None, "use the unit of work inside 'async with'"
        return self._conn

    async def __aenter__(self) -> SqlUnitOfWork:
        self._conn = await self._engine.connect()
        self._tx = await self._conn.begin()
        self.residents = SqlResidentRepository(self._conn)
        self.alerts = SqlAlertRepository(self._conn)
        self.outbox = SqlOutbox(self._conn)
        self.deliveries = SqlDeliveryQueue(self._conn)
        self.retention = SqlRetention(self._conn)
        self.inbound = SqlInboundLog(self._conn)
        self.audit = SqlAuditLog(self._conn)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self._tx is not None and self._tx.is_active:
                await self._tx.rollback()
        finally:
            if self._conn is not None:
                await self._conn.close()
            self._conn = self._tx = None

    async def commit(self) -> None:
        assert self._tx is not None, "use the unit of work inside 'async with'"
        await self._tx.commit()


def unit_of_work_factory(engine: AsyncEngine):  # noqa: ANN201 - returns core.ports.UnitOfWorkFactory
    """A factory the core calls for each transaction."""
    return lambda: SqlUnitOfWork(engine)
