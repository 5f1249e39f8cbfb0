"""Small Block Kit pieces shared by the builders, with Slack's length limits applied in one place."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from core.rendering import escape_slack_mrkdwn

Block = dict[str, Any]

SECTION_MAX = 3000
FIELD_MAX = 2000
HEADER_MAX = 150
OPTION_TEXT_MAX = 75
BUTTON_TEXT_MAX = 75


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain(text: str, limit: int = SECTION_MAX) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text, limit) or " ", "emoji": True}


def md(text: str, limit: int = SECTION_MAX) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": clip(text, limit) or " "}


def esc(text: str) -> str:
    """Anything a person typed, made literal in mrkdwn (``<!channel>`` stays text, ``&`` stays ``&``)."""
    return escape_slack_mrkdwn(text)


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, HEADER_MAX)}


def section(text: str, *, block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": md(text)}
    if block_id:
        block["block_id"] = block_id
    return block


def fields(pairs: list[tuple[str, str]]) -> Block:
    """Up to ten ``*label*\\nvalue`` fields (Slack's limit per section)."""
    return {"type": "section", "fields": [md(f"*{label}*\n{value}", FIELD_MAX) for label, value in pairs[:10]]}


def context(text: str) -> Block:
    return {"type": "context", "elements": [md(text)]}


def button(
    text: str, action_id: str, value: str, *, style: str | None = None, confirm: dict[str, Any] | None = None
) -> Block:
    element: Block = {"type": "button", "action_id": action_id, "value": value, "text": plain(text, BUTTON_TEXT_MAX)}
    if style:
        element["style"] = style
    if confirm:
        element["confirm"] = confirm
    return element


def confirm_dialog(title: str, text: str, yes: str, no: str = "Go back") -> dict[str, Any]:
    return {
        "title": plain(title, 100),
        "text": md(text, 300),
        "confirm": plain(yes, 30),
        "deny": plain(no, 30),
        "style": "danger",
    }


def option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text, OPTION_TEXT_MAX), "value": value}


def local_time(moment: datetime | None, timezone: str) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(ZoneInfo(timezone)).strftime("%a %d %b %H:%M")
