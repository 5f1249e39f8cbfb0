"""Small helpers the routers share: who is writing, and how their choices read back."""
from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message, TelegramObject
from magic_filter import MagicFilter
from aiogram.utils.i18n import gettext as _

from core.force import ALL_TOPICS, ForceConfig
from core.model import Address, Channel, Resident
from core.rendering import escape_telegram_html as escape


class OnLoop(Filter):
    """A magic filter (``F.text``…) checked on the event loop. aiogram runs a bare ``F`` filter,
    like any plain callable (a ``State`` as a filter too: use ``StateFilter``), in a thread
    (``asyncio.to_thread``): several thread hops for each message, for checks that take
    microseconds. tests/unit/test_telegram_filters_on_the_loop.py keeps it so."""

    def __init__(self, magic: MagicFilter) -> None:
        self.magic = magic

    async def __call__(self, event: TelegramObject) -> Any:
        return self.magic.resolve(event)


def address_of(chat_id: int) -> Address:
    return Address(Channel.TELEGRAM, str(chat_id))


def chat_of(event: Message | CallbackQuery) -> int:
    if isinstance(event, CallbackQuery):
        assert event.message is not None, "Lookout's buttons are always on messages"
        return event.message.chat.id
    return event.chat.id


def topics_text(force: ForceConfig, topics: set[str] | frozenset[str]) -> str:
    if ALL_TOPICS in topics:
        return force.topics[ALL_TOPICS].label
    return ", ".join(force.topics[key].label for key in force.topics if key in topics)


def summary(force: ForceConfig, resident: Resident) -> str:
    places = ", ".join(p.label for p in resident.places)
    lines = [
        _("<b>You're all set.</b>"),
        _("Alerts near: {places}").format(places=escape(places)),
        _("Topics: {topics}").format(topics=escape(topics_text(force, resident.topics))),
    ]
    if resident.sector:
        lines.append(_("Business: {sector}").format(sector=escape(force.sectors[resident.sector].label)))
    lines.append("")
    lines.append(_("Change anything with /places, /topics, /business, /pause or /quiet. /help lists everything; /stop deletes your data."))
    return "\n".join(lines)
