"""Seeding a database with residents and a sent alert, for worker and scheduler tests."""

from __future__ import annotations

import asyncio
from datetime import datetime

from core.clock import utc_now
from core.geo.areas import CircleArea
from core.services.alerts import AlertRequest, AlertService
from core.services.roles import Roles
from storage.database import make_async_engine
from storage.uow import unit_of_work_factory
from tests.support.residents import STAFFORD, add_residents, resident_at


def seed_telegram_residents_and_send(database_url: str, force, count: int, *, send_at: datetime | None = None) -> str:
    """``count`` Telegram residents in Stafford and one alert to them; returns its reference."""

    async def seed() -> str:
        engine = make_async_engine(database_url)
        uow = unit_of_work_factory(engine, clock=utc_now)
        await add_residents(uow, *[resident_at(*STAFFORD) for _ in range(count)])
        service = AlertService(uow, force, roles=Roles(), clock=utc_now)
        draft = await service.draft(
            AlertRequest(
                incident_number="MV-20261125-0456",
                headline="Missing child",
                message="Have you seen Sam, aged 9, red coat?",
                area=CircleArea(*STAFFORD, 1000),
                everyone=True,
            ),
            "cli:test",
        )
        if send_at is None:
            await service.send(draft.id, "cli:test")
        else:
            await service.schedule(draft.id, "cli:test", send_at)
        await engine.dispose()
        return draft.reference  # type: ignore[return-value]

    return asyncio.run(seed())
