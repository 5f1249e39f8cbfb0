"""Reading a platform's JSON body, with text every later step can store.

JSON may carry a lone UTF-16 surrogate (``"\\ud800"``): Python decodes it into a
``str`` that no database driver, log line or platform can encode as UTF-8, so a
signed message carrying one used to fail on every redelivery. Each lone
surrogate becomes U+FFFD (the replacement character): the message, a tip
perhaps, is kept and handled, with that one character visibly unreadable.
Slack's door, where bolt re-reads the raw body, refuses such a request (400) instead.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Surrogates can only arrive as \uD800–\uDFFF escapes (raw UTF-8 cannot carry them): look for those before walking.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def load_platform_json(body: bytes) -> Any:
    """``json.loads`` of a webhook body, lone surrogates replaced (raises what ``json.loads`` raises)."""
    data = json.loads(body)
    return _replace_surrogates(data) if _SURROGATE_ESCAPE.search(body) else data


def holds_lone_surrogates(value: Any) -> bool:
    """Whether any text in decoded JSON ``value`` cannot be encoded as UTF-8 (for doors that refuse rather than mend)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, list):
        return any(holds_lone_surrogates(item) for item in value)
    if isinstance(value, dict):
        return any(holds_lone_surrogates(key) or holds_lone_surrogates(item) for key, item in value.items())
    return False


def _replace_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            # A valid pair encodes back to one character; a lone half becomes U+FFFD.
            return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return value
    if isinstance(value, list):
        return [_replace_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {_replace_surrogates(key): _replace_surrogates(item) for key, item in value.items()}
    return value
