"""The Telegram bot: aiogram's dispatcher with Lookout's routers and services."""
from __future__ import annotations

from aiogram import Dispatcher
from sqlalchemy.ext.asyncio import AsyncEngine

from bots.telegram.routers import membership
from core.services.residents import ResidentService
from storage.fsm import SqlFsmStorage


def build_dispatcher(engine: AsyncEngine, residents: ResidentService) -> Dispatcher:
    dispatcher = Dispatcher(storage=SqlFsmStorage(engine))
    dispatcher.include_router(membership.router)
    # Services reach handlers as keyword arguments (aiogram's workflow data).
    dispatcher["residents"] = residents
    return dispatcher


def allowed_updates(dispatcher: Dispatcher) -> list[str]:
    """The update types Lookout's handlers use, for setWebhook."""
    return sorted(set(dispatcher.resolve_used_update_types()) | {"my_chat_member"})
