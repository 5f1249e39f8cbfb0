"""/start: welcome, age check, a place (shared location or typed address), label, topics, sector.

The same place steps add a place later (/places → Add): ``mode`` in the
conversation data says which journey the resident is on. Locations are
snapped to the force's H3 cell as soon as they arrive; the exact
coordinates are never written anywhere, not even to conversation state.
"""
from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router
from aiogram.enums import ChatAction
from aiogram.filters import CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _

from bots.telegram import keyboards as kb
from bots.telegram.common import OnLoop, address_of, escape, summary
from bots.telegram.i18n import reset
from bots.telegram.states import Onboarding
from core.conversation.texts import WELCOME
from core.errors import NotFound
from core.force import ALL_TOPICS, ForceConfig, toggle_topic
from core.geo.cells import cell_centre, snap
from core.geocoding import Geocoder, GeocodingError
from core.services.subscriptions import NewPlace, SubscriptionService


JOIN, ADD = "join", "add"


async def start(message: Message, state: FSMContext, force: ForceConfig, subscriptions: SubscriptionService) -> None:
    await reset(state)
    try:
        resident = await subscriptions.get(address_of(message.chat.id))
    except NotFound:
        resident = None
    if resident is not None:
        if not resident.active or resident.paused_until is not None:
            resident = await subscriptions.resume(address_of(message.chat.id))  # they unblocked the bot, or came back
        await message.answer(_("Welcome back. You're subscribed to {force} alerts.").format(force=escape(force.name)) + "\n\n" + summary(force, resident))
        return
    await message.answer(
        _(WELCOME).format(force=escape(force.name), age=force.settings.minimum_age),
        reply_markup=kb.age_keyboard(force.settings.minimum_age),
    )
    await state.set_state(Onboarding.age)


async def age_answered(query: CallbackQuery, callback_data: kb.Age, state: FSMContext, force: ForceConfig) -> None:
    await query.answer()
    if not callback_data.old_enough:
        await state.clear()  # nothing kept, not even the language: the row (and the chat id) goes
        await query.message.answer(  # type: ignore[union-attr]
            _("Sorry — you need to be {age} or over to use Lookout. Nothing about you has been kept. "
              "If you see a crime happening, tell a trusted adult or call 999.").format(age=force.settings.minimum_age)
        )
        return
    await state.update_data(mode=JOIN)
    await ask_for_place(query.message, state)  # type: ignore[arg-type]


async def ask_for_place(message: Message, state: FSMContext) -> None:
    await message.answer(
        _("Where do you want alerts for? Tap <b>Share my location</b>, or type a postcode or street and town."),
        reply_markup=kb.share_location_keyboard(),
    )
    await state.set_state(Onboarding.location)


async def location_shared(message: Message, state: FSMContext, force: ForceConfig) -> None:
    # A live location is taken once, as it is now; its later updates are never asked for.
    lat, lon = _snapped(message.location.latitude, message.location.longitude, force)  # type: ignore[union-attr]
    await state.update_data(place={"lat": lat, "lon": lon}, candidates=None)
    await message.answer(_("Got it — thank you."), reply_markup=ReplyKeyboardRemove())
    await ask_for_label(message, state)


async def address_typed(message: Message, state: FSMContext, bot: Bot, force: ForceConfig, geocoder: Geocoder) -> None:
    await bot.send_chat_action(message.chat.id, ChatAction.TYPING)
    try:
        found = await geocoder.search(message.text or "", limit=5)
    except GeocodingError as exc:
        await message.answer(escape(exc.message))
        return
    candidates = [{"label": c.label, **dict(zip(("lat", "lon"), _snapped(c.lat, c.lon, force), strict=True))} for c in found]
    await state.update_data(candidates=candidates)
    if len(candidates) == 1:
        await message.answer(
            _("Is this right?\n📍 {place}").format(place=escape(candidates[0]["label"])), reply_markup=kb.confirm_keyboard()
        )
        await state.set_state(Onboarding.confirm_place)
    else:
        await message.answer(_("Which one do you mean?"), reply_markup=kb.candidates_keyboard([c["label"] for c in candidates]))
        await state.set_state(Onboarding.choose_place)


async def not_a_place(message: Message) -> None:
    await message.answer(_("Please share your location with the button, or type a postcode like ST16 2LZ."))


async def place_picked(query: CallbackQuery, callback_data: kb.PickPlace, state: FSMContext) -> None:
    await query.answer()
    candidates: list[dict[str, Any]] = (await state.get_data()).get("candidates") or []
    if not 0 <= callback_data.index < len(candidates):
        await query.message.answer(_("Try typing it another way — a full postcode works best — or share your location."))  # type: ignore[union-attr]
        await state.set_state(Onboarding.location)
        return
    await _use_candidate(query, state, candidates[callback_data.index])


async def place_confirmed(query: CallbackQuery, callback_data: kb.ConfirmPlace, state: FSMContext) -> None:
    await query.answer()
    candidates: list[dict[str, Any]] = (await state.get_data()).get("candidates") or []
    if not callback_data.yes or not candidates:
        await query.message.answer(_("No problem. Type it again — a full postcode works best — or share your location."))  # type: ignore[union-attr]
        await state.set_state(Onboarding.location)
        return
    await _use_candidate(query, state, candidates[0])


async def _use_candidate(query: CallbackQuery, state: FSMContext, candidate: dict[str, Any]) -> None:
    await state.update_data(place={"lat": candidate["lat"], "lon": candidate["lon"]}, candidates=None)
    await query.message.edit_reply_markup(reply_markup=None)  # type: ignore[union-attr]
    await query.message.answer(_("📍 {place}").format(place=escape(candidate["label"])), reply_markup=ReplyKeyboardRemove())  # type: ignore[union-attr]
    await ask_for_label(query.message, state)  # type: ignore[arg-type]


async def ask_for_label(message: Message, state: FSMContext) -> None:
    await message.answer(_("What is this place to you?"), reply_markup=kb.labels_keyboard())
    await state.set_state(Onboarding.label)


async def label_chosen(
    query: CallbackQuery, callback_data: kb.Label, state: FSMContext, force: ForceConfig, subscriptions: SubscriptionService
) -> None:
    await query.answer()
    await query.message.edit_reply_markup(reply_markup=None)  # type: ignore[union-attr]
    data = await state.get_data()
    label = kb.label_text(callback_data.key)
    if data.get("mode") == ADD:
        place = data["place"]
        resident = await subscriptions.add_place(address_of(query.message.chat.id), NewPlace(label, place["lat"], place["lon"]))  # type: ignore[union-attr]
        await reset(state)
        await query.message.answer(  # type: ignore[union-attr]
            _("Added <b>{label}</b>. You now get alerts for: {places}.").format(
                label=escape(label), places=escape(", ".join(p.label for p in resident.places))
            )
        )
        return
    await state.update_data(label=label, topics=[ALL_TOPICS])
    await query.message.answer(  # type: ignore[union-attr]
        _("Which alerts would you like? <b>All local crime</b> covers everything; or pick the ones you care about. Tap <b>Done</b> when ready."),
        reply_markup=kb.topics_keyboard(force, [ALL_TOPICS]),
    )
    await state.set_state(Onboarding.topics)


async def topic_toggled(
    query: CallbackQuery, callback_data: kb.Topic, state: FSMContext, force: ForceConfig, subscriptions: SubscriptionService
) -> None:
    chosen = set((await state.get_data()).get("topics") or [])
    if callback_data.key == "done":
        if not chosen:
            await query.answer(_("Pick at least one — All local crime covers everything."), show_alert=True)
            return
        await query.answer()
        await query.message.edit_reply_markup(reply_markup=None)  # type: ignore[union-attr]
        await ask_for_sector(query.message, state, force, subscriptions)  # type: ignore[arg-type]
        return
    await query.answer()
    if callback_data.key in force.topics:
        chosen = toggle_topic(chosen, callback_data.key)
    await state.update_data(topics=sorted(chosen))
    await query.message.edit_reply_markup(reply_markup=kb.topics_keyboard(force, chosen))  # type: ignore[union-attr]


async def ask_for_sector(message: Message, state: FSMContext, force: ForceConfig, subscriptions: SubscriptionService) -> None:
    if not force.sectors:
        await finish_subscribing(message, state, force, None, subscriptions)
        return
    await message.answer(
        _("Are you signing up for a business? Pick its sector to get alerts for businesses like yours, or carry on as a resident."),
        reply_markup=kb.sectors_keyboard(force),
    )
    await state.set_state(Onboarding.sector)


async def sector_chosen(
    query: CallbackQuery, callback_data: kb.Sector, state: FSMContext, force: ForceConfig, subscriptions: SubscriptionService
) -> None:
    await query.answer()
    await query.message.edit_reply_markup(reply_markup=None)  # type: ignore[union-attr]
    sector = callback_data.key if callback_data.key in force.sectors else None
    await finish_subscribing(query.message, state, force, sector, subscriptions)  # type: ignore[arg-type]


async def finish_subscribing(
    message: Message, state: FSMContext, force: ForceConfig, sector: str | None, subscriptions: SubscriptionService
) -> None:
    data = await state.get_data()
    place = data["place"]
    resident = await subscriptions.subscribe(
        address_of(message.chat.id),
        age_confirmed=True,
        places=[NewPlace(data.get("label") or kb.label_text("home"), place["lat"], place["lon"])],
        topics=data.get("topics") or [ALL_TOPICS],
        sector=sector,
        language=data.get("lang") or "en",
    )
    await reset(state)
    await message.answer(summary(force, resident))


def _snapped(lat: float, lon: float, force: ForceConfig) -> tuple[float, float]:
    """The centre of the location's H3 cell: all Lookout keeps of where someone lives."""
    return cell_centre(snap(lat, lon, force.resolution))


def build_router() -> Router:
    """A fresh router for one dispatcher (an aiogram router can belong to only one)."""
    router = Router(name="onboarding")
    router.message.register(start, CommandStart())
    router.callback_query.register(age_answered, StateFilter(Onboarding.age), kb.Age.filter())
    router.message.register(location_shared, StateFilter(Onboarding.location), OnLoop(F.location))
    router.message.register(address_typed, StateFilter(Onboarding.location), OnLoop(F.text))
    router.message.register(not_a_place, StateFilter(Onboarding.location))
    router.callback_query.register(place_picked, StateFilter(Onboarding.choose_place), kb.PickPlace.filter())
    router.callback_query.register(place_confirmed, StateFilter(Onboarding.confirm_place), kb.ConfirmPlace.filter())
    router.callback_query.register(label_chosen, StateFilter(Onboarding.label), kb.Label.filter())
    router.callback_query.register(topic_toggled, StateFilter(Onboarding.topics), kb.Topic.filter())
    router.callback_query.register(sector_chosen, StateFilter(Onboarding.sector), kb.Sector.filter())
    return router
