"""Registering the webhook with Telegram (``lookout telegram set-webhook``)."""

from __future__ import annotations

import asyncio

from bots.telegram.adapter import make_bot
from bots.telegram.bot import ALLOWED_UPDATES, command_menu
from bots.telegram.webhook import WEBHOOK_PATH
from core.conversation.texts import DEFAULT_LANGUAGE, available_languages
from core.errors import LookoutError
from core.settings import Settings


def set_webhook(settings: Settings) -> str:
    if not settings.telegram_bot_token:
        raise LookoutError("TELEGRAM_BOT_TOKEN is not set, so Telegram is off; set it (from @BotFather) first.")
    if not settings.telegram_webhook_secret:
        raise LookoutError(
            "Set TELEGRAM_WEBHOOK_SECRET (any long random string) so Lookout can tell Telegram's calls from anyone else's."
        )
    if not settings.public_url:
        raise LookoutError(
            "Set LOOKOUT_PUBLIC_URL to the address Telegram can reach, e.g. https://lookout.force.example"
        )
    return asyncio.run(_register(settings))


async def _register(settings: Settings) -> str:
    bot = make_bot(settings.telegram_bot_token.get_secret_value(), settings.telegram_api_base)  # type: ignore[union-attr]
    try:
        url = settings.public_url.rstrip("/") + WEBHOOK_PATH  # type: ignore[union-attr]
        updates = ALLOWED_UPDATES
        await bot.set_webhook(
            url,
            secret_token=settings.telegram_webhook_secret.get_secret_value(),  # type: ignore[union-attr]
            allowed_updates=updates,
            drop_pending_updates=False,
        )
        # The command menu, in the default language for everyone and in each other language for its speakers.
        await bot.set_my_commands(command_menu(DEFAULT_LANGUAGE))
        for language in available_languages():
            if language != DEFAULT_LANGUAGE:
                await bot.set_my_commands(command_menu(language), language_code=language)
        info = await bot.get_webhook_info()
    finally:
        await bot.session.close()
    return f"Telegram will send {', '.join(updates)} updates to {info.url}; the command menu is set."
