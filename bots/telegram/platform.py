"""Telegram as the composition root sees it: the adapter from the settings, the webhook on the app."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from core.model import Channel
from core.settings import Settings

if TYPE_CHECKING:  # the SDK loads only when Telegram is on
    from fastapi import FastAPI
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bots.platform import Background, Host
    from bots.telegram.adapter import TelegramAdapter
    from core.force import ForceConfig
    from core.outbound import ChannelAdapter


class TelegramPlatform:
    channel = Channel.TELEGRAM

    def build_adapter(self, settings: Settings, *, force: ForceConfig, engine: AsyncEngine) -> TelegramAdapter | None:
        if not settings.telegram_bot_token:
            return None
        from bots.telegram.adapter import TelegramAdapter, make_bot, make_conversation_bot

        token = settings.telegram_bot_token.get_secret_value()
        # Two sessions: the worker's sends are paced by the delivery engine, the conversation's replies by PaceReplies.
        return TelegramAdapter(
            make_bot(token, settings.telegram_api_base),
            conversation_bot=make_conversation_bot(token, settings.telegram_api_base),
        )

    def mount(self, app: FastAPI, host: Host, adapter: ChannelAdapter) -> Sequence[Background]:
        from bots.telegram.adapter import TelegramAdapter
        from bots.telegram.bot import build_telegram_bot
        from bots.telegram.webhook import add_telegram_webhook
        from core.replies import ReplyQueue

        assert isinstance(adapter, TelegramAdapter)
        secret = host.settings.telegram_webhook_secret
        conversations = host.conversations()
        bot = adapter.conversation_bot
        handler = build_telegram_bot(
            bot,
            force=host.force,
            subscriptions=host.subscriptions,
            tips=host.tips,
            geocoder=host.geocoder,
            residents=host.residents,
            store=conversations,
            clock=host.clock,
            feedback=host.feedback,
        )
        replies = ReplyQueue("Telegram")
        add_telegram_webhook(
            app,
            bot=bot,
            handler=handler,
            conversations=conversations,
            secret=secret.get_secret_value() if secret else None,
            inbound=host.inbound,
            replies=replies,
        )
        return (replies,)


PLATFORM = TelegramPlatform()
