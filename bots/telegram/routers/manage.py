"""Managing a subscription: /places, /topics, /business, /pause, /resume, /quiet, /language, /mydata, /stop, /help."""
from __future__ import annotations

import json
from datetime import time, timedelta

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import BaseStorage
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bots.telegram import keyboards as kb
from bots.telegram.common import OnLoop, address_of, escape, topics_text
from bots.telegram.i18n import LANGUAGE_KEY, LANGUAGE_NAMES, reset
from bots.telegram.routers.onboarding import ADD, ask_for_place
from bots.telegram.states import Managing
from core.clock import Clock
from core.conversation.texts import HELP
from core.errors import NotFound
from core.force import ForceConfig, toggle_topic
from core.model import MAX_PLACES_PER_RESIDENT, QuietHours
from core.services.subscriptions import SubscriptionService



def help_text(force: ForceConfig) -> str:
    return _(HELP).format(force=escape(force.name))


async def show_help(message: Message, force: ForceConfig) -> None:
    await message.answer(help_text(force))


# --- places -------------------------------------------------------------------------


async def show_places(message: Message, state: FSMContext, subscriptions: SubscriptionService) -> None:
    await reset(state)
    resident = await subscriptions.get(address_of(message.chat.id))
    listing = "\n".join(f"{i}. {escape(p.label)}" for i, p in enumerate(resident.places, start=1))
    await message.answer(
        _("<b>Your places</b>\n{places}\n\nYou can have up to {most}.").format(places=listing, most=MAX_PLACES_PER_RESIDENT),
        reply_markup=kb.places_keyboard([p.label for p in resident.places], len(resident.places) < MAX_PLACES_PER_RESIDENT),
    )


async def add_place(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    await state.update_data(mode=ADD)
    await ask_for_place(query.message, state)  # type: ignore[arg-type]


async def remove_place(query: CallbackQuery, callback_data: kb.PlaceAction, subscriptions: SubscriptionService) -> None:
    await query.answer()
    resident = await subscriptions.remove_place(address_of(query.message.chat.id), callback_data.index)  # type: ignore[union-attr]
    await query.message.edit_text(  # type: ignore[union-attr]
        _("Removed. You now get alerts for: {places}.").format(places=escape(", ".join(p.label for p in resident.places)))
    )


async def ask_new_name(query: CallbackQuery, callback_data: kb.PlaceAction, state: FSMContext) -> None:
    await query.answer()
    await state.update_data(rename_index=callback_data.index)
    await state.set_state(Managing.rename_place)
    await query.message.answer(_("What should this place be called? (for example Grandma's, or Stables)"))  # type: ignore[union-attr]


async def rename_place(message: Message, state: FSMContext, subscriptions: SubscriptionService) -> None:
    index = (await state.get_data()).get("rename_index", -1)
    resident = await subscriptions.rename_place(address_of(message.chat.id), index, message.text or "")
    await reset(state)
    await message.answer(_("Done. Your places: {places}.").format(places=escape(", ".join(p.label for p in resident.places))))


# --- topics and business ------------------------------------------------------------


async def show_topics(message: Message, state: FSMContext, force: ForceConfig, subscriptions: SubscriptionService) -> None:
    resident = await subscriptions.get(address_of(message.chat.id))
    await reset(state)
    await state.update_data(topics=sorted(resident.topics))
    await state.set_state(Managing.topics)
    await message.answer(_("Tick what you'd like alerts about, then tap <b>Done</b>."), reply_markup=kb.topics_keyboard(force, resident.topics))


async def topic_toggled(query: CallbackQuery, callback_data: kb.Topic, state: FSMContext, force: ForceConfig, subscriptions: SubscriptionService) -> None:
    chosen = set((await state.get_data()).get("topics") or [])
    if callback_data.key != "done":
        await query.answer()
        if callback_data.key in force.topics:
            chosen = toggle_topic(chosen, callback_data.key)
        await state.update_data(topics=sorted(chosen))
        await query.message.edit_reply_markup(reply_markup=kb.topics_keyboard(force, chosen))  # type: ignore[union-attr]
        return
    if not chosen:
        await query.answer(_("Pick at least one — All local crime covers everything."), show_alert=True)
        return
    await query.answer()
    resident = await subscriptions.set_topics(address_of(query.message.chat.id), sorted(chosen))  # type: ignore[union-attr]
    await reset(state)
    await query.message.edit_text(_("Saved. Topics: {topics}.").format(topics=escape(topics_text(force, resident.topics))))  # type: ignore[union-attr]


async def show_business(message: Message, force: ForceConfig, subscriptions: SubscriptionService) -> None:
    resident = await subscriptions.get(address_of(message.chat.id))
    current = force.sectors[resident.sector].label if resident.sector else _("none — you get alerts as a resident")
    await message.answer(
        _("Business sector: {sector}. Pick a sector, or carry on as a resident.").format(sector=escape(current)),
        reply_markup=kb.sectors_keyboard(force),
    )


async def sector_chosen(query: CallbackQuery, callback_data: kb.Sector, force: ForceConfig, subscriptions: SubscriptionService) -> None:
    await query.answer()
    sector = callback_data.key if callback_data.key in force.sectors else None
    await subscriptions.set_sector(address_of(query.message.chat.id), sector)  # type: ignore[union-attr]
    text = _("Saved: alerts for {sector} businesses.").format(sector=escape(force.sectors[sector].label)) if sector else _("Saved: you get alerts as a resident.")
    await query.message.edit_text(text)  # type: ignore[union-attr]


# --- pause, quiet hours, language ---------------------------------------------------


async def show_pause(message: Message, subscriptions: SubscriptionService) -> None:
    await subscriptions.get(address_of(message.chat.id))
    await message.answer(_("Pause alerts for how long?"), reply_markup=kb.pause_keyboard())


async def paused(query: CallbackQuery, callback_data: kb.Pause, subscriptions: SubscriptionService, clock: Clock) -> None:
    await query.answer()
    hours = callback_data.hours if callback_data.hours in kb.PAUSE_HOURS else 0
    until = clock() + timedelta(hours=hours) if hours else None
    await subscriptions.pause(address_of(query.message.chat.id), until)  # type: ignore[union-attr]
    text = (
        _("Paused for {hours} h. Send /resume to start again sooner.").format(hours=hours)
        if hours
        else _("Paused until you send /resume.")
    )
    await query.message.edit_text(text)  # type: ignore[union-attr]


async def resume(message: Message, subscriptions: SubscriptionService) -> None:
    await subscriptions.resume(address_of(message.chat.id))
    await message.answer(_("Welcome back — alerts are on again."))


async def show_quiet(message: Message, subscriptions: SubscriptionService) -> None:
    resident = await subscriptions.get(address_of(message.chat.id))
    quiet = resident.quiet_hours
    current = f"{quiet.start:%H:%M}–{quiet.end:%H:%M}" if quiet else _("none")
    await message.answer(
        _("Quiet hours: {current}.\nDuring quiet hours, alerts wait until the morning — except urgent ones, which always come straight away.").format(current=current),
        reply_markup=kb.quiet_keyboard(),
    )


async def quiet_chosen(query: CallbackQuery, callback_data: kb.Quiet, subscriptions: SubscriptionService) -> None:
    await query.answer()
    preset = kb.QUIET_PRESETS.get(callback_data.preset)
    quiet = QuietHours(time.fromisoformat(preset[0]), time.fromisoformat(preset[1])) if preset else None
    await subscriptions.set_quiet_hours(address_of(query.message.chat.id), quiet)  # type: ignore[union-attr]
    text = _("Quiet hours set: {start}–{end}.").format(start=preset[0], end=preset[1]) if preset else _("Quiet hours are off.")
    await query.message.edit_text(text)  # type: ignore[union-attr]


async def show_languages(message: Message, i18n: I18n) -> None:
    names = {code: LANGUAGE_NAMES.get(code, code) for code in sorted(i18n.available_locales)}
    await message.answer(_("Choose your language:"), reply_markup=kb.language_keyboard(names))


async def language_chosen(query: CallbackQuery, callback_data: kb.Language, state: FSMContext, i18n: I18n, subscriptions: SubscriptionService) -> None:
    if callback_data.code not in i18n.available_locales:
        await query.answer()
        return
    await query.answer()
    await state.update_data({LANGUAGE_KEY: callback_data.code})
    i18n.current_locale = callback_data.code
    try:
        await subscriptions.set_language(address_of(query.message.chat.id), callback_data.code)  # type: ignore[union-attr]
    except NotFound:
        pass  # not subscribed yet: the choice stays in the conversation and is saved when they subscribe
    await query.message.edit_text(_("Language: English."))  # type: ignore[union-attr]


# --- my data and stop ---------------------------------------------------------------


async def my_data(message: Message, bot: Bot, subscriptions: SubscriptionService) -> None:
    export = await subscriptions.export(address_of(message.chat.id))
    document = BufferedInputFile(json.dumps(export, indent=2, ensure_ascii=False).encode(), filename="lookout-my-data.json")
    await bot.send_document(message.chat.id, document, caption=_("Everything Lookout holds about you. /stop deletes it all."))


async def ask_stop(message: Message) -> None:
    await message.answer(
        _("This unsubscribes you and deletes everything we hold about you: your places, topics and any tips you sent. Are you sure?"),
        reply_markup=kb.stop_keyboard(),
    )


async def stop_answered(
    query: CallbackQuery, callback_data: kb.Stop, state: FSMContext, fsm_storage: BaseStorage, subscriptions: SubscriptionService
) -> None:
    await query.answer()
    if not callback_data.sure:
        await query.message.edit_text(_("Nothing changed — you'll keep getting alerts."))  # type: ignore[union-attr]
        return
    chat_id = query.message.chat.id  # type: ignore[union-attr]
    await subscriptions.erase(address_of(chat_id))
    await state.clear()
    forget = getattr(fsm_storage, "forget_chat", None)
    if forget is not None:
        await forget(chat_id)  # every conversation key of this chat, not just this one
    await query.message.edit_text(  # type: ignore[union-attr]
        _("Done. You're unsubscribed and everything we held about you has been deleted. Send /start if you ever want alerts again.")
    )


def build_router() -> Router:
    """A fresh router for one dispatcher (an aiogram router can belong to only one)."""
    router = Router(name="manage")
    router.message.register(show_help, Command("help"))
    router.message.register(show_places, Command("places"))
    router.callback_query.register(add_place, kb.PlaceAction.filter(F.action == "add"))
    router.callback_query.register(remove_place, kb.PlaceAction.filter(F.action == "remove"))
    router.callback_query.register(ask_new_name, kb.PlaceAction.filter(F.action == "rename"))
    router.message.register(rename_place, StateFilter(Managing.rename_place), OnLoop(F.text))
    router.message.register(show_topics, Command("topics"))
    router.callback_query.register(topic_toggled, StateFilter(Managing.topics), kb.Topic.filter())
    router.message.register(show_business, Command("business"))
    router.callback_query.register(sector_chosen, kb.Sector.filter(), OnLoop(F.message))
    router.message.register(show_pause, Command("pause"))
    router.callback_query.register(paused, kb.Pause.filter())
    router.message.register(resume, Command("resume"))
    router.message.register(show_quiet, Command("quiet"))
    router.callback_query.register(quiet_chosen, kb.Quiet.filter())
    router.message.register(show_languages, Command("language"))
    router.callback_query.register(language_chosen, kb.Language.filter())
    router.message.register(my_data, Command("mydata"))
    router.message.register(ask_stop, Command("stop"))
    router.callback_query.register(stop_answered, kb.Stop.filter())
    return router
