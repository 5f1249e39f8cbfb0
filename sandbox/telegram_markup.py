"""Telegram's message formatting rules, so the stand-in refuses what Telegram refuses.

Telegram parses ``parse_mode=HTML`` and ``MarkdownV2`` text itself and answers
``400 Bad Request: can't parse entities: …`` when the markup is broken; the
text it stores and shows is the text after parsing. Lookout must never trip
this with a resident's or officer's words, so the stand-in checks as strictly.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

# Telegram's HTML subset (core.telegram.org/bots/api#html-style).
_HTML_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-emoji",
}
_HTML_ENTITY = re.compile(r"&(?!(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)")
_MARKDOWN_V2_RESERVED = set("_*[]()~`>#+-=|{}.!")


class EntityError(ValueError):
    """What Telegram would say after ``Bad Request: can't parse entities: ``."""


class _TelegramHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_TAGS:
            raise EntityError(f'Unsupported start tag "{tag}"')
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            raise EntityError(f'Can\'t find end tag corresponding to start tag "{self.open[-1] if self.open else tag}"')
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(text: str) -> str:
    """The visible text of Telegram-HTML ``text``, or ``EntityError``."""
    if _HTML_ENTITY.search(text):
        raise EntityError('Unsupported HTML entity or unescaped "&"')
    if re.search(r"<(?![a-zA-Z/])", text):
        raise EntityError('Unexpected "<": escape it as &lt;')
    parser = _TelegramHtml()
    parser.feed(text)
    parser.close()
    if parser.open:
        raise EntityError(f'Can\'t find end tag corresponding to start tag "{parser.open[-1]}"')
    return html.unescape("".join(parser.text))


def parse_markdown_v2(text: str) -> str:
    """The visible text of MarkdownV2 ``text``.

    Stricter than Telegram: every reserved character must be escaped, even a
    pair that Telegram would read as formatting. Lookout sends HTML; this only
    has to catch text that was never escaped for MarkdownV2.
    """
    visible: list[str] = []
    escaped = False
    for offset, char in enumerate(text):
        if escaped:
            visible.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in _MARKDOWN_V2_RESERVED:
            raise EntityError(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\' (byte offset {offset})"
            )
        else:
            visible.append(char)
    return "".join(visible)


def visible_text(text: str, parse_mode: str | None) -> str:
    mode = (parse_mode or "").lower()
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    return text
