"""The composition root: settings → storage → services → one ASGI app.

Nothing here runs at import time; ``build()`` wires a ``Lookout`` and
``create_app()`` wraps it in the HTTP app.
"""
from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.delivery.worker import DeliveryWorker, WorkerConfig
from core.force import ForceConfig, load_force_config
from core.geocoding import Geocoder, GeopyGeocoder
from core.model import Channel
from core.outbound import ChannelAdapter
from core.ports import UnitOfWorkFactory
from core.services.alerts import AlertService
from core.services.maintenance import MaintenanceService, RetentionPeriods
from core.services.residents import ResidentService
from core.services.roles import Roles
from core.settings import Settings
from storage.database import is_sqlite, make_async_engine
from storage.locks import ProcessLock, process_lock
from storage.migrate import current_revision, head_revision
from storage.rate_buckets import PostgresSlotSource
from storage.uow import unit_of_work_factory

logger = logging.getLogger("lookout")


@dataclass
class Lookout:
    """Everything a process needs, built once."""

    settings: Settings
    force: ForceConfig
    engine: AsyncEngine
    uow: UnitOfWorkFactory
    alerts: AlertService
    maintenance: MaintenanceService
    residents: ResidentService
    geocoder: Geocoder
    adapters: dict[Channel, ChannelAdapter] = field(default_factory=dict)
    channels: tuple[Channel, ...] = field(default=())

    def worker(self) -> DeliveryWorker:
        """A delivery worker for the enabled platforms; on PostgreSQL its rates are shared with other workers."""
        source = None if is_sqlite(self.settings.database_url) else PostgresSlotSource(self.engine)
        return DeliveryWorker(
            self.uow,
            self.adapters,
            force_name=self.force.name,
            timezone=self.force.settings.timezone,
            slot_source=source,
            config=WorkerConfig(lease=timedelta(seconds=self.settings.worker_lease_seconds)),
        )

    def lock(self, name: str) -> ProcessLock:
        return process_lock(self.settings.database_url, self.engine, name)

    async def schema_status(self) -> tuple[str | None, str]:
        """(revision the database is at, revision the code expects)."""
        return await current_revision(self.engine), head_revision()

    async def aclose(self) -> None:
        for adapter in self.adapters.values():
            await adapter.aclose()
        await self.geocoder.aclose()
        await self.engine.dispose()


def build(settings: Settings | None = None) -> Lookout:
    settings = settings or Settings()
    force = load_force_config(Path(settings.force_config))
    engine = make_async_engine(settings.database_url)
    uow = unit_of_work_factory(engine)
    channels = settings.enabled_channels
    geocoder = GeopyGeocoder(
        settings.geocoder,
        domain=settings.geocoder_domain,
        scheme=settings.geocoder_scheme,
        user_agent=settings.geocoder_user_agent,
    )
    roles = Roles(officers=settings.officer_ids, supervisors=settings.supervisor_ids)
    alerts = AlertService(uow, force, roles=roles, channels=channels)
    maintenance = MaintenanceService(
        uow,
        timezone=force.settings.timezone,
        retention=RetentionPeriods(settings.retention_delivery_days, settings.retention_tip_days),
    )
    residents = ResidentService(uow)
    return Lookout(settings, force, engine, uow, alerts, maintenance, residents, geocoder, build_adapters(settings), channels)


def build_adapters(settings: Settings) -> dict[Channel, ChannelAdapter]:
    """One adapter per platform whose credentials are set (the others are off)."""
    adapters: dict[Channel, ChannelAdapter] = {}
    if settings.telegram_bot_token:
        from bots.telegram.adapter import TelegramAdapter, make_bot

        adapters[Channel.TELEGRAM] = TelegramAdapter(make_bot(settings.telegram_bot_token.get_secret_value(), settings.telegram_api_base))
    return adapters


def describe_platforms(lookout: Lookout) -> str:
    on = ", ".join(c.value for c in lookout.channels) or "none"
    off = ", ".join(c.value for c in (Channel.TELEGRAM, Channel.WHATSAPP, Channel.SLACK) if c not in lookout.channels)
    return f"platforms on: {on}" + (f"; off (no token set): {off}" if off else "")


def create_app(lookout: Lookout) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI):  # noqa: ANN202
        # Whoever built the Lookout closes it (the runner stops the worker and scheduler first).
        logger.info("Lookout for %s: %s", lookout.force.name, describe_platforms(lookout))
        yield

    app = FastAPI(title=f"Lookout — {lookout.force.name}", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.lookout = lookout
    telegram = lookout.adapters.get(Channel.TELEGRAM)
    if telegram is not None:
        from bots.telegram.bot import build_dispatcher
        from bots.telegram.webhook import add_telegram_webhook

        secret = lookout.settings.telegram_webhook_secret
        add_telegram_webhook(
            app,
            bot=telegram.bot,  # type: ignore[attr-defined]
            dispatcher=build_dispatcher(lookout.engine, lookout.residents),
            secret=secret.get_secret_value() if secret else None,
            uow=lookout.uow,
        )

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """Alive: the process answers. Says nothing about the database."""
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        """Ready: the database answers and its schema is the one this code expects."""
        try:
            async with lookout.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            current, head = await lookout.schema_status()
        except Exception as exc:  # any failure here means "not ready", reported, never a 500
            logger.warning("readiness check: database unreachable: %s", type(exc).__name__)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        if current != head:
            return JSONResponse(
                {"status": "unavailable", "database": "ok", "schema": current, "expected": head, "fix": "lookout db upgrade"},
                status_code=503,
            )
        return JSONResponse({"status": "ok", "database": "ok", "schema": current})

    return app
