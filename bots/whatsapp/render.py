"""A conversation prompt as WhatsApp shows it: reply buttons, a list (paged), a location request, or text.

Up to three short choices become reply buttons (titles ≤ 20 characters);
more, or longer ones, a list (≤ 10 rows; longer lists are paged with a
"More…" row, and pinned options such as Done stay on every page). The
catalogue's light markup becomes WhatsApp's (``*bold*``, ``_italic_``) and
Telegram's ``/commands`` become the keywords people type here (``STOP``).
"""

from __future__ import annotations

import html
import re
from typing import Any

from bots.whatsapp.messages import (
    MAX_BUTTON_TITLE,
    MAX_BUTTONS,
    MAX_ROW_TITLE,
    MAX_ROWS,
    MAX_TEXT,
    buttons_message,
    list_message,
    list_row,
    location_request,
    text_message,
)
from core.conversation.events import COMMANDS
from core.conversation.prompts import Option, Prompt
from core.conversation.texts import translator
from core.rendering import split_at_lines

PAGE_PREFIX = "page:"
_TAGS = {"b": "*", "i": "_", "s": "~"}
_TAG = re.compile(r"<(/?)([bis])>")
_COMMAND = re.compile(r"(?<![\w/])/(" + "|".join(sorted(COMMANDS)) + r")\b")


def whatsapp_text(markup: str) -> str:
    """``<b>Done</b>. Send /stop`` → ``*Done*. Send STOP``; escaped values shown as typed."""
    text = _TAG.sub(lambda m: _TAGS[m.group(2)], markup)
    text = _COMMAND.sub(lambda m: m.group(1).upper(), text)
    return html.unescape(text)


def render_prompt(prompt: Prompt, *, page: int | None = None, reply_to: str | None = None) -> list[dict[str, Any]]:
    """The messages (usually one) that show ``prompt``, in order.

    ``page``: the page of a long list being browsed or ticked; None when the question is new, which shows a
    list with a recommended (``quick``) option as two buttons: that option, and one opening the list."""
    text = whatsapp_text(prompt.text)
    if prompt.document is not None:
        # The stand-in (and so the tests and the demo) has no document messages: the file goes as text.
        content = prompt.document.data.decode("utf-8", errors="replace")
        return [text_message(part) for part in split_at_lines(f"{text}\n\n{content}", MAX_TEXT)]
    if prompt.ask_location:
        return [location_request(text)]
    if not prompt.options or prompt.acknowledges:  # a thank-you for a tap: said, without the alert's buttons again
        return [
            text_message(part, reply_to=reply_to if i == 0 else None)
            for i, part in enumerate(split_at_lines(text, MAX_TEXT))
        ]
    if _fit_buttons(prompt.options):
        return [buttons_message(text, [(o.id, _label(o)) for o in prompt.options], reply_to=reply_to)]
    _ = translator(prompt.language)
    opens = prompt.list_button or _("Choose")
    quick = next((o for o in prompt.options if o.quick), None)
    if page is None and quick is not None:
        return [
            buttons_message(
                text, [(quick.id, _short(quick, MAX_BUTTON_TITLE)), (f"{PAGE_PREFIX}0", opens)], reply_to=reply_to
            )
        ]
    rows = [list_row(o.id, _short(o, MAX_ROW_TITLE), o.description) for o in page_options(prompt, page or 0)]
    return [list_message(text, opens, rows, reply_to=reply_to)]


def page_options(prompt: Prompt, page: int) -> list[Option]:
    """The options on ``page`` (pages wrap around), with a "More…" row when there is more than one page."""
    pages = _pages(prompt.options)
    if len(pages) == 1:
        return pages[0]
    _ = translator(prompt.language)
    index = page % len(pages)
    following = (index + 1) % len(pages)
    more = Option(
        f"{PAGE_PREFIX}{following}",
        _("More…"),
        description=_("More choices ({page} of {pages})").format(page=following + 1, pages=len(pages)),
    )
    return [*pages[index], more]


def page_of(prompt: Prompt, option_id: str) -> int:
    """The page showing ``option_id`` (to keep someone on the page they were ticking on)."""
    for number, options in enumerate(_pages(prompt.options)):
        if any(o.id == option_id and not o.pinned for o in options):
            return number
    return 0


def _pages(options: tuple[Option, ...]) -> list[list[Option]]:
    pinned = [o for o in options if o.pinned]
    rest = [o for o in options if not o.pinned]
    room = MAX_ROWS - len(pinned)
    if len(rest) <= room:
        return [[*pinned, *rest]]
    size = room - 1  # one row for "More…"
    return [[*pinned, *rest[i : i + size]] for i in range(0, len(rest), size)]


def _fit_buttons(options: tuple[Option, ...]) -> bool:
    return len(options) <= MAX_BUTTONS and all(len(_label(o)) <= MAX_BUTTON_TITLE for o in options)


def _short(option: Option, limit: int) -> str:
    label = _label(option)
    return option.short if option.short and len(label) > limit else label


def _label(option: Option) -> str:
    if option.ticked is None:
        return option.label
    return ("✅ " if option.ticked else "▫️ ") + option.label
