"""Joining: welcome, age check, a place (shared location or typed address), label, topics, sector.

The place steps also add a place later (places menu → Add): ``mode`` in the
conversation data says which journey the resident is on. A location is
snapped to the force's H3 cell the moment it arrives; the conversation keeps
only that cell, never the coordinates.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from core.conversation.prompts import Option, Prompt
from core.conversation.state import Step
from core.conversation.texts import WELCOME, esc
from core.conversation.turn import CANDIDATES_KEY, LANGUAGE_KEY, Turn
from core.force import ALL_TOPICS, toggle_topic
from core.geo.cells import cell_centre, snap
from core.geocoding import GeocodingError
from core.model import Resident
from core.services.subscriptions import NewPlace

logger = logging.getLogger("lookout.conversation")

JOIN, ADD = "join", "add"
# How long a resident may wait for a place's street name: past this, the words without it.
STREET_LOOKUP_SECONDS = 2.0
PLACE_LABELS = ("home", "work", "school", "other")
RECOMMENDED = "recommended"  # the topics' one-tap answer: all local crime, and on
MAX_CHOICE_LABEL = 60


def label_text(turn: Turn, key: str) -> str:
    _ = turn.gettext
    return {"home": _("Home"), "work": _("Work"), "school": _("School"), "other": _("Other")}.get(key, key)


def topics_text(turn: Turn, topics: frozenset[str] | set[str]) -> str:
    force = turn.force
    if ALL_TOPICS in topics:
        return force.topics[ALL_TOPICS].label
    return ", ".join(force.topics[key].label for key in force.topics if key in topics)


async def street_of(turn: Turn, cell: str) -> str | None:
    """The street at a place's cell (its centre: the point a resident shared is never sent anywhere), in words;
    None when the lookup fails or takes longer than a resident should wait."""
    lat, lon = cell_centre(cell)
    try:
        async with asyncio.timeout(STREET_LOOKUP_SECONDS):
            return await turn.services.geocoder.street_near(lat, lon)
    except Exception as exc:  # a nicety: whatever went wrong, the conversation carries on without it
        logger.warning("street of a place unavailable: %s", type(exc).__name__)
        return None


async def places_text(turn: Turn, resident: Resident) -> str:
    """``Home (near Eastgate Street, Stafford), Work``: each place by its label and, where known, its street."""
    _ = turn.gettext
    try:
        async with asyncio.timeout(STREET_LOOKUP_SECONDS):
            streets = await asyncio.gather(*(street_of(turn, p.cell) for p in resident.places))
    except TimeoutError:
        streets = [None] * len(resident.places)
    named = [
        _("{label} (near {street})").format(label=p.label, street=street) if street else p.label
        for p, street in zip(resident.places, streets, strict=True)
    ]
    return ", ".join(named)


async def summary(turn: Turn, resident: Resident) -> str:
    _ = turn.gettext
    lines = [
        _("<b>You're all set.</b>"),
        _("Alerts near: {places}").format(places=esc(await places_text(turn, resident))),
        _("Topics: {topics}").format(topics=esc(topics_text(turn, resident.topics))),
    ]
    if resident.sector:
        lines.append(_("Business: {sector}").format(sector=esc(turn.force.sectors[resident.sector].label)))
    lines.append("")
    lines.append(
        _(
            "Change anything with /places, /topics, /business, /pause or /quiet. /help lists everything; /stop deletes your data."
        )
    )
    return "\n".join(lines)


# --- welcome and age ------------------------------------------------------------------


async def start(turn: Turn) -> Prompt:
    _ = turn.gettext
    turn.reset()
    resident = turn.resident
    if resident is not None:
        if not resident.active or resident.paused_until is not None:
            resident = await turn.services.subscriptions.resume(turn.address)  # they came back
        welcome = _("Welcome back. You're subscribed to {force} alerts.").format(force=esc(turn.force.name))
        return turn.say(welcome + "\n\n" + await summary(turn, resident))
    turn.go(Step.AGE)
    return ask_age(turn)


def ask_age(turn: Turn) -> Prompt:
    _ = turn.gettext
    age = turn.force.settings.minimum_age
    text = _(WELCOME).format(force=esc(turn.force.name), age=age)
    return turn.say(
        text, [Option("age:yes", _("Yes, I'm {age} or older").format(age=age)), Option("age:no", _("No, I'm younger"))]
    )


async def on_age(turn: Turn, old_enough: bool) -> Prompt:
    _ = turn.gettext
    if not old_enough:
        turn.clear()
        return turn.say(
            _(
                "Sorry — you need to be {age} or over to use Lookout. Nothing about you has been kept. "
                "If you see a crime happening, tell a trusted adult or call 999."
            ).format(age=turn.force.settings.minimum_age)
        )
    turn.data["mode"] = JOIN
    return ask_place(turn)


# --- a place ------------------------------------------------------------------------------


def ask_place(turn: Turn, lead: str | None = None) -> Prompt:
    _ = turn.gettext
    turn.go(Step.LOCATION)
    question = _(
        "Where do you want alerts for? Share your location with the button, or type a postcode or street and town."
    )
    return turn.say(_join(lead, question), ask_location=True)


def not_a_place(turn: Turn) -> Prompt:
    _ = turn.gettext
    return turn.say(
        _("Please share your location with the button, or type a postcode like ST16 2LZ."), ask_location=True
    )


async def on_location(turn: Turn, lat: float, lon: float) -> Prompt:
    _ = turn.gettext
    cell = snap(lat, lon, turn.force.resolution)
    turn.data["place"] = cell
    turn.data.pop(CANDIDATES_KEY, None)
    street = await street_of(turn, cell)
    if street:
        return ask_label(turn, _("Got it — near {street}.").format(street=esc(street)))
    return ask_label(turn, _("Got it — thank you."))


async def on_address(turn: Turn, text: str) -> Prompt:
    _ = turn.gettext
    try:
        found = await turn.services.geocoder.search(text, limit=5)
    except GeocodingError as exc:
        turn.go(Step.LOCATION)
        return turn.say(esc(_(exc.message)), ask_location=True)
    # Snapped at once: the conversation never holds the coordinates a lookup returned.
    turn.data[CANDIDATES_KEY] = [{"label": c.label, "cell": snap(c.lat, c.lon, turn.force.resolution)} for c in found]
    if len(found) == 1:
        turn.go(Step.CONFIRM_PLACE)
    else:
        turn.go(Step.CHOOSE_PLACE)
    return ask_which_place(turn)


def ask_which_place(turn: Turn) -> Prompt:
    _ = turn.gettext
    candidates: list[dict[str, Any]] = turn.data.get(CANDIDATES_KEY) or []
    if turn.step is Step.CONFIRM_PLACE and candidates:
        options = [Option("cp:yes", _("Yes, that's right")), Option("cp:no", _("No, try again"))]
        return turn.say(_("Is this right?\n📍 {place}").format(place=esc(candidates[0]["label"])), options)
    choices = [Option(f"gp:{i}", _shorten(c["label"])) for i, c in enumerate(candidates)]
    return turn.say(
        _("Which one do you mean?"), [*choices, Option("gp:none", _("None of these"))], list_button=_("Choose a place")
    )


async def on_candidate(turn: Turn, index: int) -> Prompt:
    _ = turn.gettext
    candidates: list[dict[str, Any]] = turn.data.get(CANDIDATES_KEY) or []
    if not 0 <= index < len(candidates):
        return ask_place(turn, _("Try typing it another way — a full postcode works best — or share your location."))
    return _use_candidate(turn, candidates[index])


async def on_confirm(turn: Turn, yes: bool) -> Prompt:
    _ = turn.gettext
    candidates: list[dict[str, Any]] = turn.data.get(CANDIDATES_KEY) or []
    if not yes or not candidates:
        return ask_place(turn, _("No problem. Type it again — a full postcode works best — or share your location."))
    return _use_candidate(turn, candidates[0])


def _use_candidate(turn: Turn, candidate: dict[str, Any]) -> Prompt:
    _ = turn.gettext
    turn.data["place"] = candidate["cell"]
    turn.data.pop(CANDIDATES_KEY, None)  # the looked-up addresses go as soon as one is chosen
    return ask_label(turn, _("📍 {place}").format(place=esc(candidate["label"])))


# --- label ------------------------------------------------------------------------------------


def ask_label(turn: Turn, lead: str | None = None) -> Prompt:
    _ = turn.gettext
    turn.go(Step.LABEL)
    options = [Option(f"lb:{key}", label_text(turn, key)) for key in PLACE_LABELS]
    return turn.say(_join(lead, _("What is this place to you?")), options, list_button=_("Choose a name"))


async def on_label(turn: Turn, label: str) -> Prompt:
    _ = turn.gettext
    cell = turn.data.get("place")
    if not cell:  # the place was lost (an old button after the conversation moved on): start the place again
        return ask_place(turn)
    if turn.data.get("mode") == ADD:
        place = NewPlace(label, *cell_centre(cell))
        resident = await turn.services.subscriptions.add_place(turn.address, place)
        turn.reset()
        return turn.say(
            _("Added <b>{label}</b>. You now get alerts for: {places}.").format(
                label=esc(resident.places[-1].label), places=esc(", ".join(p.label for p in resident.places))
            ),
            keep=True,
        )
    turn.data["label"] = label
    turn.data["topics"] = [ALL_TOPICS]
    turn.go(Step.TOPICS)
    return ask_topics(turn)


# --- topics and sector ---------------------------------------------------------------------------


def ask_topics(turn: Turn, lead: str | None = None) -> Prompt:
    _ = turn.gettext
    chosen = set(turn.data.get("topics") or [])
    options = [
        Option(f"tp:{key}", topic.label, description=topic.description, ticked=key in chosen)
        for key, topic in turn.force.topics.items()
    ]
    options.append(Option("tp:done", _("Done ✔️"), pinned=True))
    if turn.step is Step.TOPICS:  # joining: the choice most people make, one tap and on to the next question
        recommended = Option(
            f"tp:{RECOMMENDED}",
            _("All local crime (recommended)"),
            description=_("Every alert near you, in one tap"),
            quick=True,
            short=_("⭐ All local crime"),
        )
        options.insert(0, recommended)
    if turn.step is Step.MANAGE_TOPICS:
        question = _("Tick what you'd like alerts about, then tap <b>Done</b>.")
    else:
        question = _(
            "Which alerts would you like? <b>All local crime</b> covers everything near you, and most people choose it. "
            "Or tick the ones you care about, then tap <b>Done</b>."
        )
    return turn.say(_join(lead, question), options, list_button=_("Choose topics"))


async def on_topic(turn: Turn, key: str) -> Prompt:
    _ = turn.gettext
    chosen = set(turn.data.get("topics") or [])
    if key == RECOMMENDED:
        chosen = {ALL_TOPICS}
        turn.data["topics"] = [ALL_TOPICS]
    elif key != "done":
        if key in turn.force.topics:
            chosen = toggle_topic(chosen, key)
        turn.data["topics"] = sorted(chosen)
        return ask_topics(turn)
    if not chosen:
        return ask_topics(turn, _("Pick at least one — All local crime covers everything."))
    if turn.step is Step.MANAGE_TOPICS:
        resident = await turn.services.subscriptions.set_topics(turn.address, sorted(chosen))
        turn.reset()
        return turn.say(_("Saved. Topics: {topics}.").format(topics=esc(topics_text(turn, resident.topics))))
    return await ask_sector(turn)


def sector_options(turn: Turn) -> list[Option]:
    _ = turn.gettext
    sectors = [Option(f"sc:{key}", sector.label) for key, sector in turn.force.sectors.items()]
    return [Option("sc:none", _("No — I'm a resident"), pinned=True), *sectors]


async def ask_sector(turn: Turn) -> Prompt:
    _ = turn.gettext
    if not turn.force.sectors:
        return await finish(turn, None)
    turn.go(Step.SECTOR)
    text = _(
        "Are you signing up for a business? Pick its sector to get alerts for businesses like yours, or carry on as a resident."
    )
    return turn.say(text, sector_options(turn), list_button=_("Choose a sector"))


async def finish(turn: Turn, sector: str | None) -> Prompt:
    cell = turn.data.get("place")
    if not cell:
        return ask_place(turn)
    resident = await turn.services.subscriptions.subscribe(
        turn.address,
        age_confirmed=True,
        places=[NewPlace(turn.data.get("label") or label_text(turn, "home"), *cell_centre(cell))],
        topics=turn.data.get("topics") or [ALL_TOPICS],
        sector=sector if sector in turn.force.sectors else None,
        language=turn.data.get(LANGUAGE_KEY) or turn.language,
    )
    turn.resident = resident
    turn.reset()
    return turn.say(await summary(turn, resident), keep=True)


def _join(lead: str | None, text: str) -> str:
    return f"{lead}\n\n{text}" if lead else text


def _shorten(text: str, limit: int = MAX_CHOICE_LABEL) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
