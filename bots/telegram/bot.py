"""The Telegram resident bot: an update in, the shared conversation's answer out (aiogram is only the Bot API client).

``inbound`` turns the update into a conversation event, ``ResidentConversation``
decides the answer, ``render`` draws it as Telegram calls. The answer is
returned to be sent later (``core/replies.py``): the webhook stores the
update's effects, answers Telegram, and then the reply goes at the bot's pace.
A person blocking the bot is not a conversation: it marks them unreachable so
alerts stop.
"""

from __future__ import annotations

import logging
from functools import partial

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.methods import AnswerCallbackQuery, EditMessageReplyMarkup, EditMessageText, SendMessage
from aiogram.types import BotCommand, Update

from bots.telegram.inbound import Inbound, blocked_by, to_inbound
from bots.telegram.photos import TelegramPhotos
from bots.telegram.render import render_prompt
from core.clock import Clock
from core.conversation.events import Choice, Event
from core.conversation.flow import ResidentConversation
from core.conversation.manage import command_descriptions
from core.conversation.prompts import Prompt
from core.conversation.state import ConversationStore
from core.conversation.texts import translator
from core.force import ForceConfig
from core.geocoding import Geocoder
from core.replies import Send
from core.services.feedback import FEEDBACK_PREFIX, FeedbackService
from core.services.residents import ResidentService
from core.services.subscriptions import SubscriptionService
from core.services.tips import TipService

logger = logging.getLogger("lookout.telegram")

# The updates Lookout asks Telegram for (setWebhook's allowed_updates).
ALLOWED_UPDATES = ["callback_query", "message", "my_chat_member"]


class TelegramResidentBot:
    def __init__(self, bot: Bot, conversation: ResidentConversation, *, residents: ResidentService) -> None:
        self.bot = bot
        self._conversation = conversation
        self._residents = residents

    async def on_update(self, update: Update) -> Send | None:
        """Take the update into the conversation; return its reply, to be sent once the webhook is answered."""
        gone = blocked_by(update)
        if gone is not None:
            await self._residents.mark_unreachable(gone)
            return None
        inbound = to_inbound(update)
        if inbound is None:
            if update.callback_query is not None:  # a press in a group, say: stop its spinner, nothing more
                await self._acknowledge(update.callback_query.id)
            return None
        # A press is answered at once (its spinner stops), but for an answer to "Useful?": its thank-you is the answer.
        answer_later = _asks_feedback(inbound.event)
        if inbound.pressed is not None and not answer_later:
            await self._acknowledge(inbound.pressed.query_id)
        if inbound.event is None:
            return None
        prompt = await self._conversation.handle(
            inbound.address, inbound.event, contact=inbound.contact, app_language=inbound.app_language
        )
        if inbound.pressed is not None and answer_later and (prompt is None or not prompt.acknowledges):
            await self._acknowledge(inbound.pressed.query_id)  # refused (say, not sent to them): said as a message
        return None if prompt is None else partial(self._show, inbound, prompt)

    async def _show(self, inbound: Inbound, prompt: Prompt) -> None:
        try:
            await self._send_calls(inbound, prompt)
        except TelegramForbiddenError:  # blocked the bot since writing (their my_chat_member update may come later)
            await self._residents.mark_unreachable(inbound.address)

    async def _send_calls(self, inbound: Inbound, prompt: Prompt) -> None:
        chat_id = int(inbound.address.id)
        for call in render_prompt(prompt, chat_id, inbound.pressed):
            try:
                await self.bot(call)
            except TelegramBadRequest as exc:
                if isinstance(call, AnswerCallbackQuery):  # too old to answer: the buttons are still redrawn
                    logger.info("could not answer a button press: %s", exc.message)
                    continue
                if not isinstance(call, EditMessageText | EditMessageReplyMarkup):
                    raise
                # The message is gone, or can no longer be edited: the answer goes as a new message instead.
                logger.info("could not edit message %s: %s", call.message_id, exc.message)
                if isinstance(call, EditMessageText) and call.text is not None:
                    await self.bot(
                        SendMessage(
                            chat_id=chat_id,
                            text=call.text,
                            reply_markup=call.reply_markup,
                            link_preview_options=call.link_preview_options,
                        )
                    )

    async def _acknowledge(self, query_id: str) -> None:
        try:
            await self.bot(AnswerCallbackQuery(callback_query_id=query_id))
        except TelegramBadRequest as exc:  # already answered (Telegram delivered the update again), or too old
            logger.info("could not answer a button press: %s", exc.message)


def _asks_feedback(event: Event | None) -> bool:
    return isinstance(event, Choice) and event.id.startswith(f"{FEEDBACK_PREFIX}:")


def build_telegram_bot(
    bot: Bot,
    *,
    force: ForceConfig,
    subscriptions: SubscriptionService,
    tips: TipService,
    geocoder: Geocoder,
    residents: ResidentService,
    store: ConversationStore,
    clock: Clock,
    feedback: FeedbackService | None = None,
) -> TelegramResidentBot:
    conversation = ResidentConversation(
        force=force,
        subscriptions=subscriptions,
        tips=tips,
        geocoder=geocoder,
        store=store,
        photos=TelegramPhotos(bot),
        feedback=feedback,
        clock=clock,
    )
    return TelegramResidentBot(bot, conversation, residents=residents)


def command_menu(language: str) -> list[BotCommand]:
    """The app's command menu (setMyCommands) in one language: the conversation's own words for each command."""
    return [
        BotCommand(command=name, description=text) for name, text in command_descriptions(translator(language)).items()
    ]
