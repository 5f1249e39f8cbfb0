"""From a Twilio inbound message (its form fields) to a conversation event: keywords, text, a picture.

Carrier keywords work in any case, anywhere in the conversation: STOP and its
synonyms end the texts at once (``optout``); START and UNSTOP resume; HELP and
INFO answer with the help. The bot's own keywords are those of WhatsApp, except
that erasure is DELETE: STOP belongs to the carriers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.conversation.events import COMMANDS, Command, Event, Photo, Text, Unsupported

# The opt-out and opt-in words carriers and Twilio honour by default (docs/platforms.md).
OPT_OUT = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit"})
OPT_IN = frozenset({"start", "unstop"})
HELP_WORDS = frozenset({"help", "info"})
ERASE = "delete"  # the bot's own /stop (unsubscribe and erase), since STOP is the carriers'
KEYWORDS = (
    {name: name for name in COMMANDS - {"stop", "optout"}}
    | dict.fromkeys(OPT_OUT, "optout")
    | dict.fromkeys(OPT_IN, "start")
    | dict.fromkeys(HELP_WORDS, "help")
    | {ERASE: "stop", "menu": "help"}
)
# What a resident's number looks like in E.164 (Twilio always sends it so).
PHONE = re.compile(r"\+[1-9][0-9]{6,14}")
SID = re.compile(r"[A-Z]{2}[0-9a-fA-F]{32}")
MAX_BODY = 1600
MAX_MEDIA = 10  # Twilio's most media in one MMS


class NotAnSms(ValueError):
    """The form is not an inbound message as Twilio sends one."""


@dataclass(frozen=True)
class InboundSms:
    sid: str
    sender: str  # E.164
    body: str
    media: tuple[tuple[str, str], ...] = ()  # (URL, content type) of each picture


def parse_inbound(form: dict[str, str]) -> InboundSms:
    sid, sender = form.get("MessageSid", ""), form.get("From", "")
    if not SID.fullmatch(sid):
        raise NotAnSms("MessageSid is missing or malformed")
    if not PHONE.fullmatch(sender):
        raise NotAnSms("From is not a phone number")
    body = form.get("Body", "")
    if len(body) > MAX_BODY:
        raise NotAnSms("Body is longer than any text message")
    count = form.get("NumMedia", "0")
    if not count.isascii() or not count.isdigit() or int(count) > MAX_MEDIA:
        raise NotAnSms("NumMedia is not a number of pictures")
    media = tuple(
        (form[f"MediaUrl{i}"], form.get(f"MediaContentType{i}", ""))
        for i in range(int(count))
        if form.get(f"MediaUrl{i}")
    )
    return InboundSms(sid, sender, body, media)


def keyword(text: str) -> str | None:
    word = text.strip().strip(".!").lstrip("/").casefold()
    return KEYWORDS.get(word)


def to_event(message: InboundSms) -> Event:
    """The event for the conversation. A text with pictures is one photo event carrying every picture (an MMS holds
    up to ten), captioned with the text; the pictures are fetched when the tip is sent."""
    pictures = [url for url, kind in message.media if kind.startswith("image/")]
    if pictures:
        return Photo(pictures[0], message.body.strip() or None, more=tuple(pictures[1:]))
    if message.media:
        return Unsupported("media")  # a video, an audio clip, a contact card
    if not message.body.strip():
        return Unsupported("empty")
    command = keyword(message.body)
    return Command(command) if command else Text(message.body)


def contact_for(message: InboundSms) -> str:
    """How officers could reach a tipster who agreed to it."""
    return f"{message.sender} by text message"
