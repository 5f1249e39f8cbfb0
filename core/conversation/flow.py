"""``ResidentConversation``: one event in, at most one prompt out, the conversation saved in between.

Which step takes an event is decided here; what each step does lives in
``onboarding``, ``manage`` and ``tips``. A problem meant for the resident
(bad input, not subscribed, a lookup that failed) comes back as a polite
prompt and leaves the conversation as it was.
"""

from __future__ import annotations

import copy
import logging
import re
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import replace

from core.clock import Clock
from core.conversation import feedback, manage, onboarding, tips
from core.conversation.events import Again, Choice, Command, Event, Location, Photo, Text
from core.conversation.prompts import Option, Prompt
from core.conversation.state import ConversationStore, Step
from core.conversation.texts import esc, language_or_default
from core.conversation.turn import LANGUAGE_KEY, MENU_KEY, PhotoSource, Services, Turn
from core.errors import InvalidInput, LookoutError
from core.force import ForceConfig
from core.geocoding import Geocoder
from core.model import Address
from core.services.feedback import FeedbackService
from core.services.subscriptions import SubscriptionService
from core.services.tips import TipService

logger = logging.getLogger("lookout.conversation")

# Steps whose question is a set of options: a typed answer that names one is taken as a tap.
_CHOICE_STEPS = (
    Step.AGE,
    Step.CHOOSE_PLACE,
    Step.CONFIRM_PLACE,
    Step.LABEL,
    Step.TOPICS,
    Step.MANAGE_TOPICS,
    Step.SECTOR,
    Step.TIP_OFFER,
    Step.TIP_ANONYMITY,
    Step.TIP_COLLECTING,
)
# Buttons on what the delivery engine sent (an alert, an officer's reply), not on a question of the conversation.
_ON_DELIVERIES = ("tip", "ans", "stop", "fb")
# Options that only mean something in one step; tapped later (an old message), they have expired.
_STEP_OF_PREFIX = {
    "age": (Step.AGE,),
    "gp": (Step.CHOOSE_PLACE,),
    "cp": (Step.CONFIRM_PLACE,),
    "lb": (Step.LABEL,),
    "tp": (Step.TOPICS, Step.MANAGE_TOPICS),
}
# The tip's buttons, likewise, each in the step that asks it.
_STEP_OF_TIP_ACTION = {
    "done": (Step.TIP_COLLECTING,),
    "send": (Step.TIP_OFFER,),
    "anon": (Step.TIP_ANONYMITY,),
    "contact": (Step.TIP_ANONYMITY,),
}


class ResidentConversation:
    def __init__(
        self,
        *,
        force: ForceConfig,
        subscriptions: SubscriptionService,
        tips: TipService,
        geocoder: Geocoder,
        store: ConversationStore,
        photos: PhotoSource | None = None,
        feedback: FeedbackService | None = None,
        clock: Clock,
    ) -> None:
        self._services = Services(force, subscriptions, tips, geocoder, photos, clock, feedback)
        self._store = store

    async def handle(
        self, address: Address, event: Event, *, contact: str | None = None, app_language: str | None = None
    ) -> Prompt | None:
        """What to say back to ``event`` (None: nothing, e.g. a repeated flood notice).

        ``app_language``: the language the person's app is set to, where the platform says (spoken until they
        choose one with /language, and saved as theirs when they subscribe)."""
        conversation, resident = await self._store.load_with_resident(address)
        language = resident.language if resident is not None else conversation.data.get(LANGUAGE_KEY) or app_language
        turn = Turn(address, conversation, self._services, resident, language_or_default(language), contact)
        try:
            prompt = await self._dispatch(turn, event)
        except LookoutError as exc:
            # Told politely; nothing is saved, so the conversation stays where it was and they can try again.
            logger.info("told a resident: %s", type(exc).__name__)
            _ = turn.gettext
            text = " ".join(exc.errors.values()) if isinstance(exc, InvalidInput) else str(exc)
            return Prompt(esc(_(text)), turn.language, new_message=True)
        if not turn.forgotten:
            await self._store.save(address, turn.conversation)
        return prompt

    # --- which step takes it ----------------------------------------------------------------------

    async def _dispatch(self, turn: Turn, event: Event) -> Prompt | None:
        if isinstance(event, Command):
            return await self._command(turn, event.name)
        if isinstance(event, Again):
            return await self._again(turn)
        if isinstance(event, Choice):
            return await self._choice(turn, event)
        if isinstance(event, Text):
            chosen = await self._typed_choice(turn, event.body)
            if chosen is not None:
                return await self._choice(turn, Choice(chosen.id, event.reply_to))
        if turn.step is None:
            return await self._idle(turn, event)
        return await self._in_step(turn, event)

    async def _command(self, turn: Turn, name: str) -> Prompt | None:
        handlers: dict[str, Callable[[Turn], Prompt | Awaitable[Prompt]]] = {
            "start": onboarding.start,
            "help": manage.help_prompt,
            "places": manage.places,
            "topics": manage.topics,
            "business": manage.business,
            "pause": manage.pause,
            "resume": manage.resume,
            "quiet": manage.quiet,
            "language": manage.language,
            "mydata": manage.my_data,
            "stop": manage.stop,
            "optout": manage.opt_out,
        }
        result = handlers.get(name, manage.help_prompt)(turn)
        return result if isinstance(result, Prompt) else await result

    async def _choice(self, turn: Turn, choice: Choice) -> Prompt | None:
        prompt = await self._answer_choice(turn, choice)
        if prompt is not None and choice.id.partition(":")[0] in _ON_DELIVERIES:
            return replace(prompt, new_message=True)  # the alert (or the officer's reply) stays as it was
        return prompt

    async def _answer_choice(self, turn: Turn, choice: Choice) -> Prompt | None:
        prefix, _sep, rest = choice.id.partition(":")
        allowed = _STEP_OF_PREFIX.get(prefix)
        if allowed is not None and turn.step not in allowed:
            return await self._stale(turn)
        if prefix == "age":
            return await onboarding.on_age(turn, rest == "yes")
        if prefix == "gp":
            return await onboarding.on_candidate(turn, int(rest) if rest.isdigit() else -1)
        if prefix == "cp":
            return await onboarding.on_confirm(turn, rest == "yes")
        if prefix == "lb":
            return await onboarding.on_label(turn, onboarding.label_text(turn, rest))
        if prefix == "tp":
            return await onboarding.on_topic(turn, rest)
        if prefix == "sc":
            if turn.step is Step.SECTOR:
                return await onboarding.finish(turn, rest)
            return await manage.on_sector(turn, rest)
        if prefix == "pl":
            action, _sep, index = rest.partition(":")
            if action not in ("add", "ren", "rm"):
                return await self._stale(turn)
            return await manage.on_place_action(turn, action, int(index) if index.isdigit() else -1)
        if prefix == "pz" and rest.isdigit():
            return await manage.on_pause(turn, int(rest))
        if prefix == "qt":
            return await manage.on_quiet(turn, rest)
        if prefix == "lg":
            return await manage.on_language(turn, rest)
        if prefix == "st":
            return await manage.on_stop(turn, rest == "yes", self._store.forget)
        if prefix == "stop":  # the alert template's "Stop alerts" quick reply
            return manage.stop(turn)
        if prefix == "tip":
            return tips.on_tip_button(turn, int(rest) if rest.isdigit() else None)
        if prefix == "fb":  # "Useful / Not useful" under an alert
            answered = await feedback.on_answer(turn, rest)
            return answered if answered is not None else await self._stale(turn)
        if prefix == "ans" and rest.isdigit():
            return await tips.on_answer_button(turn, int(rest))
        if prefix == "tf":
            if rest in _STEP_OF_TIP_ACTION and turn.step not in _STEP_OF_TIP_ACTION[rest]:
                return await self._stale(turn)
            return await tips.on_tip_step(turn, rest)
        if prefix == "menu":
            return await self._command(turn, rest)
        return await self._stale(turn)

    async def _stale(self, turn: Turn) -> Prompt:
        """A button from an earlier message: say so, and show where they are now (the question they are on,
        or what they can do), so the next tap is one that works."""
        _ = turn.gettext
        lead = _("That button is from an earlier message, so it no longer works.")
        step = turn.step
        if step is Step.RENAME_PLACE:
            shown = turn.say(_("What should this place be called? (for example Grandma's, or Stables)"))
        elif step is Step.TIP_ANSWERING:
            shown = turn.say(
                _("Write your answer to the officer about {reference}:").format(
                    reference=esc(turn.data.get("answering") or "")
                )
            )
        elif step is not None:
            shown = await self._again(turn) or tips.expired(turn)
        elif turn.resident is None:
            shown = turn.say(_("Send /start to sign up for alerts."), [Option("menu:start", _("Sign up"))])
        else:
            shown = manage.help_prompt(turn)
        if step is not None:
            lead += " " + _("Here's where you were:")
        return replace(shown, text=f"{lead}\n\n{shown.text}", new_message=True)

    async def _idle(self, turn: Turn, event: Event) -> Prompt | None:
        if isinstance(event, Text | Photo | Location):
            return await tips.idle_message(turn, event)
        if turn.resident is None:
            return await onboarding.start(turn)
        _ = turn.gettext
        return turn.say(_("Sorry, I can't read that kind of message. Please send text, photos or a location."))

    async def _in_step(self, turn: Turn, event: Event) -> Prompt | None:
        step = turn.step
        _ = turn.gettext
        if step is Step.LOCATION:
            if isinstance(event, Location):
                return await onboarding.on_location(turn, event.lat, event.lon)
            if isinstance(event, Text):
                return await onboarding.on_address(turn, event.body)
            return onboarding.not_a_place(turn)
        if step in (Step.CHOOSE_PLACE, Step.CONFIRM_PLACE):
            # Not one of the choices: a new location or a new address to look up.
            if isinstance(event, Location):
                return await onboarding.on_location(turn, event.lat, event.lon)
            if isinstance(event, Text):
                return await onboarding.on_address(turn, event.body)
        if step is Step.LABEL and isinstance(event, Text):
            return await onboarding.on_label(turn, event.body)  # their own name for it
        if step is Step.RENAME_PLACE:
            if isinstance(event, Text):
                return await manage.on_rename(turn, event.body)
            return turn.say(_("What should this place be called? (for example Grandma's, or Stables)"))
        if step is Step.TIP_COLLECTING:
            if isinstance(event, Text | Photo | Location):
                return tips.on_collect(turn, event)
            return tips.not_collectable(turn)
        if step is Step.TIP_ANSWERING:
            if isinstance(event, Text | Photo | Location):
                return await tips.on_answer(turn, event)
            return turn.say(_("Please write your answer as text."))
        return turn.say(_("Please use the buttons above — or send /help to see what you can do."))

    async def _again(self, turn: Turn) -> Prompt | None:
        """The question the resident is on, or the menu they last saw, once more."""
        step = turn.step
        if step is Step.AGE:
            return onboarding.ask_age(turn)
        if step is Step.LOCATION:
            return onboarding.ask_place(turn)
        if step in (Step.CHOOSE_PLACE, Step.CONFIRM_PLACE):
            return onboarding.ask_which_place(turn)
        if step is Step.LABEL:
            return onboarding.ask_label(turn)
        if step in (Step.TOPICS, Step.MANAGE_TOPICS):
            return onboarding.ask_topics(turn)
        if step is Step.SECTOR:
            return await onboarding.ask_sector(turn)
        if step in (Step.TIP_COLLECTING, Step.TIP_ANONYMITY, Step.TIP_OFFER):
            return tips.ask_again(turn)
        menu = turn.data.get(MENU_KEY)
        if step is None and menu:
            return await self._command(turn, menu)
        return tips.expired(turn)

    async def _typed_choice(self, turn: Turn, text: str) -> Option | None:
        """For people who type: an answer that names one of the options on screen (its words, or its first word)."""
        if turn.step is None and not turn.data.get(MENU_KEY):
            return None
        if turn.step is not None and turn.step not in _CHOICE_STEPS:
            return None
        try:
            shown = await self._again(_dry_run(turn))
        except LookoutError:  # the menu no longer applies (say, they unsubscribed meanwhile): it is just text
            return None
        if shown is None or not shown.options:
            return None
        return match_option(shown.options, text)


def match_option(options: tuple[Option, ...], text: str) -> Option | None:
    """The option a typed answer names: its number as listed (where choices are shown as numbered lines),
    its words, or its first word."""
    number = text.strip().rstrip(".)")
    if number.isascii() and number.isdigit():
        index = int(number) - 1
        return options[index] if 0 <= index < len(options) else None
    wanted = _words(text)
    if not wanted:
        return None
    exact = [o for o in options if _words(o.label) == wanted]
    if len(exact) == 1:
        return exact[0]
    first = [o for o in options if _words(o.label)[:1] == wanted]
    return first[0] if len(first) == 1 else None


def _words(text: str) -> list[str]:
    """Lower-case words, without emoji, ticks or punctuation: "✅ Burglary" and "burglary" match."""
    letters = "".join(
        ch if unicodedata.category(ch)[0] in "LN" else " " for ch in unicodedata.normalize("NFC", text).casefold()
    )
    return re.findall(r"\w+", letters)


def _dry_run(turn: Turn) -> Turn:
    """A copy to ask "what is on screen?" without changing the real conversation."""
    return Turn(
        turn.address, copy.deepcopy(turn.conversation), turn.services, turn.resident, turn.language, turn.contact
    )
