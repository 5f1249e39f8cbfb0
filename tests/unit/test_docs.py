"""The README stays a five-minute read, and the manual's relative links lead somewhere.

The README is the front door (what Lookout is, the two commands, a tour,
links); the manual lives in ``docs/``. A link to a moved page or a renamed
heading fails here rather than in a reader's browser, and so does a citation
of a file that is not in the repository.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_FOLDERS = {".git", ".venv", "var", "__pycache__", ".pytest_cache", ".hypothesis", "node_modules"}
TEXT_SUFFIXES = {".py", ".md", ".toml", ".txt", ".html", ".js", ".css", ".cfg", ".ini", ".sh", ""}
README_LIMIT_BYTES = 16 * 1024
PAGES = [*sorted(ROOT.glob("*.md")), *sorted((ROOT / "docs").glob("*.md"))]  # README, CONTRIBUTING, … and the manual

_FENCE = re.compile(r"^```.*?^```", re.M | re.S)
_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)
_EXTERNAL = ("http://", "https://", "mailto:")


def _prose(text: str) -> str:
    """The page without code blocks and code spans, where a bracket is not a link."""
    return _CODE.sub("", _FENCE.sub("", text))


def _anchor(heading: str) -> str:
    """The fragment GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    anchors = set()
    for heading in _HEADING.findall(_FENCE.sub("", page.read_text(encoding="utf-8"))):
        slug = _anchor(heading)
        count = seen.get(slug, 0)
        anchors.add(slug if count == 0 else f"{slug}-{count}")
        seen[slug] = count + 1
    return anchors


def _broken_links(page: Path, root: Path = ROOT) -> list[str]:
    broken = []
    for target in _LINK.findall(_prose(page.read_text(encoding="utf-8"))):
        if target.startswith(_EXTERNAL):
            continue
        path_part, _, fragment = target.partition("#")
        linked = (page.parent / path_part).resolve() if path_part else page
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif root not in linked.parents and linked != root:
            broken.append(f"{target}: outside the repository")
        elif fragment and linked.suffix == ".md" and fragment not in _anchors(linked):
            broken.append(f"{target}: no heading #{fragment} in {linked.relative_to(root)}")
    return broken


def test_the_readme_reads_in_five_minutes() -> None:
    size = len((ROOT / "README.md").read_bytes())
    assert size <= README_LIMIT_BYTES, (
        f"README.md is {size:,} bytes; move detail into docs/ (limit {README_LIMIT_BYTES:,})"
    )


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    assert _broken_links(page) == []


def test_the_link_check_finds_a_broken_link(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "there.md").write_text("# Here it is\n", encoding="utf-8")
    (tmp_path / "elsewhere.md").write_text("# Outside\n", encoding="utf-8")
    page = repo / "page.md"
    page.write_text(
        "[ok](there.md#here-it-is) [gone](missing.md) [no heading](there.md#elsewhere) "
        "`[code](not-a-link.md)` [web](https://example.org/x.md) [up](../elsewhere.md)\n",
        encoding="utf-8",
    )
    assert _broken_links(page, root=repo) == [
        "missing.md: no such file",
        "there.md#elsewhere: no heading #elsewhere in there.md",
        "../elsewhere.md: outside the repository",
    ]


def _repository_text_files() -> list[Path]:
    """The repository's own text files: not the virtualenv, caches, or what runs leave in var/."""
    found = []
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [d for d in subfolders if d not in SKIPPED_FOLDERS and not d.endswith(".egg-info")]
        found += [Path(folder, name) for name in files if Path(name).suffix in TEXT_SUFFIXES]
    return found


def test_nothing_cites_files_outside_the_repository() -> None:
    """The design notes and platform notes that once lived beside the repository are not in it: cite docs/ instead."""
    outside = ["shared/" + "DESIGN", "shared/" + "PLATFORMS", "DESIGN" + ".md", "PLATFORMS" + ".md", "../" + "shared"]
    citing = []
    for path in _repository_text_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        citing += [f"{path.relative_to(ROOT)}: {needle}" for needle in outside if needle in text]
    assert citing == []
