"""The gettext catalogues: every message the bots say is in every language, compiled and with the same placeholders."""

from __future__ import annotations

import io
import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ROOT / "core" / "locales"
LANGUAGES = sorted(p.name for p in LOCALES.iterdir() if p.is_dir())
SOURCES = [
    ROOT / "bots" / "telegram",
    ROOT / "core" / "conversation",
    ROOT / "bots" / "whatsapp",
    ROOT / "bots" / "sms",
]


def catalogue(language: str):
    with (LOCALES / language / "LC_MESSAGES" / "lookout.po").open("rb") as po:
        return read_po(po, locale=language)


def spoken_in_code() -> set[str]:
    found: set[str] = set()
    for source in SOURCES:
        for _filename, _lineno, message, _comments, _context in extract_from_dir(
            source, keywords={"_": None, "__": None, "N_": None}
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def placeholders(text: str) -> list[str]:
    return sorted(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)


def test_english_and_another_language_exist() -> None:
    assert "en" in LANGUAGES and len(LANGUAGES) >= 2


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_in_the_code_is_in_the_catalogue(language: str) -> None:
    known = {m.id for m in catalogue(language) if m.id}
    missing = spoken_in_code() - known
    assert not missing, f"run `make translations` and translate: {sorted(missing)[:5]}"


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_translations_are_complete_and_keep_placeholders_tags_and_commands(language: str) -> None:
    for message in catalogue(language):
        if not message.id:
            continue
        assert message.string, f"{language}: untranslated: {message.id!r}"
        assert "fuzzy" not in message.flags, f"{language}: needs checking: {message.id!r}"
        assert placeholders(message.string) == placeholders(message.id), message.id
        for pattern in (r"</?\w+>", r"/[a-z]+\b"):
            assert sorted(re.findall(pattern, message.string)) == sorted(re.findall(pattern, message.id)), message.id


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_matches_its_source(language: str) -> None:
    compiled = io.BytesIO()
    write_mo(compiled, catalogue(language))
    shipped = (LOCALES / language / "LC_MESSAGES" / "lookout.mo").read_bytes()
    assert compiled.getvalue() == shipped, f"run `make translations` to recompile {language}"
