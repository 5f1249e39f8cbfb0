"""The tips queue in Slack: a tip's message redrawn after an officer's action, the Reply modal, the spam modal.

A tip is first posted by the delivery worker (core/tip_rendering.py through the
Slack adapter); a redraw keeps that look (the same text and the same buttons,
``action_id`` = ``value`` = ``tipq:<action>:<reference>``) and replaces the
status line with who changed it and when, so the whole channel sees it.
"""

from __future__ import annotations

import json
from typing import Any

from bots.slack_officer.adapter import message_blocks
from bots.slack_officer.blocks.cards import who
from bots.slack_officer.blocks.common import (
    Block,
    clip,
    context,
    esc,
    local_time,
    option,
    plain,
    section,
)
from core.model import TIPSTER, Tip, TipNote
from core.outbound import OutboundMessage
from core.services.tips import MAX_REPLY_TEXT, QueuedTip
from core.tip_rendering import (
    STATE_LABELS,
    officer_buttons,
    tip_summary_lines,
    tipster_pseudonym,
)

REPLY_CALLBACK = "tip_reply"
SPAM_CALLBACK = "tip_spam"
ACTION = "value"
REPLY = "reply"  # the reply modal's text input block
BLOCK = "block_tipster"  # the spam modal's checkbox block
BLOCK_OPTION = "block"
MODAL_NOTES = 10  # the latest notes shown in the Reply modal; older ones are in the thread
NOTE_MAX = 600
_DONE_WORDS = {
    "tip.acknowledged": "acknowledged",
    "tip.actioned": "actioned",
    "tip.spam": "marked as spam",
}


def status_line(queued: QueuedTip, timezone: str) -> str:
    """``Status: *Actioned* by @B at … · acknowledged by @A at …``: the latest change first, then the earlier ones."""
    line = f"Status: *{STATE_LABELS[queued.tip.state]}*"
    changes = list(reversed(queued.changes))
    if not changes:
        return line
    latest, earlier = changes[0], changes[1:]
    line += f" by {who(latest.actor)} at {local_time(latest.at, timezone)}"
    if latest.action == "tip.spam" and latest.detail.get("blocked_tipster"):
        line += " — tipster blocked: their future tips stay out of the queue"
    for change in earlier:
        line += f" · {_DONE_WORDS.get(change.action, change.action)} by {who(change.actor)} at {local_time(change.at, timezone)}"
    return line


def tip_message(queued: QueuedTip, timezone: str) -> dict[str, Any]:
    """``text`` and ``blocks`` for chat.update of the tip's message: the tip, its status, the buttons still relevant."""
    tip = queued.tip
    lines = tip_summary_lines(tip, queued.alert, len(tip.media))
    lines.append(status_line(queued, timezone))
    text = "\n".join(lines)
    return {"text": text, "blocks": message_blocks(OutboundMessage(text=text, buttons=officer_buttons(tip)))}


def reply_note(officer: str, tip: Tip, note: TipNote) -> dict[str, Any]:
    """What the thread shows after an officer's reply, so colleagues see the conversation and who is in it."""
    quoted = "\n".join(f"> {esc(line)}" for line in note.text.splitlines() or [""])
    # The mention stays outside the bold: Slack clients differ on formatting that spans one.
    text = f"{who(officer)} *replied to {tipster_pseudonym(tip)}* on tip {tip.reference}:\n{quoted}"
    return {
        "text": text,
        "blocks": [
            section(text),
            context("Sent through Lookout to the tipster's own app. They see it comes from the force, not your name."),
        ],
    }


def reply_modal(
    tip: Tip, photo_count: int, notes: list[TipNote], force_name: str, metadata: dict[str, Any], timezone: str
) -> dict[str, Any]:
    """The tip (as in the channel), the conversation so far, and a box for the reply."""
    blocks: list[Block] = [section("\n".join(tip_summary_lines(tip, None, photo_count)))]
    if notes:
        shown = notes[-MODAL_NOTES:]
        earlier = f" ({len(notes) - len(shown)} earlier messages are in the thread)" if len(shown) < len(notes) else ""
        blocks.append(context(f"*So far*{earlier}"))
        for note in shown:  # one block each, so a long note never pushes the newest out of a section's 3,000 characters
            author = tipster_pseudonym(tip) if note.author == TIPSTER else who(note.author)
            quoted = "\n".join(f"> {esc(line)}" for line in clip(note.text, NOTE_MAX).splitlines() or [""])
            blocks.append(section(f"{author} · {local_time(note.created_at, timezone)}\n{quoted}"))
    blocks.append(
        {
            "type": "input",
            "block_id": REPLY,
            "label": plain("Your reply to the tipster"),
            "element": {
                "type": "plain_text_input",
                "action_id": ACTION,
                "multiline": True,
                "max_length": MAX_REPLY_TEXT,
                "placeholder": plain("e.g. Thank you. Which way did they go?", 150),
            },
        }
    )
    blocks.append(
        context(
            f"Relayed to the tipster in their own app as a reply from {esc(force_name)}, with your words "
            "but not your name; they can answer, and their answer arrives in this thread."
        )
    )
    return {
        "type": "modal",
        "callback_id": REPLY_CALLBACK,
        "private_metadata": json.dumps(metadata),
        "title": plain(f"Reply on {tip.reference}", 24),
        "submit": plain("Send reply", 24),
        "close": plain("Cancel", 24),
        "blocks": blocks,
    }


def spam_modal(tip: Tip, metadata: dict[str, Any]) -> dict[str, Any]:
    """The confirmation: spam, and whether to keep the tipster's future tips out of the queue."""
    return {
        "type": "modal",
        "callback_id": SPAM_CALLBACK,
        "private_metadata": json.dumps(metadata),
        "title": plain("Mark as spam", 24),
        "submit": plain("Mark as spam", 24),
        "close": plain("Go back", 24),
        "blocks": [
            section(
                f"Mark tip *{tip.reference}* from {tipster_pseudonym(tip)} as spam? It stays on record "
                "(and in this thread) but is closed: no more buttons."
            ),
            {
                "type": "input",
                "block_id": BLOCK,
                "optional": True,
                "label": plain("Tipster"),
                "element": {
                    "type": "checkboxes",
                    "action_id": ACTION,
                    "options": [
                        {
                            **option("Also keep this tipster's future tips out of the queue", BLOCK_OPTION),
                            "description": plain("They are still kept, and the tipster is not told.", 75),
                        },
                    ],
                },
            },
        ],
    }


def read_reply(values: dict[str, Any]) -> str:
    return str(((values.get(REPLY) or {}).get(ACTION) or {}).get("value") or "")


def read_block_tipster(values: dict[str, Any]) -> bool:
    chosen = ((values.get(BLOCK) or {}).get(ACTION) or {}).get("selected_options") or []
    return any(isinstance(o, dict) and o.get("value") == BLOCK_OPTION for o in chosen)
