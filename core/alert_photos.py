"""Photo appeals: the limits of an alert's photo and where the public can see it.

The bytes are checked and re-encoded outside the core (Pillow, ``bots/photo_files.py``); the core keeps
the rules every door shares: how big a photo may be, its unguessable public address, and how long the
force keeps it (``LOOKOUT_RETENTION_PHOTO_DAYS``).
"""

from __future__ import annotations

import secrets

PHOTO_PREFIX = "/alert-photos"
MAX_PHOTO_BYTES = 5 * 1024 * 1024  # what an officer may attach (the file as uploaded)
MAX_PHOTO_PIXELS = 40_000_000  # width × height; bigger pictures are refused before they are decoded
PHOTO_EDGE = 2048  # the longest side of the JPEG residents get (Telegram and WhatsApp scale down anyway)


def new_photo_token() -> str:
    """The secret part of a photo's public address: 128 random bits, so addresses can't be walked."""
    return secrets.token_urlsafe(16)


def photo_path(reference: str, token: str) -> str:
    return f"{PHOTO_PREFIX}/{reference}/{token}.jpg"


def photo_link(public_url: str | None, reference: str, token: str) -> str | None:
    """The photo's public address on ``LOOKOUT_PUBLIC_URL``, or None without one."""
    if not public_url or not token:
        return None
    return public_url.rstrip("/") + photo_path(reference, token)
