"""Alert templates' placeholders: ``{name}``, ``{age}``, ``{street}``… in a template's headline and message.

An officer starting from a template replaces each placeholder with the details
(in Slack by editing the text, from the CLI with ``--fill name=Amy``). A
placeholder still in braces when the alert is checked is a mistake on its
field, wherever the alert was written (``AlertService.compose``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from core.errors import InvalidInput

# A placeholder is a lower-case name in braces; anything else in braces is left alone.
PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]{0,30})\}")
_BRACE = re.compile(r"[{}]")


def placeholders(text: str) -> tuple[str, ...]:
    """The placeholders in ``text``, each once, in the order they first appear."""
    return tuple(dict.fromkeys(PLACEHOLDER.findall(text or "")))


def malformed_braces(text: str) -> bool:
    """True when ``text`` has a brace that is not part of a ``{lower_case_name}`` placeholder."""
    return bool(_BRACE.search(PLACEHOLDER.sub("", text)))


def fill(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each placeholder named in ``values`` replaced; the others stay in braces."""
    return PLACEHOLDER.sub(lambda m: values[m.group(1)].strip() if m.group(1) in values else m.group(0), text)


def in_words(names: tuple[str, ...] | list[str]) -> str:
    """``{name}``, ``{name} and {age}``, ``{name}, {age} and {street}``."""
    shown = [f"{{{n}}}" for n in names]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def require_filled(text: str, field: str) -> str:
    """``text`` unchanged, or ``InvalidInput`` on ``field`` naming every placeholder still to fill in."""
    left = placeholders(text)
    if left:
        raise InvalidInput.one(
            field, f"Fill in {in_words(left)}: replace {'it' if len(left) == 1 else 'each'} with the details"
        )
    return text


def parse_fills(pairs: list[str] | tuple[str, ...], field: str = "fill") -> dict[str, str]:
    """``["name=Amy", "age=9"]`` as ``{"name": "Amy", "age": "9"}``; a pair without ``=`` or a name is an error."""
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip().strip("{}").strip()
        if not sep or not name:
            raise InvalidInput.one(field, f"'{pair}' should be NAME=VALUE, for example name=\"Amy Smith\"")
        if not value.strip():
            raise InvalidInput.one(field, f"'{name}' is given no value; say what to put in {{{name}}}")
        values[name] = value
    return values
