"""A tip's photos, fetched from Telegram by file id only when the tip is sent (``PhotoSource``)."""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramNotFound

from core.conversation.turn import PhotoGone
from core.model import TipPhoto


class TelegramPhotos:
    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def fetch(self, ref: str, number: int) -> TipPhoto:
        try:
            data = await self._bot.download(ref)
        except (TelegramBadRequest, TelegramNotFound) as exc:  # an unknown file id, or one too big for bots to fetch
            raise PhotoGone(exc.message) from exc
        if data is None:
            raise PhotoGone(ref)
        return TipPhoto(name=f"photo-{number}.jpg", content_type="image/jpeg", data=data.read())
