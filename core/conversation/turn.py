"""One event being handled: who, where they are in the conversation, the services, and their language."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from core.clock import Clock
from core.conversation.prompts import Document, Option, Prompt
from core.conversation.state import Conversation, Step
from core.conversation.texts import Translate, translator
from core.force import ForceConfig
from core.geocoding import Geocoder
from core.model import Address, Resident, TipPhoto
from core.services.feedback import FeedbackService
from core.services.subscriptions import SubscriptionService
from core.services.tips import TipService

LANGUAGE_KEY = "lang"  # in the conversation data: kept across steps, and until they subscribe
MENU_KEY = "menu"  # the menu last shown outside any step (places, pause, …), so it can be shown again
CANDIDATES_KEY = "candidates"  # a lookup's results, offered in CHOOSE_PLACE / CONFIRM_PLACE and gone after


class PhotoGone(LookupError):
    """The platform no longer has a photo the resident sent (it expired, or was deleted)."""


class PhotoSource(Protocol):
    async def fetch(self, ref: str, number: int) -> TipPhoto:
        """The photo's bytes; raises PhotoGone when it is no longer there, anything else when the platform is down."""


@dataclass(frozen=True)
class Services:
    force: ForceConfig
    subscriptions: SubscriptionService
    tips: TipService
    geocoder: Geocoder
    photos: PhotoSource | None
    clock: Clock
    feedback: FeedbackService | None = None  # residents' "Useful / Not useful" on alerts


@dataclass
class Turn:
    address: Address
    conversation: Conversation
    services: Services
    resident: Resident | None
    language: str
    contact: str | None = None  # how officers could reach them, if they agree (e.g. "Sam (@sam) on <the app>")
    forgotten: bool = False  # erased: nothing of this conversation may be saved again

    @property
    def gettext(self) -> Translate:
        return translator(self.language)

    @property
    def data(self) -> dict[str, Any]:
        return self.conversation.data

    @property
    def step(self) -> Step | None:
        return self.conversation.step

    @property
    def force(self) -> ForceConfig:
        return self.services.force

    def go(self, step: Step) -> None:
        self.conversation.step = step
        self.data.pop(MENU_KEY, None)
        if step not in (Step.CHOOSE_PLACE, Step.CONFIRM_PLACE):
            self.data.pop(CANDIDATES_KEY, None)  # the looked-up addresses never outlive the step that offers them

    def clear(self) -> None:
        """Keep nothing at all, the language included (a refusal: nothing about the person stays)."""
        self.conversation.step = None
        self.conversation.data = {}

    def reset(self) -> None:
        """End the current step, keeping only the resident's language."""
        language = self.data.get(LANGUAGE_KEY)
        self.conversation.step = None
        self.conversation.data = {LANGUAGE_KEY: language} if language else {}

    def say(
        self,
        text: str,
        options: Iterable[Option] = (),
        *,
        ask_location: bool = False,
        document: Document | None = None,
        menu: str | None = None,
        new_message: bool = False,
        keep: bool = False,
        commands_menu: bool = False,
        list_button: str | None = None,
    ) -> Prompt:
        if menu is not None:
            self.data[MENU_KEY] = menu
        return Prompt(
            text,
            self.language,
            tuple(options),
            ask_location=ask_location,
            document=document,
            new_message=new_message,
            keep=keep,
            commands_menu=commands_menu,
            list_button=list_button,
        )
