"""The Telegram bot: aiogram's dispatcher with Lookout's routers, services, translations and error replies."""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Dispatcher
from aiogram.filters import ExceptionTypeFilter
from aiogram.fsm.storage.base import BaseStorage
from aiogram.types import BotCommand, CallbackQuery, ErrorEvent, Message, TelegramObject
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bots.telegram.i18n import ResidentLanguage, make_i18n
from bots.telegram.routers import fallback, manage, membership, onboarding
from bots.telegram.routers import tips as tip_flow
from core.clock import Clock
from core.errors import InvalidInput, LookoutError
from core.force import ForceConfig
from core.geocoding import Geocoder
from core.services.residents import ResidentService
from core.services.subscriptions import SubscriptionService
from core.services.tips import TipService

logger = logging.getLogger("lookout.telegram")


def build_dispatcher(
    storage: BaseStorage,
    *,
    force: ForceConfig,
    residents: ResidentService,
    subscriptions: SubscriptionService,
    tips: TipService,
    geocoder: Geocoder,
    clock: Clock,
) -> Dispatcher:
    dispatcher = Dispatcher(storage=storage)
    # Order matters: a conversation step (onboarding, managing) takes a message before the tips catch-alls.
    for module in (membership, onboarding, manage, tip_flow, fallback):
        dispatcher.include_router(module.build_router())
    # Lookout talks one to one: groups, channels and updates with no sender are acknowledged and left alone.
    dispatcher.message.outer_middleware(only_private_chats)
    dispatcher.callback_query.outer_middleware(only_private_chats)
    i18n = make_i18n()
    ResidentLanguage(i18n).setup(dispatcher)
    dispatcher.errors.register(_explain_error, ExceptionTypeFilter(LookoutError))
    # Services reach handlers as keyword arguments (aiogram's workflow data).
    dispatcher.workflow_data.update(
        force=force, residents=residents, subscriptions=subscriptions, tips=tips, geocoder=geocoder, i18n=i18n, clock=clock
    )
    return dispatcher


async def only_private_chats(
    handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]], event: TelegramObject, data: dict[str, Any]
) -> Any:
    message = event.message if isinstance(event, CallbackQuery) else event
    sender = getattr(event, "from_user", None)
    if sender is None or sender.is_bot or not isinstance(message, Message) or message.chat.type != "private" or message.chat.id != sender.id:
        return None
    return await handler(event, data)


async def _explain_error(event: ErrorEvent) -> bool:
    """A problem meant for the resident (bad input, not subscribed, too many tips): tell them politely."""
    exc = event.exception
    text = " ".join(exc.errors.values()) if isinstance(exc, InvalidInput) else str(exc)
    update = event.update
    if update.callback_query is not None:
        await update.callback_query.answer()
        if update.callback_query.message is not None:
            await update.callback_query.message.answer(_(text), parse_mode=None)
    elif update.message is not None:
        await update.message.answer(_(text), parse_mode=None)
    logger.info("told a resident: %s", type(exc).__name__)
    return True


def allowed_updates(dispatcher: Dispatcher) -> list[str]:
    """The update types Lookout's handlers use, for setWebhook."""
    return sorted(set(dispatcher.resolve_used_update_types()) | {"my_chat_member"})


def menu(i18n: I18n, locale: str) -> list[BotCommand]:
    """The command menu (setMyCommands) in one language."""
    with i18n.context(), i18n.use_locale(locale):
        return [
            BotCommand(command="start", description=_("Subscribe to alerts")),
            BotCommand(command="places", description=_("Your places")),
            BotCommand(command="topics", description=_("What you get alerts about")),
            BotCommand(command="business", description=_("Alerts for your business")),
            BotCommand(command="pause", description=_("Pause alerts")),
            BotCommand(command="resume", description=_("Resume alerts")),
            BotCommand(command="quiet", description=_("Quiet hours")),
            BotCommand(command="language", description=_("Change language")),
            BotCommand(command="mydata", description=_("A copy of your data")),
            BotCommand(command="stop", description=_("Unsubscribe and delete your data")),
            BotCommand(command="help", description=_("Help")),
        ]
