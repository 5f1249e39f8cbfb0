"""What the conversation says back: text and choices as data, for each platform to show its own way.

Text uses the catalogue's light markup (``<b>``, ``<i>``; values HTML-escaped)
and names commands with a slash (``/stop``); a platform converts both where it
has other ways (``*bold*``, typed keywords).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Option:
    id: str  # comes back as ``Choice.id`` (at most 64 bytes: fits every platform's button data)
    label: str
    description: str | None = None
    ticked: bool | None = None  # in a multi-select: whether it is chosen (None: not a multi-select)
    pinned: bool = False  # kept in view when a platform pages long lists ("Done")
    # The recommended answer: where an app would tuck the options away in a list, it stays one tap away beside it.
    quick: bool = False
    short: str | None = None  # the label, shorter, for apps whose buttons and rows are tight (WhatsApp's 20 and 24)
    beside: bool = False  # shown beside the option before it, where an app lays buttons out in rows

    def __post_init__(self) -> None:
        if len(self.id.encode()) > 64:
            raise ValueError(f"option id {self.id!r} is over 64 bytes")


@dataclass(frozen=True)
class Document:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Prompt:
    text: str
    language: str  # what ``text`` is in, so a platform can word its own labels ("Choose", "More") alike
    options: tuple[Option, ...] = ()
    ask_location: bool = False  # offer the platform's "send my location" control
    document: Document | None = None  # a file to hand over (my data); ``text`` goes with it
    # Said as a new message, leaving the message they tapped as it was (a platform that rewrites a question
    # once it is answered leaves this one alone): a remark on the tap (an expired button, a problem with
    # their input), or the answer to a button on an alert or an officer's reply.
    new_message: bool = False
    # Worth a message of its own (a tip's reference, what they subscribed to): never written over the question it answers.
    keep: bool = False
    # What a platform's button that opens a list of the options says it opens ("Choose topics"); None: a plain "Choose".
    list_button: str | None = None
    commands_menu: bool = (
        False  # the options are the commands named in the text (an app with its own command menu may leave them out)
    )
    # A short thank-you for a tap on a button of a delivered message (an alert's "Useful"): an app that can shows
    # it on the tap itself and redraws the tapped message's buttons as ``options`` (the answer marked); an app
    # that cannot says ``text`` as a message of its own, without the options.
    acknowledges: bool = False
