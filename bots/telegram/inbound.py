"""From a Telegram update to a conversation event: a message, a shared location, a photo, a button press, a /command.

Lookout talks one to one: only a private chat with a person, writing as
themselves, reaches the conversation; groups, channels, other bots and
updates with no sender are acknowledged and left alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.types import CallbackQuery, Chat, Message, Update, User

from core.conversation.events import COMMANDS, Choice, Command, Event, Location, Photo, Text, Unsupported
from core.errors import InvalidInput
from core.geo.coords import check_lat_lon
from core.model import Address, Channel

# Buttons sent by the aiogram journey before it moved onto the shared conversation (still on residents' screens
# for a while): their data, as the conversation's option ids.
_EARLIER_BUTTONS = {
    "age:1": "age:yes",
    "age:0": "age:no",
    "cp:1": "cp:yes",
    "cp:0": "cp:no",
    "gp:-1": "gp:none",
    "st:1": "st:yes",
    "st:0": "st:no",
    "pl:add:-1": "pl:add",
    "tf:anonymous": "tf:anon",
}
_EARLIER_PLACE_ACTIONS = {"pl:rename:": "pl:ren:", "pl:remove:": "pl:rm:"}
_KICKED = "kicked"


@dataclass(frozen=True)
class Pressed:
    """The message whose button was pressed, so the answer can rewrite it where that reads better."""

    query_id: str
    message_id: int | None  # None: too old for Telegram to say what it was (it cannot be edited either)
    option_ids: tuple[str, ...]  # the buttons it shows now
    editable: bool  # a text message (a photo's caption is not rewritten)


@dataclass(frozen=True)
class Inbound:
    address: Address
    event: Event | None  # None: nothing to answer (a button press that only needs acknowledging)
    contact: str  # how officers could reach them, if they agree
    app_language: str | None
    pressed: Pressed | None = None


def address_of(chat_id: int) -> Address:
    return Address(Channel.TELEGRAM, str(chat_id))


def to_inbound(update: Update) -> Inbound | None:
    """What a resident did, or None when the update is not for the conversation."""
    message = update.message
    if message is not None:
        if message.from_user is None or not _one_to_one(message.chat, message.from_user):
            return None
        return _inbound(message.chat, message.from_user, _message_event(message))
    if update.callback_query is not None:
        return _pressed(update.callback_query)
    return None


def blocked_by(update: Update) -> Address | None:
    """The chat whose person blocked the bot (no more alerts for them), if this update says so."""
    change = update.my_chat_member
    if change is not None and change.new_chat_member.status == _KICKED:
        return address_of(change.chat.id)
    return None


def sender_of(update: Update) -> Address | None:
    """The conversation this update belongs to: the sender's own (Lookout talks one to one)."""
    for event in (update.message, update.callback_query):
        user = getattr(event, "from_user", None)
        if user is not None:
            return address_of(user.id)
    return None


def _message_event(message: Message) -> Event:
    reply_to, quote = None, None
    if message.reply_to_message is not None:
        original = message.reply_to_message
        reply_to, quote = str(original.message_id), original.text or original.caption
    if message.text is not None:
        if message.text.startswith("/"):
            name = message.text[1:].split(maxsplit=1)[0].split("@")[0].casefold() if len(message.text) > 1 else ""
            return Command(name if name in COMMANDS else "help")
        if not message.text.strip():
            return Unsupported("empty")
        return Text(message.text, reply_to, quote)
    if message.location is not None:
        # A live location is taken once, as it is now; its later updates are not asked for.
        try:
            lat, lon = check_lat_lon(message.location.latitude, message.location.longitude)
        except InvalidInput:
            return Unsupported("location")
        return Location(lat, lon, reply_to)
    if message.photo:
        return Photo(message.photo[-1].file_id, message.caption, reply_to, quote)  # the largest size
    return Unsupported(message.content_type)  # voice notes, stickers, videos, documents, contacts…


def _pressed(query: CallbackQuery) -> Inbound | None:
    message = query.message
    if message is None or not _one_to_one(message.chat, query.from_user):
        return None
    options: tuple[str, ...] = ()
    editable = isinstance(message, Message) and message.text is not None
    if isinstance(message, Message) and message.reply_markup is not None:
        options = tuple(b.callback_data for row in message.reply_markup.inline_keyboard for b in row if b.callback_data)
    pressed = Pressed(query.id, message.message_id if message.date else None, options, editable and bool(message.date))
    data = _current(query.data) if query.data else None
    event = Choice(data, str(message.message_id)) if data else None
    return _inbound(message.chat, query.from_user, event, pressed)


def _inbound(chat: Chat, sender: User, event: Event | None, pressed: Pressed | None = None) -> Inbound:
    handle = f" (@{sender.username})" if sender.username else ""
    language = (sender.language_code or "").split("-")[0] or None
    return Inbound(address_of(chat.id), event, f"{sender.full_name}{handle} on Telegram", language, pressed)


def _one_to_one(chat: Chat, sender: User) -> bool:
    return not sender.is_bot and chat.type == "private" and chat.id == sender.id


def _current(data: str) -> str:
    if data in _EARLIER_BUTTONS:
        return _EARLIER_BUTTONS[data]
    for earlier, now in _EARLIER_PLACE_ACTIONS.items():
        if data.startswith(earlier):
            return now + data.removeprefix(earlier)
    return data
