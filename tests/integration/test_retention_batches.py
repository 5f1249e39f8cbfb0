"""Retention deletes in batches, each its own transaction, and still deletes everything past its time."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from core.services.maintenance import MaintenanceService, RetentionPeriods
from storage.database import write_transaction
from storage.tables import deliveries, inbound_updates
from tests.support.clock import FakeClock

OLD_ROWS, RECENT_ROWS, BATCH = 1_050, 7, 100


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def delivery(i: int, state: str, when) -> dict[str, object]:
    return {
        "message_id": 1,
        "channel": "telegram",
        "address": f"telegram:{i}",
        "state": state,
        "attempts": 1,
        "next_attempt_at": when,
        "created_at": when,
        "updated_at": when,
    }


async def test_a_big_purge_takes_several_short_transactions_and_leaves_nothing_behind(
    engine, uow_factory, clock: FakeClock
) -> None:
    long_ago, lately = clock() - timedelta(days=120), clock() - timedelta(days=3)
    async with write_transaction(engine) as conn:
        await conn.execute(
            deliveries.insert(), [delivery(i, ("sent", "dead", "skipped")[i % 3], long_ago) for i in range(OLD_ROWS)]
        )
        # Kept: recent rows, and old rows still to send (retention only takes finished ones).
        await conn.execute(deliveries.insert(), [delivery(OLD_ROWS + i, "sent", lately) for i in range(RECENT_ROWS)])
        await conn.execute(deliveries.insert(), [delivery(OLD_ROWS + RECENT_ROWS, "pending", long_ago)])
        await conn.execute(
            inbound_updates.insert(),
            [{"source": "telegram", "update_id": str(i), "received_at": long_ago} for i in range(250)],
        )

    statements: list[str] = []
    commits: list[int] = []
    sync_engine = engine.sync_engine

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("DELETE FROM DELIVERIES"):
            statements.append(statement)

    def committed(conn) -> None:
        commits.append(len(statements))

    event.listen(sync_engine, "before_cursor_execute", seen)
    event.listen(sync_engine, "commit", committed)
    try:
        maintenance = MaintenanceService(
            uow_factory,
            timezone="Europe/London",
            retention=RetentionPeriods(delivery_days=90),
            clock=clock,
            purge_batch=BATCH,
        )
        purged, _ = await maintenance.purge_expired_data()
    finally:
        event.remove(sync_engine, "before_cursor_execute", seen)
        event.remove(sync_engine, "commit", committed)

    assert purged == OLD_ROWS
    batches = -(-OLD_ROWS // BATCH)  # 11: ten full, one short
    assert len(statements) == batches
    # Each DELETE committed before the next one ran: one transaction per batch.
    assert [n for n in commits if n <= batches][:batches] == list(range(1, batches + 1))
    async with engine.connect() as conn:
        left = dict(
            (await conn.execute(sa.select(deliveries.c.state, sa.func.count()).group_by(deliveries.c.state))).all()
        )
        inbound_left = (await conn.execute(sa.select(sa.func.count()).select_from(inbound_updates))).scalar_one()
    assert left == {"sent": RECENT_ROWS, "pending": 1}
    assert inbound_left == 0
