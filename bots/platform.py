"""The one surface every platform package offers the composition root.

Each platform (``bots/telegram``, ``bots/whatsapp``, ``bots/slack_officer``,
``bots/email``) has a ``platform.py`` with a ``PLATFORM`` object that can

- build its delivery adapter from the settings (``None`` while its credentials
  are not set: the platform is off), and
- mount its doors (webhooks, pages) on the app, given the running ``Host``,
  returning whatever must run beside the app (``Background``).

The runtime loops over them; a platform never imports the runtime or another
platform. ``Host`` is what a platform may use of a running Lookout.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from core.clock import Clock
from core.force import ForceConfig
from core.geocoding import Geocoder
from core.model import Channel
from core.outbound import ChannelAdapter
from core.ports import UnitOfWorkFactory
from core.services.alerts import AlertService
from core.services.feedback import FeedbackService
from core.services.inbound_once import InboundOnce
from core.services.residents import ResidentService
from core.services.subscriptions import SubscriptionService
from core.services.tips import TipService
from core.settings import Settings
from storage.conversations import SqlConversationStore


class Host(Protocol):
    """The parts of a running Lookout a platform's doors use."""

    settings: Settings
    force: ForceConfig
    engine: AsyncEngine
    uow: UnitOfWorkFactory
    alerts: AlertService
    residents: ResidentService
    subscriptions: SubscriptionService
    tips: TipService
    feedback: FeedbackService  # residents' "Useful / Not useful" answers to alerts
    geocoder: Geocoder
    # The delivery adapters of the platforms that are on, by channel: a page may send through one (the web
    # sign-up's code by text goes through the SMS adapter) without importing that platform's package.
    adapters: dict[Channel, ChannelAdapter]

    @property
    def clock(self) -> Clock:
        """The one "now" of the process: a platform reads it, never replaces it."""
        ...

    @property
    def inbound(self) -> InboundOnce:
        """Every door handles each inbound once through this one service."""
        ...

    def conversations(self) -> SqlConversationStore:
        """The one conversation store, for every resident channel (it batches an update's writes: see bots/telegram/webhook.py)."""
        ...


class Background(Protocol):
    """Something a platform runs beside the app while it serves (started after the app starts, stopped before it ends)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Platform(Protocol):
    """One chat or mail platform, as the composition root sees it."""

    channel: Channel

    def build_adapter(self, settings: Settings, *, force: ForceConfig, engine: AsyncEngine) -> ChannelAdapter | None:
        """The delivery adapter, or None while the platform's credentials are not set."""
        ...

    def mount(self, app: FastAPI, host: Host, adapter: ChannelAdapter) -> Sequence[Background]:
        """Put the platform's doors on ``app``; return what must run beside it."""
        ...
