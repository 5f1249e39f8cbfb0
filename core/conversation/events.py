"""What a resident did, as the conversation sees it (the platform parses its own payloads into these)."""

from __future__ import annotations

from dataclasses import dataclass

# Everything a resident can ask for by name (a /command, or a typed keyword where the app has no commands).
# ``optout`` is the carriers' STOP on SMS: no more messages at once, the subscription kept (inactive) so START
# resumes it; ``stop`` unsubscribes and erases, after asking.
COMMANDS = frozenset(
    {
        "start",
        "stop",
        "help",
        "places",
        "topics",
        "business",
        "pause",
        "resume",
        "quiet",
        "language",
        "mydata",
        "optout",
    }
)


@dataclass(frozen=True)
class Text:
    body: str
    reply_to: str | None = None  # the platform's id of the message this answers, if any
    quote: str | None = None  # the words of that message, where the platform includes them


@dataclass(frozen=True)
class Location:
    lat: float
    lon: float
    reply_to: str | None = None


@dataclass(frozen=True)
class Photo:
    ref: str  # the platform's id for fetching the picture later (a media id, a file id)
    caption: str | None = None
    reply_to: str | None = None
    quote: str | None = None
    more: tuple[str, ...] = ()  # further pictures in the same message (an MMS carries up to ten)

    @property
    def refs(self) -> tuple[str, ...]:
        """Every picture the message carries, in the order sent."""
        return (self.ref, *self.more)


@dataclass(frozen=True)
class Choice:
    """A tapped option (its ``Option.id``), or a button on a message Lookout sent (``tip:<id>``, ``ans:<id>``)."""

    id: str
    reply_to: str | None = None


@dataclass(frozen=True)
class Command:
    name: str  # one of COMMANDS


@dataclass(frozen=True)
class Again:
    """Show the current question again (the platform shows another page of its options)."""


@dataclass(frozen=True)
class Unsupported:
    """Something the conversation cannot read: a voice note, a sticker, a video."""

    kind: str


Event = Text | Location | Photo | Choice | Command | Again | Unsupported
