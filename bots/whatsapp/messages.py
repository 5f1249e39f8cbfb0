"""The Cloud API message objects Lookout sends, within Meta's published limits.

Each function returns the part of a ``/messages`` request after
``messaging_product`` and ``to``: ``{"type": …, <type>: {…}}`` plus
``context`` when it replies to a message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.outbound import TemplateCall

MAX_TEXT = 4096
MAX_BODY = 1024  # an interactive message's body
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_ROWS = 10  # across all sections of a list
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_LIST_BUTTON = 20


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _with_context(message: dict[str, Any], reply_to: str | None) -> dict[str, Any]:
    if reply_to:
        message["context"] = {"message_id": reply_to}
    return message


def text_message(body: str, *, reply_to: str | None = None) -> dict[str, Any]:
    return _with_context({"type": "text", "text": {"body": shorten(body, MAX_TEXT), "preview_url": False}}, reply_to)


def image_message(link: str, *, reply_to: str | None = None) -> dict[str, Any]:
    """A picture Meta fetches from ``link`` (a public HTTPS address), without a caption."""
    return _with_context({"type": "image", "image": {"link": link}}, reply_to)


def buttons_message(
    body: str,
    buttons: Sequence[tuple[str, str]],
    *,
    reply_to: str | None = None,
    header_image: str | None = None,
) -> dict[str, Any]:
    """Reply buttons: (id, title) pairs, at most three; ``header_image``: a picture above the body, by its link."""
    if not 1 <= len(buttons) <= MAX_BUTTONS:
        raise ValueError(f"reply buttons: 1 to {MAX_BUTTONS}, not {len(buttons)}")
    action = {
        "buttons": [{"type": "reply", "reply": {"id": i, "title": shorten(t, MAX_BUTTON_TITLE)}} for i, t in buttons]
    }
    interactive: dict[str, Any] = {"type": "button", "body": {"text": shorten(body, MAX_BODY)}, "action": action}
    if header_image:
        interactive["header"] = {"type": "image", "image": {"link": header_image}}
    return _with_context({"type": "interactive", "interactive": interactive}, reply_to)


def list_message(
    body: str, button: str, rows: Sequence[dict[str, str]], *, reply_to: str | None = None
) -> dict[str, Any]:
    """A list: rows of {id, title[, description]}, at most ten, in one section."""
    if not 1 <= len(rows) <= MAX_ROWS:
        raise ValueError(f"list rows: 1 to {MAX_ROWS}, not {len(rows)}")
    action = {"button": shorten(button, MAX_LIST_BUTTON), "sections": [{"rows": list(rows)}]}
    interactive = {"type": "list", "body": {"text": shorten(body, MAX_BODY)}, "action": action}
    return _with_context({"type": "interactive", "interactive": interactive}, reply_to)


def list_row(option_id: str, title: str, description: str | None = None) -> dict[str, str]:
    """A row; a title too long for the row is cut, and said in full underneath."""
    row = {"id": option_id, "title": shorten(title, MAX_ROW_TITLE)}
    if description is None and len(title) > MAX_ROW_TITLE:
        description = title
    if description:
        row["description"] = shorten(description, MAX_ROW_DESCRIPTION)
    return row


def location_request(body: str) -> dict[str, Any]:
    """WhatsApp's own "Send location" button under ``body``."""
    interactive = {
        "type": "location_request_message",
        "body": {"text": shorten(body, MAX_BODY)},
        "action": {"name": "send_location"},
    }
    return {"type": "interactive", "interactive": interactive}


def template_message(template: TemplateCall) -> dict[str, Any]:
    components: list[dict[str, Any]] = []
    if template.header_image:
        components.append(
            {"type": "header", "parameters": [{"type": "image", "image": {"link": template.header_image}}]}
        )
    if template.parameters:
        components.append({"type": "body", "parameters": [{"type": "text", "text": p} for p in template.parameters]})
    for index, button in enumerate(template.quick_replies):
        components.append(
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": str(index),
                "parameters": [{"type": "payload", "payload": button.data}],
            }
        )
    return {
        "type": "template",
        "template": {"name": template.name, "language": {"code": template.language}, "components": components},
    }
