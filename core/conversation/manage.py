"""Managing a subscription: places, topics, business, pause and resume, quiet hours, language, my data, stop."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import time, timedelta

from core.conversation.onboarding import ADD, ask_place, ask_topics, sector_options
from core.conversation.prompts import Document, Option, Prompt
from core.conversation.state import Step
from core.conversation.texts import HELP, LANGUAGE_NAMES, Translate, available_languages, esc, language_or_default
from core.conversation.turn import LANGUAGE_KEY, Turn
from core.errors import NotFound
from core.model import MAX_PLACES_PER_RESIDENT, Address, QuietHours, Resident

PAUSE_HOURS = (1, 8, 24, 0)  # 0: until they resume
QUIET_PRESETS = {"22-07": ("22:00", "07:00"), "23-06": ("23:00", "06:00"), "21-08": ("21:00", "08:00")}
# The help menu: what a resident can do, each by the command (keyword) that does it.
MENU = ("places", "topics", "business", "pause", "resume", "quiet", "language", "mydata", "stop")
EXPORT_FILENAME = "lookout-my-data.json"


def _subscribed(turn: Turn) -> Resident:
    if turn.resident is None:
        raise NotFound("You're not subscribed yet. Send /start to begin.")
    return turn.resident


def command_descriptions(_: Translate) -> dict[str, str]:
    """Each command in a few words, in the menu's order (the help menu; an app's own command menu)."""
    return {
        "start": _("Subscribe to alerts"),
        "places": _("Your places"),
        "topics": _("What you get alerts about"),
        "business": _("Alerts for your business"),
        "pause": _("Pause alerts"),
        "resume": _("Resume alerts"),
        "quiet": _("Quiet hours"),
        "language": _("Change language"),
        "mydata": _("A copy of your data"),
        "stop": _("Unsubscribe and delete your data"),
        "help": _("Help"),
    }


def help_prompt(turn: Turn) -> Prompt:
    _ = turn.gettext
    text = (
        _(HELP).format(force=esc(turn.force.name))
        + "\n"
        + _("/optout — no more alerts for now, your settings kept (/start resumes them)")
    )
    descriptions = command_descriptions(_)
    # The row's title is the keyword itself, so people who prefer typing learn it by tapping.
    options = [Option(f"menu:{name}", name.upper(), description=descriptions[name]) for name in MENU]
    # Help in the middle of a step (a tip half written) leaves the step as it is.
    return turn.say(
        text, options, menu="help" if turn.step is None else None, commands_menu=True, list_button=_("Choose an action")
    )


# --- places ------------------------------------------------------------------------------


def places(turn: Turn) -> Prompt:
    _ = turn.gettext
    resident = _subscribed(turn)
    turn.reset()
    listing = "\n".join(f"{i}. {esc(p.label)}" for i, p in enumerate(resident.places, start=1))
    options: list[Option] = []
    for i, place in enumerate(resident.places):
        options.append(Option(f"pl:ren:{i}", _("✏️ Rename {label}").format(label=place.label)))
        options.append(Option(f"pl:rm:{i}", _("🗑 Remove {label}").format(label=place.label)))
    if len(resident.places) < MAX_PLACES_PER_RESIDENT:
        options.append(Option("pl:add", _("➕ Add a place"), pinned=True))
    text = _("<b>Your places</b>\n{places}\n\nYou can have up to {most}.").format(
        places=listing, most=MAX_PLACES_PER_RESIDENT
    )
    return turn.say(text, options, menu="places", list_button=_("Choose a place"))


async def on_place_action(turn: Turn, action: str, index: int) -> Prompt:
    _ = turn.gettext
    _subscribed(turn)
    if action == "add":
        turn.reset()
        turn.data["mode"] = ADD
        return ask_place(turn)
    if action == "rm":
        resident = await turn.services.subscriptions.remove_place(turn.address, index)
        turn.reset()
        return turn.say(
            _("Removed. You now get alerts for: {places}.").format(
                places=esc(", ".join(p.label for p in resident.places))
            )
        )
    turn.reset()
    turn.data["rename_index"] = index
    turn.go(Step.RENAME_PLACE)
    return turn.say(_("What should this place be called? (for example Grandma's, or Stables)"))


async def on_rename(turn: Turn, label: str) -> Prompt:
    _ = turn.gettext
    index = turn.data.get("rename_index", -1)
    resident = await turn.services.subscriptions.rename_place(turn.address, index, label)
    turn.reset()
    return turn.say(_("Done. Your places: {places}.").format(places=esc(", ".join(p.label for p in resident.places))))


# --- topics and business -------------------------------------------------------------------------


def topics(turn: Turn) -> Prompt:
    resident = _subscribed(turn)
    turn.reset()
    turn.data["topics"] = sorted(resident.topics)
    turn.go(Step.MANAGE_TOPICS)
    return ask_topics(turn)


def business(turn: Turn) -> Prompt:
    _ = turn.gettext
    resident = _subscribed(turn)
    turn.reset()
    current = turn.force.sectors[resident.sector].label if resident.sector else _("none — you get alerts as a resident")
    text = _("Business sector: {sector}. Pick a sector, or carry on as a resident.").format(sector=esc(current))
    return turn.say(text, sector_options(turn), menu="business", list_button=_("Choose a sector"))


async def on_sector(turn: Turn, key: str) -> Prompt:
    _ = turn.gettext
    sector = key if key in turn.force.sectors else None
    await turn.services.subscriptions.set_sector(turn.address, sector)
    turn.reset()
    if sector:
        return turn.say(
            _("Saved: alerts for {sector} businesses.").format(sector=esc(turn.force.sectors[sector].label))
        )
    return turn.say(_("Saved: you get alerts as a resident."))


# --- pause, quiet hours, language ------------------------------------------------------------------


def pause(turn: Turn) -> Prompt:
    _ = turn.gettext
    _subscribed(turn)
    turn.reset()
    names = {1: _("1 hour"), 8: _("8 hours"), 24: _("24 hours"), 0: _("Until I resume")}
    return turn.say(
        _("Pause alerts for how long?"),
        [Option(f"pz:{h}", names[h]) for h in PAUSE_HOURS],
        menu="pause",
        list_button=_("Choose how long"),
    )


async def on_pause(turn: Turn, hours: int) -> Prompt:
    _ = turn.gettext
    hours = hours if hours in PAUSE_HOURS else 0
    until = turn.services.clock() + timedelta(hours=hours) if hours else None
    await turn.services.subscriptions.pause(turn.address, until)
    turn.reset()
    if hours:
        return turn.say(_("Paused for {hours} h. Send /resume to start again sooner.").format(hours=hours))
    return turn.say(_("Paused until you send /resume."))


async def resume(turn: Turn) -> Prompt:
    _ = turn.gettext
    turn.reset()
    await turn.services.subscriptions.resume(turn.address)
    return turn.say(_("Welcome back — alerts are on again."))


def quiet(turn: Turn) -> Prompt:
    _ = turn.gettext
    resident = _subscribed(turn)
    turn.reset()
    hours = resident.quiet_hours
    current = f"{hours.start:%H:%M}–{hours.end:%H:%M}" if hours else _("none")
    text = _(
        "Quiet hours: {current}.\nDuring quiet hours, alerts wait until the morning — except urgent ones, which always come straight away."
    ).format(current=current)
    options = [Option(f"qt:{key}", f"{start}–{end}") for key, (start, end) in QUIET_PRESETS.items()]
    return turn.say(
        text, [*options, Option("qt:off", _("No quiet hours"))], menu="quiet", list_button=_("Choose hours")
    )


async def on_quiet(turn: Turn, preset_key: str) -> Prompt:
    _ = turn.gettext
    preset = QUIET_PRESETS.get(preset_key)
    hours = QuietHours(time.fromisoformat(preset[0]), time.fromisoformat(preset[1])) if preset else None
    await turn.services.subscriptions.set_quiet_hours(turn.address, hours)
    turn.reset()
    if preset:
        return turn.say(_("Quiet hours set: {start}–{end}.").format(start=preset[0], end=preset[1]))
    return turn.say(_("Quiet hours are off."))


def language(turn: Turn) -> Prompt:
    _ = turn.gettext
    turn.reset()
    options = [Option(f"lg:{code}", LANGUAGE_NAMES.get(code, code)) for code in available_languages()]
    return turn.say(_("Choose your language:"), options, menu="language", list_button=_("Choose language"))


async def on_language(turn: Turn, code: str) -> Prompt:
    if code not in available_languages():
        return language(turn)
    turn.reset()
    turn.data[LANGUAGE_KEY] = code
    turn.language = language_or_default(code)
    if turn.resident is not None:  # not subscribed yet: the choice is kept here and saved when they subscribe
        await turn.services.subscriptions.set_language(turn.address, code)
    _ = turn.gettext  # in the language just chosen
    return turn.say(_("Language: English."))


# --- my data and stop -------------------------------------------------------------------------------


async def my_data(turn: Turn) -> Prompt:
    _ = turn.gettext
    turn.reset()
    export = await turn.services.subscriptions.export(turn.address)
    document = Document(EXPORT_FILENAME, "application/json", json.dumps(export, indent=2, ensure_ascii=False).encode())
    return turn.say(_("Everything Lookout holds about you. /stop deletes it all."), document=document)


def stop(turn: Turn) -> Prompt:
    _ = turn.gettext
    turn.reset()
    options = [Option("st:yes", _("Yes, delete it all")), Option("st:no", _("No, keep my alerts"))]
    text = _(
        "This unsubscribes you and deletes everything we hold about you: your places, topics and any tips you sent. Are you sure?"
    )
    return turn.say(text, options, menu="stop")


async def opt_out(turn: Turn) -> Prompt:
    """No more messages, at once (the carriers' STOP): kept as an inactive subscription that START resumes."""
    _ = turn.gettext
    turn.reset()
    if turn.resident is not None and turn.resident.active:
        await turn.services.subscriptions.opt_out(turn.address)
    return turn.say(
        _("You're unsubscribed and will get no more alerts. Send /start to get them again; /stop deletes your data.")
    )


async def on_stop(turn: Turn, sure: bool, forget: Callable[[Address], Awaitable[None]]) -> Prompt:
    """``forget`` erases the conversation itself (the store's ``forget``), after the subscription."""
    _ = turn.gettext
    if not sure:
        turn.reset()
        return turn.say(_("Nothing changed — you'll keep getting alerts."))
    await turn.services.subscriptions.erase(turn.address)
    await forget(turn.address)
    turn.forgotten = True
    turn.resident = None
    return turn.say(
        _(
            "Done. You're unsubscribed and everything we held about you has been deleted. Send /start if you ever want alerts again."
        )
    )
