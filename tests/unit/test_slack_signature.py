"""Slack's request signature, checked before bolt: the published example, and every malformed request simply invalid."""

from __future__ import annotations

import pytest

from bots.slack_officer.signature import (
    MAX_AGE_SECONDS,
    expected_signature,
    is_valid_request,
)

pytestmark = pytest.mark.calendar  # make test runs it again with the clock moved

# Slack's published example (slack_sdk tests/slack_sdk/signature/test_signature_verifier.py).
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TIMESTAMP = "1531420618"
BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
EXPECTED = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def frozen(at: float = float(TIMESTAMP)):
    return lambda: at


def test_slacks_published_example_passes_with_the_clock_frozen_at_its_timestamp():
    assert expected_signature(SECRET, TIMESTAMP, BODY) == EXPECTED
    assert is_valid_request(BODY, TIMESTAMP, EXPECTED, SECRET, clock=frozen())
    assert is_valid_request(BODY, TIMESTAMP, EXPECTED, SECRET, clock=frozen(float(TIMESTAMP) + MAX_AGE_SECONDS))


@pytest.mark.parametrize(
    ("body", "timestamp", "signature", "now"),
    [
        (BODY + b"&x=1", TIMESTAMP, EXPECTED, float(TIMESTAMP)),  # body changed
        (BODY, TIMESTAMP, EXPECTED.replace("a2", "b2", 1), float(TIMESTAMP)),  # wrong signature
        (BODY, TIMESTAMP, EXPECTED, float(TIMESTAMP) + MAX_AGE_SECONDS + 1),  # more than five minutes old
        (BODY, TIMESTAMP, EXPECTED, float(TIMESTAMP) - MAX_AGE_SECONDS - 1),  # more than five minutes ahead
        (BODY, None, EXPECTED, float(TIMESTAMP)),  # no timestamp
        (BODY, TIMESTAMP, None, float(TIMESTAMP)),  # no signature
        (BODY, "", "", float(TIMESTAMP)),
        (BODY, "abc", EXPECTED, float(TIMESTAMP)),  # int() would raise
        (BODY, "1531420618.5", EXPECTED, float(TIMESTAMP)),
        (BODY, "-1531420618", EXPECTED, float(TIMESTAMP)),
        (
            BODY,
            "١٥٣١٤٢٠٦١٨",
            EXPECTED,
            float(TIMESTAMP),
        ),  # Arabic-Indic digits: int() accepts them, Slack never sends them
        (BODY, "9" * 40, EXPECTED, float(TIMESTAMP)),
        (BODY, TIMESTAMP, "v0=é" + EXPECTED[4:], float(TIMESTAMP)),  # compare_digest would raise on non-ASCII
        (BODY, TIMESTAMP, EXPECTED[:-1], float(TIMESTAMP)),
    ],
)
def test_anything_else_is_invalid_without_raising(body, timestamp, signature, now):
    assert is_valid_request(body, timestamp, signature, SECRET, clock=frozen(now)) is False


def test_no_secret_means_nothing_is_valid():
    assert is_valid_request(BODY, TIMESTAMP, EXPECTED, "", clock=frozen()) is False
