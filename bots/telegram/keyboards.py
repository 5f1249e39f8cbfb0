"""Inline and reply keyboards, and the callback data they carry (packed by aiogram, ≤ 64 bytes)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from core.force import ForceConfig

PLACE_LABELS = ("home", "work", "school", "other")
PAUSE_HOURS = (1, 8, 24, 0)  # 0: until they resume
QUIET_PRESETS = {"22-07": ("22:00", "07:00"), "23-06": ("23:00", "06:00"), "21-08": ("21:00", "08:00")}
MAX_CHOICE_LABEL = 60


class Age(CallbackData, prefix="age"):
    old_enough: bool


class PickPlace(CallbackData, prefix="gp"):
    index: int  # -1: none of these


class ConfirmPlace(CallbackData, prefix="cp"):
    yes: bool


class Label(CallbackData, prefix="lb"):
    key: str


class Topic(CallbackData, prefix="tp"):
    key: str  # a topic key, or "done"


class Sector(CallbackData, prefix="sc"):
    key: str  # a sector key, or "none"


class PlaceAction(CallbackData, prefix="pl"):
    action: str  # add | rename | remove
    index: int


class Pause(CallbackData, prefix="pz"):
    hours: int


class Quiet(CallbackData, prefix="qt"):
    preset: str  # a QUIET_PRESETS key, or "off"


class Language(CallbackData, prefix="lg"):
    code: str


class Stop(CallbackData, prefix="st"):
    sure: bool


class TipStep(CallbackData, prefix="tf"):
    action: str  # done | cancel | anonymous | contact | send | discard


def label_text(key: str) -> str:
    return {"home": _("Home"), "work": _("Work"), "school": _("School"), "other": _("Other")}.get(key, key)


def rows(buttons: Iterable[InlineKeyboardButton], per_row: int = 1) -> InlineKeyboardMarkup:
    flat = list(buttons)
    return InlineKeyboardMarkup(inline_keyboard=[flat[i:i + per_row] for i in range(0, len(flat), per_row)])


def button(text: str, data: CallbackData | str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data if isinstance(data, str) else data.pack())


def age_keyboard(minimum_age: int) -> InlineKeyboardMarkup:
    return rows([
        button(_("Yes, I'm {age} or older").format(age=minimum_age), Age(old_enough=True)),
        button(_("No, I'm younger"), Age(old_enough=False)),
    ])


def share_location_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=_("📍 Share my location"), request_location=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
        input_field_placeholder=_("or type a postcode, e.g. ST16 2LZ"),
    )


def candidates_keyboard(labels: Sequence[str]) -> InlineKeyboardMarkup:
    choices = [button(_shorten(label), PickPlace(index=i)) for i, label in enumerate(labels)]
    return rows([*choices, button(_("None of these"), PickPlace(index=-1))])


def confirm_keyboard() -> InlineKeyboardMarkup:
    return rows([button(_("Yes, that's right"), ConfirmPlace(yes=True)), button(_("No, try again"), ConfirmPlace(yes=False))], per_row=2)


def labels_keyboard() -> InlineKeyboardMarkup:
    return rows([button(label_text(key), Label(key=key)) for key in PLACE_LABELS], per_row=2)


def topics_keyboard(force: ForceConfig, chosen: Iterable[str]) -> InlineKeyboardMarkup:
    picked = set(chosen)
    ticks = [button(("✅ " if key in picked else "▫️ ") + topic.label, Topic(key=key)) for key, topic in force.topics.items()]
    return rows([*ticks, button(_("Done ✔️"), Topic(key="done"))])


def sectors_keyboard(force: ForceConfig) -> InlineKeyboardMarkup:
    sectors = [button(sector.label, Sector(key=key)) for key, sector in force.sectors.items()]
    return rows([button(_("No — I'm a resident"), Sector(key="none")), *sectors])


def places_keyboard(labels: Sequence[str], can_add: bool) -> InlineKeyboardMarkup:
    buttons: list[InlineKeyboardButton] = []
    for i, label in enumerate(labels):
        buttons.append(button(_("✏️ Rename {label}").format(label=_shorten(label, 24)), PlaceAction(action="rename", index=i)))
        buttons.append(button(_("🗑 Remove {label}").format(label=_shorten(label, 24)), PlaceAction(action="remove", index=i)))
    markup = rows(buttons, per_row=2)
    if can_add:
        markup.inline_keyboard.append([button(_("➕ Add a place"), PlaceAction(action="add", index=-1))])
    return markup


def pause_keyboard() -> InlineKeyboardMarkup:
    names = {1: _("1 hour"), 8: _("8 hours"), 24: _("24 hours"), 0: _("Until I resume")}
    return rows([button(names[h], Pause(hours=h)) for h in PAUSE_HOURS], per_row=2)


def quiet_keyboard() -> InlineKeyboardMarkup:
    presets = [button(f"{start}–{end}", Quiet(preset=key)) for key, (start, end) in QUIET_PRESETS.items()]
    return rows([*presets, button(_("No quiet hours"), Quiet(preset="off"))], per_row=3)


def language_keyboard(names: dict[str, str]) -> InlineKeyboardMarkup:
    return rows([button(name, Language(code=code)) for code, name in names.items()], per_row=2)


def stop_keyboard() -> InlineKeyboardMarkup:
    return rows([button(_("Yes, delete everything"), Stop(sure=True)), button(_("No, keep my alerts"), Stop(sure=False))])


def tip_collecting_keyboard() -> InlineKeyboardMarkup:
    return rows([button(_("Done — send it"), TipStep(action="done")), button(_("Cancel"), TipStep(action="cancel"))], per_row=2)


def tip_offer_keyboard() -> InlineKeyboardMarkup:
    return rows([button(_("Yes, send it"), TipStep(action="send")), button(_("No"), TipStep(action="discard"))], per_row=2)


def anonymity_keyboard() -> InlineKeyboardMarkup:
    return rows([
        button(_("Stay anonymous"), TipStep(action="anonymous")),
        button(_("Officers may contact me"), TipStep(action="contact")),
    ])


def _shorten(text: str, limit: int = MAX_CHOICE_LABEL) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


