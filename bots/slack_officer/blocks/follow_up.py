"""The modals for ``/alert update A-…``, ``/alert resolve A-…`` (*Resolved*: the confirmation, with
what residents are told) and ``/alert cancel A-…`` (the cancel modal is the confirmation)."""

from __future__ import annotations

import json
from typing import Any

from bots.slack_officer.blocks.common import Block, esc, plain, section
from core.model import Alert

UPDATE_CALLBACK = "alert_update"
CANCEL_CALLBACK = "alert_cancel"
RESOLVE_CALLBACK = "alert_resolve"
ACTION = "value"
HEADLINE = "headline"
MESSAGE = "message"
CONTACT = "contact"
REASON = "reason"
_FIELDS = (HEADLINE, MESSAGE, CONTACT)


def _input(
    block_id: str,
    label: str,
    value: str,
    *,
    multiline: bool,
    max_length: int,
    optional: bool = False,
    placeholder: str | None = None,
) -> Block:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": ACTION,
        "multiline": multiline,
        "max_length": max_length,
    }
    if value:
        element["initial_value"] = value
    if placeholder:
        element["placeholder"] = plain(placeholder, 150)
    return {"type": "input", "block_id": block_id, "label": plain(label), "element": element, "optional": optional}


def update_modal(original: Alert, reached: int, metadata: dict[str, Any]) -> dict[str, Any]:
    """Prefilled with the original's headline and contact; the message says what has changed."""
    headline, title, submit, what = (
        original.headline,
        f"Update {original.reference}",
        "Send update",
        "What has changed",
    )
    intro = (
        f"An update to *{original.reference}* ({esc(original.headline)}) goes to exactly the residents "
        f"the original reached or is reaching: *{reached:,}* now. It is sent as soon as you press Send update."
    )
    example = "e.g. Two men have been arrested. Thank you for your help."
    return {
        "type": "modal",
        "callback_id": UPDATE_CALLBACK,
        "private_metadata": json.dumps(metadata),
        "title": plain(title, 24),
        "submit": plain(submit, 24),
        "close": plain("Cancel", 24),
        "blocks": [
            section(intro),
            _input(HEADLINE, "Headline", headline[:120], multiline=False, max_length=120),
            _input(MESSAGE, what, "", multiline=True, max_length=3000, placeholder=example),
            _input(CONTACT, "Contact", original.contact, multiline=True, max_length=300),
        ],
    }


def read_update(values: dict[str, Any]) -> dict[str, str]:
    return {name: str(((values.get(name) or {}).get(ACTION) or {}).get("value") or "") for name in _FIELDS}


def update_errors(errors: dict[str, str]) -> dict[str, str]:
    """Core's field errors on the update modal's blocks (anything else under the message)."""
    placed: dict[str, str] = {}
    for name, problem in errors.items():
        block = name if name in _FIELDS else MESSAGE
        placed[block] = (placed.get(block, "") + " " + (problem if block == name else f"{name}: {problem}")).strip()
    return placed


def cancel_modal(original: Alert, reached: int, metadata: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": CANCEL_CALLBACK,
        "private_metadata": json.dumps(metadata),
        "title": plain("Cancel alert", 24),
        "submit": plain("Cancel alert", 24),
        "close": plain("Keep it", 24),
        "blocks": [
            section(
                f":warning: You are about to cancel *{original.reference}*: {esc(original.headline)}\n"
                f"Deliveries not made yet stop now, and the *{reached:,}* residents already reached are told "
                "it is cancelled. This cannot be undone."
            ),
            _input(
                REASON,
                "Reason residents are told",
                "",
                multiline=True,
                max_length=500,
                optional=True,
                placeholder="e.g. Found safe and well. Thank you for your help.",
            ),
        ],
    }


def resolve_modal(original: Alert, reached: int, metadata: dict[str, Any], *, photo: bool) -> dict[str, Any]:
    """ "Resolved": the confirmation, and the words everyone reached is told (optional: a short thank-you). How it
    ended (found safe, an arrest, a vehicle recovered) is the officer's to say, so the form does not assume it."""
    photo_line = (
        "\n:frame_with_picture: Its photo stops being shown at once; Telegram deletes it from residents' chats "
        "(or, after 48 hours, replaces its caption), and everywhere else the message asks people not to share it."
        if photo
        else ""
    )
    return {
        "type": "modal",
        "callback_id": RESOLVE_CALLBACK,
        "private_metadata": json.dumps(metadata),
        "title": plain(f"Resolve {original.reference}", 24),
        "submit": plain("Mark resolved", 24),
        "close": plain("Not yet", 24),
        "blocks": [
            section(
                f":white_check_mark: *{original.reference}* ({esc(original.headline)}) is over. Deliveries not made "
                f"yet stop now, and the *{reached:,}* residents already reached are told it is resolved, in your "
                f"words below if you give them (say how it ended: found safe, an arrest…).{photo_line}"
            ),
            _input(
                MESSAGE,
                "What residents are told",
                "",
                multiline=True,
                max_length=1000,
                optional=True,
                placeholder="e.g. Amy has been found safe and well. Thank you for sharing the appeal.",
            ),
        ],
    }


def read_message(values: dict[str, Any]) -> str:
    return str(((values.get(MESSAGE) or {}).get(ACTION) or {}).get("value") or "")


def read_reason(values: dict[str, Any]) -> str:
    return str(((values.get(REASON) or {}).get(ACTION) or {}).get("value") or "")


def notice_modal(title: str, text: str) -> dict[str, Any]:
    """A modal with a message and only a Close button (a submission that carries on after the answer)."""
    return {"type": "modal", "title": plain(title, 24), "close": plain("Close", 24), "blocks": [section(text)]}
