"""Where a sent public alert can be read in full: a page at an unguessable path on ``LOOKOUT_PUBLIC_URL``.

The path carries the alert's reference and a keyed token (HMAC-SHA256 of the
reference), so nobody can walk the sequential references to find pages. The
key is ``LOOKOUT_LINK_SECRET``, or, without it, one derived from the SMS auth
token (the texts are what link to these pages).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from core.settings import Settings

PAGE_PREFIX = "/alerts"


def page_key(settings: Settings) -> bytes | None:
    if settings.link_secret is not None:
        return settings.link_secret.get_secret_value().encode()
    if settings.sms_auth_token is not None:
        return hmac.new(
            settings.sms_auth_token.get_secret_value().encode(), b"lookout-alert-pages", hashlib.sha256
        ).digest()
    return None


def page_token(key: bytes, reference: str) -> str:
    digest = hmac.new(key, f"alert-page:{reference}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def token_ok(key: bytes, reference: str, token: str) -> bool:
    return hmac.compare_digest(page_token(key, reference).encode(), token.encode("utf-8", "surrogateescape"))


def alert_page_link(settings: Settings, reference: str) -> str | None:
    """The public page of the alert ``reference``, or None without a public URL or a key."""
    key = page_key(settings)
    if not settings.public_url or key is None:
        return None
    return f"{settings.public_url.rstrip('/')}{PAGE_PREFIX}/{reference}/{page_token(key, reference)}"
