"""Tips: "I have information" (or a reply to an alert), then text, photos and a place; anonymous or not; a reference back.

Also the conversation after: an officer's reply arrives with an Answer button,
and the resident's answer (by the button or by replying) goes to the same tip.
The draft tip lives in the conversation state until it is sent, so a resident
can take their time and any web process can take the next message.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, User
from aiogram.utils.i18n import gettext as _

from bots.telegram import keyboards as kb
from bots.telegram.common import OnLoop, address_of, escape
from bots.telegram.i18n import reset
from bots.telegram.states import TipFlow
from core.clock import Clock
from core.model import MessageKind, TipPhoto
from core.services.subscriptions import SubscriptionService
from core.services.tips import MAX_PHOTOS, MAX_TIP_TEXT, NewTip, TipService, TooManyTips

logger = logging.getLogger("lookout.telegram.tips")

ALERT_KINDS = (MessageKind.ALERT, MessageKind.ALERT_UPDATE, MessageKind.ALERT_CANCEL)
FLOOD_NOTICE_KEY = "flood_notice_at"
TIP_REFERENCE = re.compile(r"\bT-\d{4}-\d{6}\b")


def _empty_draft(alert_id: int | None) -> dict[str, Any]:
    return {"alert_id": alert_id, "texts": [], "photos": [], "location": None}


# --- starting a tip -----------------------------------------------------------------


async def tip_button(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    raw = (query.data or "").removeprefix("tip:")
    await state.update_data(tip=_empty_draft(int(raw) if raw.isdigit() else None))
    await state.set_state(TipFlow.collecting)
    await query.message.answer(  # type: ignore[union-attr]
        _(
            "Thank you for helping. Tell us what you saw: send a message, photos, and the location where you saw it "
            "(📎 → Location). Tap <b>Done</b> when you've finished.\n\nIn an emergency call 999."
        ),
        reply_markup=kb.tip_collecting_keyboard(),
    )


async def reply_to_our_message(message: Message, state: FSMContext, tips: TipService, clock: Clock) -> None:
    """A reply to an alert starts a tip with it; a reply to an officer answers that tip."""
    original = message.reply_to_message
    assert original is not None
    replied = await tips.replied_to(address_of(message.chat.id), str(original.message_id))
    if replied is not None and replied.kind is MessageKind.REPLY_TO_TIPSTER and replied.tip_id is not None:
        await _answer_officer(message, state, tips, (await tips.get_for(address_of(message.chat.id), replied.tip_id)).reference or "", clock)
        return
    # The officer's message names the tip: enough when its delivery record is not written yet, or already purged.
    named = TIP_REFERENCE.search(original.text or original.caption or "")
    if replied is None and named is not None:
        await _answer_officer(message, state, tips, named.group(0), clock)
        return
    alert_id = replied.alert_id if replied is not None and replied.kind in ALERT_KINDS else None
    draft = _empty_draft(alert_id)
    _add_to_draft(draft, message)
    await state.update_data(tip=draft)
    await state.set_state(TipFlow.anonymity)
    await message.answer(_("Thank you. Can officers contact you about this?"), reply_markup=kb.anonymity_keyboard())


async def collecting(message: Message, state: FSMContext) -> None:
    draft = (await state.get_data()).get("tip") or _empty_draft(None)
    problem = _add_to_draft(draft, message)
    await state.update_data(tip=draft)
    await message.answer(problem or _("Got it. Add more, or tap <b>Done</b>."), reply_markup=kb.tip_collecting_keyboard())


async def collecting_other(message: Message) -> None:
    await message.answer(_("Please send text, photos or a location — or tap <b>Done</b>."), reply_markup=kb.tip_collecting_keyboard())


async def collecting_done(query: CallbackQuery, state: FSMContext) -> None:
    draft = (await state.get_data()).get("tip") or _empty_draft(None)
    if not (draft["texts"] or draft["photos"] or draft["location"]):
        await query.answer(_("Please tell us what you saw first."), show_alert=True)
        return
    await query.answer()
    await query.message.edit_reply_markup(reply_markup=None)  # type: ignore[union-attr]
    await state.set_state(TipFlow.anonymity)
    await query.message.answer(_("Can officers contact you about this?"), reply_markup=kb.anonymity_keyboard())  # type: ignore[union-attr]


async def tip_cancelled(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    await reset(state)
    await query.message.edit_text(_("OK — nothing was sent."))  # type: ignore[union-attr]


async def offer_accepted(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    await query.message.edit_reply_markup(reply_markup=None)  # type: ignore[union-attr]
    await state.set_state(TipFlow.anonymity)
    await query.message.answer(_("Can officers contact you about this?"), reply_markup=kb.anonymity_keyboard())  # type: ignore[union-attr]


async def anonymity_chosen(
    query: CallbackQuery, callback_data: kb.TipStep, state: FSMContext, bot: Bot, tips: TipService, clock: Clock
) -> None:
    await query.answer()
    await query.message.edit_reply_markup(reply_markup=None)  # type: ignore[union-attr]
    data = await state.get_data()
    draft = data.get("tip") or _empty_draft(None)
    may_contact = callback_data.action == "contact"
    photos = [await _download(bot, file_id, n) for n, file_id in enumerate(draft["photos"], start=1)]
    location = tuple(draft["location"]) if draft["location"] else None
    new = NewTip(
        text="\n\n".join(draft["texts"]), alert_id=draft["alert_id"], photos=photos, location=location,  # type: ignore[arg-type]
        may_contact=may_contact, contact=_contact_for(query.from_user) if may_contact else None,
    )
    chat_id = query.message.chat.id  # type: ignore[union-attr]
    try:
        tip = await tips.submit(address_of(chat_id), new)
    except TooManyTips as exc:
        await reset(state)
        await _flood_notice(query.message, state, data, str(exc), clock())  # type: ignore[arg-type]
        return
    await reset(state)
    await query.message.answer(  # type: ignore[union-attr]
        _("Thank you — your information has reached the officers. Your reference is <b>{reference}</b>.\n\n"
          "If it's an emergency, call 999.").format(reference=tip.reference)
    )


# --- answering an officer -----------------------------------------------------------


async def answer_button(query: CallbackQuery, state: FSMContext, tips: TipService) -> None:
    await query.answer()
    raw = (query.data or "").removeprefix("ans:")
    tip = await tips.get_for(address_of(query.message.chat.id), int(raw) if raw.isdigit() else -1)  # type: ignore[union-attr]
    await state.update_data(answering=tip.reference)
    await state.set_state(TipFlow.answering)
    await query.message.answer(_("Write your answer to the officer about {reference}:").format(reference=tip.reference))  # type: ignore[union-attr]


async def answer_written(message: Message, state: FSMContext, tips: TipService, clock: Clock) -> None:
    reference = (await state.get_data()).get("answering")
    if not reference:
        await reset(state)
        return
    await _answer_officer(message, state, tips, reference, clock)


async def _answer_officer(message: Message, state: FSMContext, tips: TipService, reference: str, clock: Clock) -> None:
    text = message.text or message.caption or ""
    if not text.strip():
        await message.answer(_("Please write your answer as text."))
        return
    data = await state.get_data()
    await reset(state)
    try:
        await tips.answer(address_of(message.chat.id), reference, text)  # checks the tip is theirs and an officer wrote
    except TooManyTips as exc:
        await _flood_notice(message, state, data, str(exc), clock())
        return
    await message.answer(_("Sent to the officer ({reference}). Thank you.").format(reference=escape(reference)))


# --- a message out of the blue ------------------------------------------------------


async def message_out_of_the_blue(message: Message, state: FSMContext, subscriptions: SubscriptionService) -> None:
    """Someone subscribed writes without pressing anything: offer to send it as information."""
    if not await subscriptions.is_subscribed(address_of(message.chat.id)):
        await message.answer(_("Hello! Send /start to get police alerts for your area."))
        return
    draft = _empty_draft(None)
    _add_to_draft(draft, message)
    await state.update_data(tip=draft)
    await state.set_state(TipFlow.offer)
    await message.answer(
        _("Would you like to send this to the police as information? For an emergency, call 999."), reply_markup=kb.tip_offer_keyboard()
    )


# --- inside -------------------------------------------------------------------------


def _add_to_draft(draft: dict[str, Any], message: Message) -> str | None:
    """Add what the message carries; a polite problem if it can't be taken."""
    text = message.text or message.caption
    if text and not text.startswith("/"):
        if sum(len(t) for t in draft["texts"]) + len(text) > MAX_TIP_TEXT:
            return _("That's more text than one tip can hold. Tap <b>Done</b> to send what you have.")
        draft["texts"].append(text)
    if message.photo:
        if len(draft["photos"]) >= MAX_PHOTOS:
            return _("That's the most photos one tip can hold. Tap <b>Done</b> to send them.")
        draft["photos"].append(message.photo[-1].file_id)  # the largest size
    if message.location:
        # Where they saw something: evidence, kept as sent (not snapped like a home).
        draft["location"] = [message.location.latitude, message.location.longitude]
    return None


async def _download(bot: Bot, file_id: str, number: int) -> TipPhoto:
    data = await bot.download(file_id)
    assert data is not None
    return TipPhoto(name=f"photo-{number}.jpg", content_type="image/jpeg", data=data.getvalue())


def _contact_for(user: User) -> str:
    handle = f" (@{user.username})" if user.username else ""
    return f"{user.full_name}{handle} on Telegram"


async def _flood_notice(message: Message, state: FSMContext, data: dict[str, Any], text: str, now: datetime) -> None:
    """One polite notice a minute, however many tips arrive; nothing more is queued."""
    last = data.get(FLOOD_NOTICE_KEY)
    if last and (now - datetime.fromisoformat(last)).total_seconds() < 60:
        await state.update_data({FLOOD_NOTICE_KEY: last})  # the caller reset the state: keep when the notice went
        return
    await state.update_data({FLOOD_NOTICE_KEY: now.isoformat()})
    await message.answer(escape(_(text)))


def build_router() -> Router:
    """A fresh router for one dispatcher (an aiogram router can belong to only one)."""
    router = Router(name="tips")
    router.callback_query.register(tip_button, OnLoop(F.data.startswith("tip:")))
    router.message.register(reply_to_our_message, StateFilter(None), OnLoop(F.reply_to_message & ~F.text.startswith("/")))
    router.message.register(collecting, StateFilter(TipFlow.collecting), OnLoop(F.text | F.photo | F.location | F.caption))
    router.message.register(collecting_other, StateFilter(TipFlow.collecting))
    router.callback_query.register(collecting_done, StateFilter(TipFlow.collecting), kb.TipStep.filter(F.action == "done"))
    router.callback_query.register(tip_cancelled, kb.TipStep.filter(F.action.in_({"cancel", "discard"})))
    router.callback_query.register(offer_accepted, StateFilter(TipFlow.offer), kb.TipStep.filter(F.action == "send"))
    router.callback_query.register(anonymity_chosen, StateFilter(TipFlow.anonymity), kb.TipStep.filter(F.action.in_({"anonymous", "contact"})))
    router.callback_query.register(answer_button, OnLoop(F.data.startswith("ans:")))
    router.message.register(answer_written, StateFilter(TipFlow.answering), OnLoop(F.text))
    router.message.register(message_out_of_the_blue, StateFilter(None), OnLoop(F.text & ~F.text.startswith("/") | F.photo | F.location))
    return router
