"""How many SMS segments a text costs: the GSM 03.38 alphabet (7-bit) or, failing it, UCS-2.

A text all in the GSM-7 default alphabet fits 160 characters in one message, or
153 per segment once it is split (each segment carries a header that joins
them up); the extension characters (``€ [ ] { } ~ ^ \\ |`` and the form feed)
take two places. Any other character makes the whole text UCS-2: 70 in one
message, 67 per segment. Providers charge per segment. Pure code: no provider
is asked, so the preview can price an alert before it is sent.
"""

from __future__ import annotations

from dataclasses import dataclass

# The GSM 03.38 default alphabet (basic character set), one place each.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each is sent as an escape plus the character, so it takes two places.
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


@dataclass(frozen=True)
class Segments:
    encoding: str  # "GSM-7" or "UCS-2"
    count: int  # segments the text is sent as (an empty text is still one message)
    units: int  # places used: GSM-7 septets, or UCS-2 code units


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text)


def _widths(text: str) -> tuple[str, list[int]]:
    if is_gsm7(text):
        return "GSM-7", [2 if ch in GSM7_EXTENDED else 1 for ch in text]
    # UCS-2 counts 16-bit units: a character beyond the Basic Multilingual Plane (most emoji) takes two.
    return "UCS-2", [len(ch.encode("utf-16-le")) // 2 for ch in text]


def count_segments(text: str) -> Segments:
    encoding, widths = _widths(text)
    single, part = (GSM7_SINGLE, GSM7_PART) if encoding == "GSM-7" else (UCS2_SINGLE, UCS2_PART)
    units = sum(widths)
    if units <= single:
        return Segments(encoding, 1, units)
    # Filled one segment at a time: an escape pair or a surrogate pair is never split between two segments.
    count, used = 1, 0
    for width in widths:
        if used + width > part:
            count, used = count + 1, 0
        used += width
    return Segments(encoding, count, units)


def fits(text: str, max_segments: int) -> bool:
    return count_segments(text).count <= max_segments


# Typographic characters the conversation and officers use that have a GSM-7 twin: one of them would make the
# whole text UCS-2 (70 characters a segment instead of 160), so they are swapped, as providers' "smart encoding" does.
_GSM_TWINS = str.maketrans(
    {
        "\u2014": "-",
        "\u2013": "-",
        "\u2012": "-",
        "\u2010": "-",
        "\u2011": "-",
        "\u2212": "-",
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u2022": "-",
        "\u00a0": " ",
        "\u2009": " ",
        "\u202f": " ",
        "\u200b": "",
        "\u2026": "...",
        "\u00b4": "'",
        "\u02bc": "'",
        "\u00ab": '"',
        "\u00bb": '"',
    }
)


def gsm_friendly(text: str) -> str:
    """``text`` with dashes, curly quotes, ellipses and odd spaces as their GSM-7 twins (emoji and letters kept)."""
    return text.translate(_GSM_TWINS)
