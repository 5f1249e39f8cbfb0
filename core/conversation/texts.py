"""The conversation's words in the resident's language: the gettext catalogues in ``core/locales``.

The standard library's gettext reads the compiled ``.mo`` files; every app
shows the same sentences, so each is written and translated once.
"""

from __future__ import annotations

import gettext
import html
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

LOCALES = Path(__file__).resolve().parents[1] / "locales"
DOMAIN = "lookout"
DEFAULT_LANGUAGE = "en"
# Each language's own name, for the language menu.
LANGUAGE_NAMES = {"en": "English", "pl": "Polski"}

Translate = Callable[[str], str]


def N_(message: str) -> str:
    """Mark a message for the catalogue; it is translated into each resident's language when said."""
    return message


# The longest sentences, kept here so the catalogues' extraction finds them in one place.
WELCOME = N_(
    "Hello! This is <b>Lookout</b>, run by {force}.\n\n"
    "We send you instant alerts about crime happening near you right now — a missing child, a burglary, bogus callers — "
    "and you can send back what you see.\n\n"
    "<b>What we keep:</b> the areas you choose (rounded to about 100 metres, never your exact location), "
    "the topics you pick, and this chat's number so we can message you. Delete it all at any time with /stop.\n\n"
    "Lookout is not for emergencies: if someone is in danger or a crime is happening now, call 999.\n\n"
    "First: are you {age} or older?"
)
HELP = N_(
    "<b>Lookout — {force}</b>\n\n"
    "When an alert arrives, tap <b>I have information</b> (or reply to it) to tell officers what you saw. "
    "In an emergency always call 999.\n\n"
    "/places — the places you get alerts for (up to 5)\n"
    "/topics — what you get alerts about\n"
    "/business — get alerts for your business sector\n"
    "/pause — no alerts for a while; /resume to start again\n"
    "/quiet — quiet hours at night (urgent alerts still come)\n"
    "/language — change language\n"
    "/mydata — a copy of everything we hold about you\n"
    "/stop — unsubscribe and delete everything"
)


@lru_cache(maxsize=1)
def available_languages() -> tuple[str, ...]:
    found = {p.name for p in LOCALES.iterdir() if (p / "LC_MESSAGES" / f"{DOMAIN}.mo").is_file()}
    return tuple(sorted(found | {DEFAULT_LANGUAGE}))


@lru_cache(maxsize=16)
def _catalogue(language: str) -> gettext.NullTranslations:
    return gettext.translation(DOMAIN, LOCALES, languages=[language], fallback=True)


def language_or_default(language: str | None) -> str:
    return language if language in available_languages() else DEFAULT_LANGUAGE


def translator(language: str | None) -> Translate:
    return _catalogue(language_or_default(language)).gettext


def esc(value: object) -> str:
    """A value put into the light markup: shown literally on every platform."""
    return html.escape(str(value), quote=False)
