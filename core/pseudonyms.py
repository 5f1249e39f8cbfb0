"""The names officers see for tipsters: keyed, so nobody can work back to a resident, and separate for anonymous tips.

A pseudonym is an HMAC of the resident's id under a server secret (``LOOKOUT_PSEUDONYM_SECRET``,
or one derived from ``SLACK_SIGNING_SECRET``), so trying ids does not find it. Anonymous and
"may be contacted" tips use different keys: a resident's anonymous tips share one pseudonym
(officers can see they come from one source), their named tips another, and nothing links the two.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

ERASED = "Tipster (data erased)"
_LENGTH = 8  # hex digits shown: enough that two tipsters in a queue practically never share one


class TipsterPseudonyms:
    def __init__(self, secret: bytes | None = None) -> None:
        # No secret configured: a random one, so pseudonyms are still unlinkable (but change on restart).
        self._key = hmac.new(secret or secrets.token_bytes(32), b"lookout-tipster-pseudonyms", hashlib.sha256).digest()

    def for_tip(self, resident_id: int, *, anonymous: bool) -> str:
        """``Anonymous tipster 3FA9C2D1`` or ``Tipster 7B2E01AA``: stable per resident within each kind, unlinkable across."""
        kind = "anonymous" if anonymous else "named"
        digest = hmac.new(self._key, f"{kind}:{resident_id}".encode(), hashlib.sha256).hexdigest()[:_LENGTH].upper()
        return f"Anonymous tipster {digest}" if anonymous else f"Tipster {digest}"
