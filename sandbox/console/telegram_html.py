"""Telegram's HTML subset as a tree of plain data, so the console can build it without innerHTML.

The stand-in has already refused markup Telegram would refuse; this turns what
it accepted into nodes ``{"t": "text", "v": …}`` and ``{"t": "b", "c": [...]}``
(``"a"`` nodes carry an ``href`` only when it is http or https). Tag names are
mapped to a fixed set, so the page never turns a string from the bot into an
element name or an attribute other than a checked link.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

# Telegram's tags (core.telegram.org/bots/api#html-style) → what the console draws.
_TAGS = {
    "b": "b",
    "strong": "b",
    "i": "i",
    "em": "i",
    "u": "u",
    "ins": "u",
    "s": "s",
    "strike": "s",
    "del": "s",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-spoiler": "spoiler",
    "a": "a",
}
_SAFE_SCHEMES = ("http://", "https://")
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

Node = dict[str, Any]


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root: Node = {"t": "root", "c": []}
        self._stack: list[Node] = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        kind = _TAGS.get(tag)
        values = dict(attrs)
        if tag == "span" and values.get("class") == "tg-spoiler":
            kind = "spoiler"
        node: Node = {"t": kind or "span", "c": []}
        if kind == "a":
            href = (values.get("href") or "").strip()
            if href.lower().startswith(_SAFE_SCHEMES):
                node["href"] = href
        self._stack[-1]["c"].append(node)
        if tag not in _VOID:  # a void tag has no end tag: what follows is not inside it
            self._stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID and len(self._stack) > 1:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        self._stack[-1]["c"].append({"t": "text", "v": data})


def html_nodes(text: str) -> list[Node]:
    """The nodes of Telegram-HTML ``text``; anything unexpected comes back as one text node."""
    builder = _TreeBuilder()
    try:
        builder.feed(text)
        builder.close()
    except Exception:  # a parser surprise must never hide the message: show the raw text instead
        return [{"t": "text", "v": text}]
    return builder.root["c"]


def message_nodes(text: str, visible: str, parse_mode: Any) -> list[Node]:
    """How a message reads: formatted for HTML; otherwise the text Telegram shows (MarkdownV2 without its escapes)."""
    if isinstance(parse_mode, str) and parse_mode.lower() == "html":
        return html_nodes(text)
    return [{"t": "text", "v": visible}]
