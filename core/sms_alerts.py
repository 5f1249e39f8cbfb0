"""An alert as one text message that keeps within the force's segment budget (``SMS_MAX_SEGMENTS``).

In order: the force's name and the headline, the officers' message (shortened
at a word boundary when it must be), the incident number, the contact, and how
to answer. When the message had to be shortened, a link to the whole alert on
its public page ends it. Pure: the SMS adapter calls it with what the settings
say, the preview with the same, so both count the same segments.
"""

from __future__ import annotations

from dataclasses import replace

from core.outbound import MessageParts
from core.sms_segments import count_segments, gsm_friendly

REPLY_LINE = "Reply with what you saw. STOP to end"
ELLIPSIS = "..."  # GSM-7: "…" would turn the whole text into UCS-2, more than halving what fits


def alert_sms(
    parts: MessageParts, force_name: str, max_segments: int, *, link: str | None = None, photo: bool = False
) -> str:
    """The alert within ``max_segments``; ``link`` (the public page) is added only when the message is cut, or
    always for an appeal with a ``photo`` (the page shows it: a text can't).
    Dashes, curly quotes and the like become their GSM-7 twins first (core/sms_segments.py)."""
    parts = replace(
        parts,
        headline=gsm_friendly(parts.headline or parts.heading),
        body=gsm_friendly(parts.body),
        contact=gsm_friendly(parts.contact) if parts.contact else None,
    )
    force_name = gsm_friendly(force_name)
    status = f"{parts.status}: " if parts.status else ""
    head = f"{status}{force_name}: {parts.headline or parts.heading}"
    tail = [f"Incident {parts.incident_number}" if parts.incident_number else None, parts.contact]
    closing = REPLY_LINE if parts.tip_alert_id is not None else parts.closing
    pictured = f"Photo: {link}" if photo and link else None
    whole = _join(head, parts.body, *tail, closing, pictured)
    if count_segments(whole).count <= max_segments:
        return whole
    more = (pictured or f"More: {link}") if link else None
    body = _shortest_fitting(head, parts.body, tail, closing, more, max_segments)
    if body is not None:
        return _join(head, body, *tail, closing, more)
    # Not even the headline and the details fit: the link, then as much of the head as there is room for.
    return _cut_to(_join(more, head, *tail, closing), max_segments)


def _shortest_fitting(
    head: str, body: str, tail: list[str | None], closing: str | None, more: str | None, max_segments: int
) -> str | None:
    """The longest word-boundary cut of ``body`` (ending in "...") that fits, or None if none does."""
    words = body.split(" ")
    low, high, best = 0, len(words) - 1, None
    while low <= high:  # the cost grows with the words kept: a binary search finds the most that fit
        middle = (low + high) // 2
        kept = " ".join(words[: middle + 1]).rstrip(" ,;:.-") + ELLIPSIS
        if count_segments(_join(head, kept, *tail, closing, more)).count <= max_segments:
            best, low = kept, middle + 1
        else:
            high = middle - 1
    return best


def _cut_to(text: str, max_segments: int) -> str:
    while text and count_segments(text).count > max_segments:
        text = text[: max(1, len(text) - 10)]
    return text


def _join(*lines: str | None) -> str:
    return "\n".join(line for line in lines if line)
