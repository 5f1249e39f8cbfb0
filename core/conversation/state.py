"""Where a resident is in the conversation, kept in the database between messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from core.model import Address, Resident


class Step(StrEnum):
    AGE = "age"
    LOCATION = "location"  # waiting for a shared location or a typed postcode/address
    CHOOSE_PLACE = "choose_place"  # several lookup results to pick from
    CONFIRM_PLACE = "confirm_place"  # "is this right?" after a lookup
    LABEL = "label"
    TOPICS = "topics"
    SECTOR = "sector"
    RENAME_PLACE = "rename_place"
    MANAGE_TOPICS = "manage_topics"
    TIP_COLLECTING = "tip_collecting"  # text, photos, a location
    TIP_OFFER = "tip_offer"  # "send this to the police?" after a message out of the blue
    TIP_ANONYMITY = "tip_anonymity"
    TIP_ANSWERING = "tip_answering"  # writing back to an officer


@dataclass
class Conversation:
    """The step and its data. A home is only ever here as its H3 cell, never as coordinates."""

    step: Step | None = None
    data: dict[str, Any] = field(default_factory=dict)


class ConversationStore(Protocol):
    async def load(self, address: Address) -> Conversation: ...

    async def load_with_resident(self, address: Address) -> tuple[Conversation, Resident | None]:
        """The conversation and who it is with (None: not subscribed), read together: each message needs both."""

    async def save(self, address: Address, conversation: Conversation) -> None: ...

    async def forget(self, address: Address) -> None:
        """Erasure: nothing of the conversation is kept."""
