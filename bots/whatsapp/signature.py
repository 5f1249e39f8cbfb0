"""``X-Hub-Signature-256``: Meta signs each webhook body with the app secret."""

from __future__ import annotations

import hashlib
import hmac
import re

HEADER = "X-Hub-Signature-256"
_SHAPE = re.compile(r"sha256=[0-9a-fA-F]{64}")


def signature_ok(raw_body: bytes, header: str | None, app_secret: bytes | None) -> bool:
    """``sha256=<hex HMAC-SHA256(app secret, raw body)>``, compared in constant time.

    Anything malformed (missing, another scheme, not hex, not ASCII) is simply
    not a match: the caller answers 401, never 500.
    """
    if not app_secret or header is None or not _SHAPE.fullmatch(header):
        return False
    expected = hmac.new(app_secret, raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header[len("sha256=") :].lower().encode("ascii"), expected.encode("ascii"))
