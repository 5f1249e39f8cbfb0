"""Checking that a request really comes from Slack, before bolt or anything else sees it.

Slack signs ``v0:{X-Slack-Request-Timestamp}:{raw body}`` with the app's
signing secret (HMAC-SHA256, hex, prefixed ``v0=``) and sends it in
``X-Slack-Signature``. slack_sdk's verifier does the same sum but raises on
malformed headers (``int("abc")``; ``hmac.compare_digest`` on a non-ASCII
string), which bolt turns into a 500: here every malformed, stale or wrong
request is simply not valid, so the route answers 401.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable

MAX_AGE_SECONDS = 300  # Slack's own rule: reject anything more than five minutes off
_MAX_TIMESTAMP_DIGITS = 12


def expected_signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), b"v0:" + timestamp.encode("ascii") + b":" + body, hashlib.sha256).hexdigest()
    return f"v0={digest}"


def is_valid_request(
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    secret: str,
    *,
    clock: Callable[[], float] = time.time,
) -> bool:
    """True only for a well-formed, fresh request signed with ``secret``."""
    if not secret or not timestamp or not signature:
        return False
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > _MAX_TIMESTAMP_DIGITS:
        return False
    if abs(clock() - int(timestamp)) > MAX_AGE_SECONDS:
        return False
    if not signature.isascii():
        return False
    return hmac.compare_digest(expected_signature(secret, timestamp, body).encode(), signature.encode())
