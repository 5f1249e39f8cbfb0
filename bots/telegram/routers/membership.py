"""The bot's membership in a resident's chat: blocking the bot means no more alerts."""
from __future__ import annotations

from aiogram import Router
from aiogram.filters import KICKED, ChatMemberUpdatedFilter
from aiogram.types import ChatMemberUpdated

from core.model import Address, Channel
from core.services.residents import ResidentService



async def resident_blocked_the_bot(event: ChatMemberUpdated, residents: ResidentService) -> None:
    await residents.mark_unreachable(Address(Channel.TELEGRAM, str(event.chat.id)))


def build_router() -> Router:
    """A fresh router for one dispatcher (an aiogram router can belong to only one)."""
    router = Router(name="membership")
    router.my_chat_member.register(resident_blocked_the_bot, ChatMemberUpdatedFilter(member_status_changed=KICKED))
    return router
