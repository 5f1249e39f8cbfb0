"""Signed links: how someone without a password proves an email address is theirs.

Every link in an email carries a token signed with ``LOOKOUT_LINK_SECRET``
(itsdangerous: HMAC-SHA1 over the payload and a timestamp, a different salt per
purpose, so a manage link cannot be replayed as a confirmation). The payload is
readable by whoever holds the link, so it never holds more than the address's
own choices and never exact coordinates: places travel as the centre of their
stored cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from core.errors import LookoutError
from core.settings import Settings


class Purpose(StrEnum):
    CONFIRM = "confirm"  # double opt-in: the sign-up, waiting for its address to be proved
    MANAGE = "manage"  # change topics and places
    UNSUBSCRIBE = "unsubscribe"  # one click, no questions
    TIP = "tip"  # reply to one alert with information
    FEEDBACK = "feedback"  # say whether one alert was useful (the page asks once more: link scanners must not vote)
    TEXT_CODE = "text-code"  # a sign-up by text message, waiting for the code sent to the number (never a link)


# How long each kind of link works. Unsubscribing never expires: an old email must still let someone leave
# (RFC 8058 one-click), and leaving is the one action nobody can abuse against the address's owner.
MAX_AGE_SECONDS: dict[Purpose, int | None] = {
    Purpose.CONFIRM: 24 * 3600,
    Purpose.MANAGE: 30 * 24 * 3600,
    Purpose.UNSUBSCRIBE: None,
    Purpose.TIP: 14 * 24 * 3600,
    Purpose.FEEDBACK: 30 * 24 * 3600,
    # An outer bound only: the code inside works for CODE_LIFETIME (bots/email/pages/text_code.py), by the site's clock.
    Purpose.TEXT_CODE: 3600,
}

# Where links point when LOOKOUT_PUBLIC_URL is unset: `lookout serve`'s own address, right for a trial on one machine.
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"

PATHS: dict[Purpose, str] = {
    Purpose.CONFIRM: "/subscribe/confirm",
    Purpose.MANAGE: "/subscribe/manage",
    Purpose.UNSUBSCRIBE: "/subscribe/unsubscribe",
    Purpose.TIP: "/subscribe/tip",
    Purpose.FEEDBACK: "/subscribe/feedback",
}


class BadLink(LookoutError):
    """A link that was altered, or one from another purpose; ``str(error)`` is fit to show."""

    def __init__(self, message: str = "This link isn't valid. It may have been copied incompletely.") -> None:
        super().__init__(message)


class ExpiredLink(BadLink):
    def __init__(self) -> None:
        super().__init__("This link has expired. You can ask for a fresh one below.")


@dataclass(frozen=True)
class LinkSigner:
    """Makes and reads the signed links for one site (``public_url``, no trailing slash)."""

    secret: str
    public_url: str

    @classmethod
    def from_settings(cls, settings: Settings) -> LinkSigner:
        """The site's signer: LOOKOUT_LINK_SECRET, and LOOKOUT_PUBLIC_URL (or ``DEFAULT_PUBLIC_URL``)."""
        if settings.link_secret is None:
            raise LookoutError("Set LOOKOUT_LINK_SECRET: email links are signed with it")
        return cls(settings.link_secret.get_secret_value(), (settings.public_url or DEFAULT_PUBLIC_URL).rstrip("/"))

    def token(self, purpose: Purpose, payload: dict[str, Any]) -> str:
        return self._serializer(purpose).dumps(payload)

    def url(self, purpose: Purpose, payload: dict[str, Any]) -> str:
        return f"{self.public_url.rstrip('/')}{PATHS[purpose]}?{urlencode({'t': self.token(purpose, payload)})}"

    def read(self, purpose: Purpose, token: str | None) -> dict[str, Any]:
        """The payload of a token made for ``purpose``; ``ExpiredLink`` or ``BadLink`` otherwise."""
        if not token or len(token) > 4096:
            raise BadLink()
        try:
            payload = self._serializer(purpose).loads(token, max_age=MAX_AGE_SECONDS[purpose])
        except SignatureExpired:
            raise ExpiredLink() from None
        except BadSignature:
            raise BadLink() from None
        if not isinstance(payload, dict):
            raise BadLink()
        return payload

    # Shorthands for the links every email carries.
    def manage_url(self, email: str) -> str:
        return self.url(Purpose.MANAGE, {"email": email})

    def unsubscribe_url(self, email: str) -> str:
        return self.url(Purpose.UNSUBSCRIBE, {"email": email})

    def tip_url(self, email: str, alert_id: int) -> str:
        return self.url(Purpose.TIP, {"email": email, "alert": alert_id})

    def feedback_url(self, email: str, alert_id: int, useful: bool) -> str:
        return self.url(Purpose.FEEDBACK, {"email": email, "alert": alert_id, "useful": useful})

    def _serializer(self, purpose: Purpose) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret, salt=f"lookout-{purpose.value}")
