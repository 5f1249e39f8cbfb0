"""WhatsApp as the composition root sees it: the Cloud API adapter from the settings, the webhook on the app."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from core.model import Channel
from core.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bots.platform import Background, Host
    from bots.whatsapp.adapter import WhatsAppAdapter
    from core.force import ForceConfig
    from core.outbound import ChannelAdapter


def _secret(value: object) -> str | None:
    return value.get_secret_value() if value is not None else None  # type: ignore[attr-defined]


class WhatsAppPlatform:
    channel = Channel.WHATSAPP

    def build_adapter(self, settings: Settings, *, force: ForceConfig, engine: AsyncEngine) -> WhatsAppAdapter | None:
        if not (settings.whatsapp_token and settings.whatsapp_phone_number_id):
            return None
        from bots.whatsapp.adapter import WhatsAppAdapter
        from bots.whatsapp.graph import CloudApi

        return WhatsAppAdapter(
            CloudApi(
                settings.whatsapp_token.get_secret_value(),
                settings.whatsapp_phone_number_id,
                settings.whatsapp_api_base,
            )
        )

    def mount(self, app: FastAPI, host: Host, adapter: ChannelAdapter) -> Sequence[Background]:
        from bots.whatsapp.adapter import WhatsAppAdapter
        from bots.whatsapp.bot import build_whatsapp_bot
        from bots.whatsapp.webhook import add_whatsapp_webhook
        from core.services.receipts import ReceiptService

        assert isinstance(adapter, WhatsAppAdapter)
        settings = host.settings
        bot = build_whatsapp_bot(
            adapter.api,
            force=host.force,
            subscriptions=host.subscriptions,
            tips=host.tips,
            geocoder=host.geocoder,
            residents=host.residents,
            receipts=ReceiptService(host.uow, clock=host.clock),
            store=host.conversations(),
            clock=host.clock,
            feedback=host.feedback,
        )
        add_whatsapp_webhook(
            app,
            bot=bot,
            app_secret=_secret(settings.whatsapp_app_secret),
            verify_token=_secret(settings.whatsapp_verify_token),
            phone_number_id=settings.whatsapp_phone_number_id,
            inbound=host.inbound,
            clock=host.clock,
        )
        return ()


PLATFORM = WhatsAppPlatform()
