"""A conversation prompt as a text message: plain words, choices as numbered lines, keywords for commands.

The catalogue's light markup goes (``<b>`` and friends), escaped values are
shown as typed, ``/commands`` become the keywords people text (``/stop``, which
erases, is DELETE: STOP is the carriers'), and typographic characters become
their GSM-7 twins so a text costs as few segments as it can. Choices are
numbered ("Reply 1 for Home, 2 for Work or 3 for Other."); the conversation
takes the number, or a word naming the choice, as the answer.
"""

from __future__ import annotations

import html
import re

from core.conversation.events import COMMANDS
from core.conversation.prompts import Option, Prompt
from core.conversation.texts import translator
from core.rendering import split_at_lines
from core.sms_segments import gsm_friendly

MAX_TEXT = 1600  # Twilio's longest Body; longer answers (my data) go as several texts
_TAG = re.compile(r"</?[a-z]+>")
_COMMAND = re.compile(r"(?<![\w/])/(" + "|".join(sorted(COMMANDS)) + r")\b")
# The conversation's pictograms (📍, ✔️, ✅): a single one would make the whole text UCS-2, less than half as long.
_DECORATION = re.compile("[\u2600-\u27bf\U0001f000-\U0001faff\ufe0f] ?")
_TYPED = {"stop": "DELETE", "optout": "STOP"}


def keyword_for(command: str) -> str:
    return _TYPED.get(command, command.upper())


def sms_text(markup: str) -> str:
    """``<b>Done</b>. Send /stop`` → ``Done. Send DELETE``, in GSM-7 where it can be."""
    text = _TAG.sub("", markup)
    text = _COMMAND.sub(lambda m: keyword_for(m.group(1)), text)
    plain = _DECORATION.sub("", gsm_friendly(html.unescape(text)))
    return "\n".join(line.rstrip() for line in plain.split("\n"))


def render_prompt(prompt: Prompt) -> list[str]:
    """The texts (usually one) that show ``prompt``, in order."""
    text = sms_text(prompt.text)
    if prompt.document is not None:
        content = prompt.document.data.decode("utf-8", errors="replace")
        return split_at_lines(f"{text}\n\n{content}", MAX_TEXT)
    # The help's choices are the keywords its text lists already.
    if prompt.options and not prompt.commands_menu:
        text = f"{text}\n\n{numbered(prompt)}"
    return split_at_lines(text, MAX_TEXT)


def numbered(prompt: Prompt) -> str:
    _ = translator(prompt.language)
    choices = [
        _("{number} for {choice}").format(number=i, choice=_label(o, prompt.language))
        for i, o in enumerate(prompt.options, 1)
    ]
    if len(choices) == 1:
        listed = choices[0]
    else:
        listed = _("{first} or {last}").format(first=", ".join(choices[:-1]), last=choices[-1])
    return _("Reply {choices}.").format(choices=gsm_friendly(listed))


def _label(option: Option, language: str) -> str:
    label = sms_text(option.label)
    if option.id.startswith("menu:"):
        label = keyword_for(option.id.removeprefix("menu:"))
    if option.ticked:
        _ = translator(language)
        return _("{choice} (chosen)").format(choice=label)
    return label
