"""Counting SMS segments (GSM-7 and UCS-2) and fitting an alert into the segment budget."""

from __future__ import annotations

import pytest

from core.outbound import MessageParts
from core.sms_alerts import REPLY_LINE, alert_sms
from core.sms_segments import count_segments, gsm_friendly


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("", "GSM-7", 1),
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),  # extension characters take two places
        ("€" * 81, "GSM-7", 2),
        ("a" * 159 + "€", "GSM-7", 2),  # 161 places: over one message
        ("é" * 160, "GSM-7", 1),  # é is in the GSM-7 alphabet
        ("ł" * 70, "UCS-2", 1),  # ł is not: the whole text is UCS-2
        ("ł" * 71, "UCS-2", 2),
        ("ł" * 134, "UCS-2", 2),
        ("ł" * 135, "UCS-2", 3),
        ("😀" * 35, "UCS-2", 1),  # an emoji is two UTF-16 units
        ("a" * 69 + "😀", "UCS-2", 2),
    ],
)
def test_segments(text: str, encoding: str, segments: int) -> None:
    counted = count_segments(text)
    assert (counted.encoding, counted.count) == (encoding, segments)


def test_an_extension_pair_is_not_split_across_segments() -> None:
    assert count_segments("a" * 152 + "€" + "a" * 152).count == 3  # the € moves whole into the second part


def test_typographic_characters_become_their_gsm_twins() -> None:
    assert gsm_friendly("Don’t — “now” …") == 'Don\'t - "now" ...'
    assert count_segments(gsm_friendly("a – b")).encoding == "GSM-7"


def parts(body: str) -> MessageParts:
    return MessageParts(
        subject="s",
        heading="Police alert",
        body=body,
        headline="Bogus callers",
        incident_number="MV-1",
        contact="Call 101",
        reference="A-2026-000001",
        tip_alert_id=1,
    )


def test_a_short_alert_goes_whole() -> None:
    text = alert_sms(parts("Two men at the door."), "Mercia Vale Police", 3, link="https://x.example/a")
    assert text.startswith("Mercia Vale Police: Bogus callers") and "Two men at the door." in text
    assert "Incident MV-1" in text and "Call 101" in text and text.endswith(REPLY_LINE) and "https://" not in text


@pytest.mark.parametrize("budget", [1, 2, 3])
def test_a_long_alert_is_cut_at_a_word_with_the_link(budget: int) -> None:
    body = " ".join(f"word{n}" for n in range(400))
    text = alert_sms(parts(body), "Mercia Vale Police", budget, link="https://x.example/alerts/A/t")
    assert count_segments(text).count <= budget
    assert "https://x.example/alerts/A/t" in text and "Incident MV-1" in text and REPLY_LINE in text
    kept = text.split("\n")[1]
    assert kept.endswith("...") and kept.removesuffix("...").split(" ")[-1].startswith("word")  # whole words only


def test_a_cancellation_offers_no_reply_line() -> None:
    cancel = MessageParts(
        subject="s", heading="Cancelled", body="Found safe.", headline="Missing", incident_number="MV-2"
    )
    assert REPLY_LINE not in alert_sms(cancel, "Mercia Vale Police", 3)
