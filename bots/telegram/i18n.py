"""Translations: gettext catalogues in ``core/locales`` (shared with WhatsApp), picked per resident.

A resident's language is the one they chose with /language, kept in their
conversation data; before they choose, their Telegram app's language if
Lookout has it, else English. Adding a language is adding a catalogue.
"""
from __future__ import annotations

from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from core.conversation.texts import DEFAULT_LANGUAGE, DOMAIN, LANGUAGE_NAMES, LOCALES

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGE_KEY", "LANGUAGE_NAMES", "ResidentLanguage", "make_i18n", "reset"]

LANGUAGE_KEY = "lang"  # in the conversation data


def make_i18n() -> I18n:
    return I18n(path=LOCALES, default_locale=DEFAULT_LANGUAGE, domain=DOMAIN)


class ResidentLanguage(I18nMiddleware):
    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        state: FSMContext | None = data.get("state")
        if state is not None:
            chosen = (await state.get_data()).get(LANGUAGE_KEY)
            if chosen in self.i18n.available_locales:
                return chosen
        user: User | None = data.get("event_from_user")
        code = (user.language_code or "").split("-")[0] if user else ""
        return code if code in self.i18n.available_locales else DEFAULT_LANGUAGE


async def reset(state: FSMContext) -> None:
    """End the current conversation step, keeping the resident's language."""
    language = (await state.get_data()).get(LANGUAGE_KEY)
    await state.set_state(None)
    await state.set_data({LANGUAGE_KEY: language} if language else {})
