"""Registering the webhook with Telegram (``lookout telegram set-webhook``)."""
from __future__ import annotations

import asyncio

from bots.app import build
from bots.telegram.bot import allowed_updates, menu
from bots.telegram.webhook import WEBHOOK_PATH
from core.errors import LookoutError
from core.model import Channel
from core.settings import Settings


def set_webhook(settings: Settings) -> str:
    if not settings.telegram_bot_token:
        raise LookoutError("TELEGRAM_BOT_TOKEN is not set, so Telegram is off; set it (from @BotFather) first.")
    if not settings.telegram_webhook_secret:
        raise LookoutError("Set TELEGRAM_WEBHOOK_SECRET (any long random string) so Lookout can tell Telegram's calls from anyone else's.")
    if not settings.public_url:
        raise LookoutError("Set LOOKOUT_PUBLIC_URL to the address Telegram can reach, e.g. https://lookout.force.example")
    return asyncio.run(_register(settings))


async def _register(settings: Settings) -> str:
    lookout = build(settings)
    try:
        bot = lookout.adapters[Channel.TELEGRAM].bot  # type: ignore[attr-defined]
        url = settings.public_url.rstrip("/") + WEBHOOK_PATH  # type: ignore[union-attr]
        dispatcher = lookout.telegram_dispatcher()
        updates = allowed_updates(dispatcher)
        await bot.set_webhook(
            url,
            secret_token=settings.telegram_webhook_secret.get_secret_value(),  # type: ignore[union-attr]
            allowed_updates=updates,
            drop_pending_updates=False,
        )
        # The command menu, in English for everyone and in each other language for its speakers.
        i18n = dispatcher["i18n"]
        await bot.set_my_commands(menu(i18n, "en"))
        for locale in i18n.available_locales:
            if locale != "en":
                await bot.set_my_commands(menu(i18n, locale), language_code=locale)
        info = await bot.get_webhook_info()
    finally:
        await lookout.aclose()
    return f"Telegram will send {', '.join(updates)} updates to {info.url}; the command menu is set."
