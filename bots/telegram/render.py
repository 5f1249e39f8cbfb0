"""A conversation prompt as Telegram shows it: HTML text, inline buttons, a "send location" keyboard, a document.

The catalogue's light markup is Telegram's HTML already, and ``/commands`` are
tappable in the app (which has its own command menu, so the help's menu of
commands is not repeated as buttons). After a button press the answer
rewrites that message where it reads better, as a person would see a form
change:

- the same choices again (a topic ticked) → the message is edited in place;
- an outcome with nothing to choose ("Saved.", "Paused for 8 h.") → it replaces the question;
- a new question, or an answer to ``keep`` (a tip's reference, the summary of a subscription) → the pressed
  message loses its buttons (no stale taps) and the answer follows as a new message;
- ``new_message`` (an expired button, a problem, a tap on an alert) → said below, the message left as it was;
- ``acknowledges`` (a thank-you for "Useful" under an alert) → shown on the press itself (answerCallbackQuery),
  and the alert's buttons redrawn with the answer marked; the alert's text is left as it was.
"""

from __future__ import annotations

from typing import Any

from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageReplyMarkup,
    EditMessageText,
    SendDocument,
    SendMessage,
    TelegramMethod,
)
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LinkPreviewOptions,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bots.telegram.inbound import Pressed
from core.conversation.prompts import Option, Prompt
from core.conversation.texts import translator

SHORT_LABEL = 18  # characters: buttons this short go two to a row
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def render_prompt(prompt: Prompt, chat_id: int, pressed: Pressed | None = None) -> list[TelegramMethod[Any]]:
    """The calls (usually one) that show ``prompt`` in the chat, in order."""
    if prompt.document is not None:
        document = BufferedInputFile(prompt.document.data, filename=prompt.document.filename)
        return [SendDocument(chat_id=chat_id, document=document, caption=prompt.text)]
    options = () if prompt.commands_menu else prompt.options
    if prompt.acknowledges and pressed is not None:
        thanks: list[TelegramMethod[Any]] = [AnswerCallbackQuery(callback_query_id=pressed.query_id, text=prompt.text)]
        if pressed.message_id is not None and options:
            thanks.append(
                EditMessageReplyMarkup(chat_id=chat_id, message_id=pressed.message_id, reply_markup=rows(options))
            )
        return thanks
    if prompt.acknowledges:
        options = ()  # no press to answer: the thank-you is said as a message
    buttons = inline_keyboard(options) if options else None
    if pressed is not None and pressed.message_id is not None and not prompt.new_message:
        same_question = options and tuple(o.id for o in options) == pressed.option_ids
        outcome = not options and not prompt.ask_location and not prompt.keep
        if pressed.editable and (same_question or outcome):
            return [
                EditMessageText(
                    chat_id=chat_id,
                    message_id=pressed.message_id,
                    text=prompt.text,
                    reply_markup=buttons,
                    link_preview_options=_NO_PREVIEW,
                )
            ]
        if pressed.option_ids:
            clear = EditMessageReplyMarkup(chat_id=chat_id, message_id=pressed.message_id, reply_markup=None)
            return [clear, _send(prompt, chat_id, buttons)]
    return [_send(prompt, chat_id, buttons)]


def inline_keyboard(options: tuple[Option, ...]) -> InlineKeyboardMarkup:
    buttons = [InlineKeyboardButton(text=_label(o), callback_data=o.id) for o in options]
    # A list to tick, or long labels: one to a row; a few short answers: side by side.
    per_row = 2 if all(o.ticked is None and len(o.label) <= SHORT_LABEL for o in options) else 1
    return InlineKeyboardMarkup(inline_keyboard=[buttons[i : i + per_row] for i in range(0, len(buttons), per_row)])


def rows(options: tuple[Option, ...]) -> InlineKeyboardMarkup:
    """Buttons one to a row, but an option ``beside`` joins the row before it (as an alert's buttons are laid out)."""
    keyboard: list[list[InlineKeyboardButton]] = []
    for option in options:
        button = InlineKeyboardButton(text=_label(option), callback_data=option.id)
        if option.beside and keyboard:
            keyboard[-1].append(button)
        else:
            keyboard.append([button])
    return InlineKeyboardMarkup(inline_keyboard=keyboard)


def location_keyboard(language: str) -> ReplyKeyboardMarkup:
    _ = translator(language)
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=_("📍 Share my location"), request_location=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
        input_field_placeholder=_("or type a postcode, e.g. ST16 2LZ"),
    )


def _send(prompt: Prompt, chat_id: int, buttons: InlineKeyboardMarkup | None) -> SendMessage:
    markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove
    if prompt.ask_location:
        markup = location_keyboard(prompt.language)
    elif buttons is not None:
        markup = buttons
    else:
        markup = _REMOVE  # a plain answer: the "send location" keyboard, if still up, has done its job
    return SendMessage(chat_id=chat_id, text=prompt.text, reply_markup=markup, link_preview_options=_NO_PREVIEW)


_REMOVE = ReplyKeyboardRemove()


def _label(option: Option) -> str:
    if option.ticked is None:
        return option.label
    return ("✅ " if option.ticked else "▫️ ") + option.label
