"""From a WhatsApp message to a conversation event: taps, locations, photos, and typed keywords."""

from __future__ import annotations

from bots.whatsapp.payloads import InboundMessage
from core.conversation.events import COMMANDS, Choice, Command, Event, Location, Photo, Text, Unsupported
from core.errors import InvalidInput
from core.geo.coords import check_lat_lon

# For people who type: a message that is just one of these words (any case, "/stop" too) is that command.
KEYWORDS = {name: name for name in COMMANDS} | {"menu": "help", "unsubscribe": "stop", "subscribe": "start"}
# Nothing to answer: a reaction to one of our messages is not a request.
IGNORED_KINDS = frozenset({"reaction", "system", "unsupported", "errors"})


def keyword(text: str) -> str | None:
    word = text.strip().strip(".!").lstrip("/").casefold()
    return KEYWORDS.get(word)


def to_event(message: InboundMessage) -> Event | None:
    """The event for the conversation, or None when there is nothing to answer."""
    content, reply_to = message.content, message.context_id
    if message.kind == "text":
        body = content.get("body")
        if not isinstance(body, str) or not body.strip():
            return Unsupported("empty")
        command = keyword(body)
        return Command(command) if command else Text(body, reply_to)
    if message.kind == "interactive":
        reply = content.get("button_reply") or content.get("list_reply")
        if isinstance(reply, dict) and isinstance(reply.get("id"), str):
            return Choice(reply["id"], reply_to)
        return Unsupported("interactive")
    if message.kind == "button":  # a template's quick reply: our payload
        payload = content.get("payload")
        return Choice(payload, reply_to) if isinstance(payload, str) and payload else Unsupported("button")
    if message.kind == "location":
        try:
            lat, lon = check_lat_lon(content.get("latitude"), content.get("longitude"))  # type: ignore[arg-type]
        except (InvalidInput, TypeError, ValueError):
            return Unsupported("location")
        return Location(lat, lon, reply_to)
    if message.kind == "image":
        media_id = content.get("id")
        caption = content.get("caption")
        if not isinstance(media_id, str) or not media_id:
            return Unsupported("image")
        return Photo(media_id, caption if isinstance(caption, str) else None, reply_to)
    if message.kind in IGNORED_KINDS:
        return None
    return Unsupported(message.kind)  # voice notes, videos, documents, stickers, contacts


def contact_for(message: InboundMessage) -> str:
    """How officers could reach a tipster who agreed to it: their WhatsApp name and number."""
    name = message.profile_name or "WhatsApp user"
    return f"{name} (+{message.wa_id}) on WhatsApp"
