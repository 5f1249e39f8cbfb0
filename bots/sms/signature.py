"""``X-Twilio-Signature``: Twilio signs each webhook with the account's auth token, over the URL and the form.

The check is the ``twilio`` library's own ``RequestValidator`` (HMAC-SHA1 of
the full public URL followed by each parameter's name and value in sorted
order, base64). The URL is the one Twilio was given, ``LOOKOUT_PUBLIC_URL``
plus the path, never the Host header a request claims.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from twilio.request_validator import RequestValidator

HEADER = "X-Twilio-Signature"
MAX_SIGNATURE = 100  # base64 of a SHA-1 or SHA-256 digest is 28 or 44 characters


class _Form(dict[str, list[str]]):
    """Every value of each name, as ``RequestValidator`` reads a multi-valued form (``getlist``)."""

    def getlist(self, name: str) -> list[str]:
        return self[name]


def signature_ok(
    validator: RequestValidator | None, url: str | None, pairs: Sequence[tuple[str, str]], header: str | None
) -> bool:
    """Anything missing or malformed is simply not a match: the door answers 403, never 500."""
    if validator is None or url is None or not header or len(header) > MAX_SIGNATURE or not header.isascii():
        return False
    form = _Form()
    for name, value in pairs:
        form.setdefault(name, []).append(value)
    return bool(validator.validate(url, form, header))


def first_values(pairs: Sequence[tuple[str, str]]) -> Mapping[str, str]:
    """Each field's first value (Twilio sends each once)."""
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)
    return form
