"""SMS as the composition root sees it: the Twilio adapter from the settings, the two doors on the app."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from core.model import Channel
from core.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bots.platform import Background, Host
    from bots.sms.adapter import SmsAdapter
    from core.force import ForceConfig
    from core.outbound import ChannelAdapter


class SmsPlatform:
    channel = Channel.SMS

    def build_adapter(self, settings: Settings, *, force: ForceConfig, engine: AsyncEngine) -> SmsAdapter | None:
        if not (settings.sms_account_sid and settings.sms_auth_token):
            return None
        from bots.sms.adapter import SmsAdapter
        from bots.sms.twilio_api import Sender, TwilioApi
        from bots.sms.webhook import STATUS_PATH
        from core.alert_pages import alert_page_link

        public = settings.public_url.rstrip("/") if settings.public_url else None
        api = TwilioApi(
            settings.sms_account_sid,
            settings.sms_auth_token.get_secret_value(),
            settings.sms_api_base,
            Sender(settings.sms_from, settings.sms_messaging_service_sid),
            status_callback=f"{public}{STATUS_PATH}" if public else None,
        )
        return SmsAdapter(
            api,
            force_name=force.name,
            max_segments=settings.sms_max_segments,
            alert_link=lambda reference: alert_page_link(settings, reference),
        )

    def mount(self, app: FastAPI, host: Host, adapter: ChannelAdapter) -> Sequence[Background]:
        from bots.sms.adapter import SmsAdapter
        from bots.sms.bot import build_sms_bot
        from bots.sms.webhook import add_sms_webhooks
        from core.services.receipts import ReceiptService

        assert isinstance(adapter, SmsAdapter)
        settings = host.settings
        assert settings.sms_auth_token is not None  # the adapter is built only when it is set
        bot = build_sms_bot(
            adapter.api,
            force=host.force,
            subscriptions=host.subscriptions,
            tips=host.tips,
            geocoder=host.geocoder,
            residents=host.residents,
            receipts=ReceiptService(host.uow, clock=host.clock),
            store=host.conversations(),
            clock=host.clock,
        )
        add_sms_webhooks(
            app,
            bot=bot,
            auth_token=settings.sms_auth_token.get_secret_value(),
            public_url=settings.public_url,
            inbound=host.inbound,
        )
        return ()


PLATFORM = SmsPlatform()
