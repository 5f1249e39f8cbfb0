"""The composition root: settings → storage → services → one ASGI app.

Nothing here runs at import time; ``build()`` wires a ``Lookout`` and
``create_app()`` wraps it in the HTTP app.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Receive, Scope, Send

from bots.alert_page.routes import add_alert_pages
from bots.body_limit import add_body_limit
from bots.email.platform import PLATFORM as EMAIL
from bots.geocoding import GeopyGeocoder
from bots.platform import Background, Platform
from bots.slack_officer.platform import PLATFORM as SLACK
from bots.sms.platform import PLATFORM as SMS
from bots.telegram.platform import PLATFORM as TELEGRAM
from bots.whatsapp.platform import PLATFORM as WHATSAPP
from core.alert_pages import alert_page_link, page_key
from core.clock import Clock, utc_now
from core.delivery.ratelimit import HEADROOM
from core.delivery.worker import DeliveryWorker, WorkerConfig
from core.errors import NotFound
from core.force import ForceConfig, load_force_config
from core.geocoding import Geocoder
from core.model import RESIDENT_CHANNELS, Address, Channel
from core.origin import act_from
from core.outbound import ChannelAdapter
from core.ports import UnitOfWorkFactory
from core.pseudonyms import TipsterPseudonyms
from core.services.alerts import AlertService, Paces, SmsPricing
from core.services.cap_feed import CapService
from core.services.feedback import FeedbackService
from core.services.inbound_once import InboundOnce
from core.services.maintenance import MaintenanceService, RetentionPeriods
from core.services.notices import OfficerNotices
from core.services.residents import ResidentService
from core.services.roles import Roles
from core.services.subscriptions import SubscriptionService
from core.services.tips import TipService
from core.settings import Settings
from runtime.examples import force_config_path
from runtime.logs import REDACTOR
from runtime.metrics import Metrics, add_metrics
from runtime.scheduler import SCHEDULER_LOCK
from runtime.version import lookout_version
from storage.conversations import SqlConversationStore
from storage.database import is_sqlite, make_async_engine
from storage.geocode_cache import SqlGeocodeCache
from storage.locks import ProcessLock, lock_is_held, process_lock
from storage.migrate import current_revision, head_revision
from storage.rate_buckets import PostgresSlotSource, slot_source
from storage.uow import unit_of_work_factory

logger = logging.getLogger("lookout")

# Every platform, in the order their doors are mounted; each is on when its credentials are set.
PLATFORMS: tuple[Platform, ...] = (TELEGRAM, WHATSAPP, SLACK, EMAIL, SMS)
RELAY_ONLY = frozenset(
    {Channel.EMAIL}
)  # on SQLite only the relay has a second sender (the pages) to share its pace with


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
    subscriptions: SubscriptionService
    tips: TipService
    geocoder: Geocoder
    clock: Clock  # the one "now" of every service, worker and repository this process builds
    adapters: dict[Channel, ChannelAdapter] = field(default_factory=dict)
    channels: tuple[Channel, ...] = field(default=())
    inbound: InboundOnce = field(init=False)  # every door handles each inbound once through it
    feedback: FeedbackService = field(init=False)  # residents' "Useful / Not useful" answers to alerts

    def __post_init__(self) -> None:
        self.inbound = InboundOnce(self.uow, clock=self.clock)
        self.feedback = FeedbackService(self.uow, clock=self.clock)

    def worker(self) -> DeliveryWorker:
        """A delivery worker for the enabled platforms. Its rates are schedules in the database shared with every
        other sender: on PostgreSQL all of them (several workers); on SQLite (one worker) the mail relay's alone,
        which the email pages send through too (bots/email/pages/site.py)."""
        return DeliveryWorker(
            self.uow,
            self.adapters,
            force_name=self.force.name,
            timezone=self.force.settings.timezone,
            alert_template=self.settings.whatsapp_alert_template,
            slot_source=slot_source(self.engine),
            shared_channels=RELAY_ONLY if is_sqlite(self.settings.database_url) else None,
            config=WorkerConfig(lease=timedelta(seconds=self.settings.worker_lease_seconds)),
            rates=paces_of(self.settings).free,
            paid_rates=paces_of(self.settings).paid,
            daily_limits=paces_of(self.settings).daily_limits,
            notices=OfficerNotices(self.uow, slack=Channel.SLACK in self.channels, clock=self.clock),
            public_url=self.settings.public_url,
            clock=self.clock,
        )

    def conversations(self) -> SqlConversationStore:
        """The one conversation store, for every chat app's webhook."""
        return SqlConversationStore(self.engine, clock=self.clock)

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


def build(settings: Settings | None = None, *, clock: Clock = utc_now) -> Lookout:
    """Everything wired from ``settings``; ``clock`` is handed to every part (a test or a replay gives its own)."""
    settings = settings or Settings()
    REDACTOR.add(secret.get_secret_value() for secret in settings.secrets())
    force = load_force_config(force_config_path(settings.force_config))
    engine = make_async_engine(
        settings.database_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow
    )
    uow = unit_of_work_factory(engine, clock=clock)
    channels = settings.enabled_channels
    geocoder = GeopyGeocoder(
        settings.geocoder,
        domain=settings.geocoder_domain,
        scheme=settings.geocoder_scheme,
        user_agent=settings.geocoder_user_agent,
        # Nominatim's one request a second and its cache are per deployment: on PostgreSQL every process shares them.
        slots=None if is_sqlite(settings.database_url) else PostgresSlotSource(engine),
        shared_cache=SqlGeocodeCache(engine, keep=timedelta(days=settings.geocoder_cache_days))
        if settings.geocoder_cache_days
        else None,
    )
    roles = Roles(officers=settings.officer_ids, supervisors=settings.supervisor_ids)
    sms = SmsPricing(
        settings.sms_max_segments,
        settings.sms_price_per_segment,
        lambda reference: alert_page_link(settings, reference),
    )
    cards = settings.slack_officers_channel if settings.slack_bot_token else None  # read by the Slack status board
    alerts = AlertService(
        uow, force, roles=roles, channels=channels, paces=paces_of(settings), sms=sms, clock=clock, cards=cards
    )
    maintenance = MaintenanceService(
        uow,
        timezone=force.settings.timezone,
        retention=RetentionPeriods(
            settings.retention_delivery_days,
            settings.retention_tip_days,
            settings.retention_conversation_hours,
            settings.retention_photo_days,
        ),
        clock=clock,
    )
    residents = ResidentService(uow)
    subscriptions = SubscriptionService(uow, force, clock=clock)
    tips_queue = Address(Channel.SLACK, settings.slack_tips_channel) if settings.slack_tips_channel else None
    tips = TipService(
        uow,
        force,
        roles=roles,
        officer_queue=tips_queue,
        pseudonyms=TipsterPseudonyms(pseudonym_secret(settings)),
        clock=clock,
    )
    return Lookout(
        settings,
        force,
        engine,
        uow,
        alerts,
        maintenance,
        residents,
        subscriptions,
        tips,
        geocoder,
        clock,
        build_adapters(settings, force=force, engine=engine),
        channels,
    )


def pseudonym_secret(settings: Settings) -> bytes | None:
    """``LOOKOUT_PSEUDONYM_SECRET``, else one derived from ``SLACK_SIGNING_SECRET`` (the tips queue needs Slack anyway);
    with neither, None: a random key per process."""
    if settings.pseudonym_secret is not None:
        return settings.pseudonym_secret.get_secret_value().encode()
    if settings.slack_signing_secret is not None:
        return hmac.new(
            settings.slack_signing_secret.get_secret_value().encode(), b"lookout-pseudonym-secret", hashlib.sha256
        ).digest()
    return None


def build_adapters(settings: Settings, *, force: ForceConfig, engine: AsyncEngine) -> dict[Channel, ChannelAdapter]:
    """One adapter per platform whose credentials are set (the others are off)."""
    adapters: dict[Channel, ChannelAdapter] = {}
    for platform in PLATFORMS:
        adapter = platform.build_adapter(settings, force=force, engine=engine)
        if adapter is not None:
            adapters[platform.channel] = adapter
    return adapters


def describe_platforms(lookout: Lookout) -> str:
    on = ", ".join(c.value for c in lookout.channels) or "none"
    off = ", ".join(c.value for c in (*RESIDENT_CHANNELS, Channel.SLACK) if c not in lookout.channels)
    return f"platforms on: {on}" + (f"; off (credentials not set): {off}" if off else "")


# The first path segment names the door an audited action came through; everything else is the web.
_DOORS = {"slack": "slack", "telegram": "telegram", "whatsapp": "whatsapp", "sms": "sms"}


class MarkOrigin:
    """Plain ASGI middleware: tell the audit log which door each request came through (core/origin.py)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            act_from(_DOORS.get(str(scope.get("path", "")).strip("/").split("/")[0], "web"))
        await self.app(scope, receive, send)


def create_app(lookout: Lookout) -> FastAPI:
    app = FastAPI(title=f"Lookout — {lookout.force.name}", lifespan=_lifespan(lookout), docs_url=None, redoc_url=None)
    app.add_middleware(MarkOrigin)
    app.state.lookout = lookout
    background: list[Background] = []  # what the platforms run beside the app, started and stopped by its lifespan
    for platform in PLATFORMS:
        adapter = lookout.adapters.get(platform.channel)
        if adapter is not None:
            background.extend(platform.mount(app, lookout, adapter))
    app.state.background = background

    token = lookout.settings.metrics_token
    metrics = Metrics(
        lookout.uow,
        lookout.channels,
        clock=lookout.clock,
        scheduler_leads=lambda: lock_is_held(lookout.settings.database_url, lookout.engine, SCHEDULER_LOCK),
    )
    add_metrics(app, metrics, token=token.get_secret_value() if token else None)
    add_body_limit(app)  # last added = outermost: no body reaches a route (or the metrics) past its limit
    cap = CapService(lookout.uow, lookout.force, clock=lookout.clock, public_url=lookout.settings.public_url)
    add_alert_pages(app, uow=lookout.uow, force=lookout.force, key=page_key(lookout.settings))

    @app.get("/cap/alerts/{reference}.xml", include_in_schema=False)
    async def cap_alert(reference: str) -> Response:
        """An alert, update or cancellation as a CAP 1.2 document (public alerts only)."""
        try:
            return Response(await cap.document(reference), media_type="application/cap+xml")
        except NotFound as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)

    @app.get("/cap/feed.atom", include_in_schema=False)
    async def cap_feed(request: Request) -> Response:
        """The live public alerts, each linking to its CAP document."""
        base = lookout.settings.public_url or str(request.base_url)
        return Response(await cap.feed(base), media_type="application/atom+xml")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """Alive: the process answers (and which version it runs). Says nothing about the database."""
        return {"status": "ok", "version": lookout_version()}

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
                {
                    "status": "unavailable",
                    "database": "ok",
                    "schema": current,
                    "expected": head,
                    "fix": "lookout db upgrade",
                },
                status_code=503,
            )
        return JSONResponse({"status": "ok", "database": "ok", "schema": current})

    return app


def _lifespan(lookout: Lookout):  # noqa: ANN202 - FastAPI's lifespan shape
    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        # Whoever built the Lookout closes it (the runner stops the worker and scheduler first).
        logger.info("Lookout for %s: %s", lookout.force.name, describe_platforms(lookout))
        started: list[Background] = []
        try:
            for part in app.state.background:
                await part.start()
                started.append(part)
            yield
        finally:
            for part in reversed(started):
                await part.stop()

    return lifespan


def paces_of(settings: Settings) -> Paces:
    """The rates the delivery worker sends at, as the alert preview estimates with them."""
    # Twilio counts segments a second; an alert is at most SMS_MAX_SEGMENTS of them, so texts go at that share.
    free = {
        Channel.WHATSAPP: settings.whatsapp_messages_per_second * HEADROOM,
        Channel.SMS: settings.sms_messages_per_second * HEADROOM / settings.sms_max_segments,
    }
    paid = (
        {Channel.TELEGRAM: settings.telegram_paid_broadcast_rate * HEADROOM} if settings.telegram_paid_broadcast else {}
    )
    daily = {Channel.WHATSAPP: settings.whatsapp_daily_limit} if settings.whatsapp_daily_limit is not None else {}
    return Paces(free=free, paid=paid, daily_limits=daily)
