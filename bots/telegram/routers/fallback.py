"""Anything no other handler took: a gentle pointer, never silence."""
from __future__ import annotations

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _



async def not_understood(message: Message, state: FSMContext) -> None:
    if await state.get_state() is not None:
        await message.answer(_("Please use the buttons above — or send /help to see what you can do."))
    else:
        await message.answer(_("Sorry, I didn't understand that. Send /help to see what you can do, or /start to subscribe."))


async def stale_button(query: CallbackQuery) -> None:
    # A button from an earlier step (the conversation has moved on): say so rather than spin.
    await query.answer(_("That button has expired. Send /help to see what you can do."), show_alert=True)


def build_router() -> Router:
    """A fresh router for one dispatcher (an aiogram router can belong to only one)."""
    router = Router(name="fallback")
    router.message.register(not_understood)
    router.callback_query.register(stale_button)
    return router
