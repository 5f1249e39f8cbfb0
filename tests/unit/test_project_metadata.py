"""The package's metadata tells the truth: its licence is the LICENSE file's, its URLs lead to pages that exist,
and the pre-commit hooks are pinned."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

from tests.unit.test_docs import _anchors

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_the_licence_is_the_apache_2_text_pyproject_names() -> None:
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert PROJECT["license"] == {"text": "Apache-2.0"}
    assert "Apache License\n                           Version 2.0, January 2004" in licence
    assert "END OF TERMS AND CONDITIONS" in licence and "APPENDIX: How to apply the Apache License" in licence
    assert "License :: OSI Approved :: Apache Software License" in PROJECT["classifiers"]


def test_every_project_url_leads_to_a_page_of_the_repository() -> None:
    assert {"Documentation", "Changelog", "Contributing"} <= set(PROJECT["urls"])
    for name, target in PROJECT["urls"].items():
        path, _, fragment = target.partition("#")
        assert (ROOT / path).is_file(), f"{name}: {path} is not in the repository"
        assert not fragment or fragment in _anchors(ROOT / path), f"{name}: no heading #{fragment} in {path}"


def test_the_classifiers_name_the_python_pyproject_requires() -> None:
    minimum = PROJECT["requires-python"].removeprefix(">=")
    assert f"Programming Language :: Python :: {minimum}" in PROJECT["classifiers"]


def test_pre_commit_runs_ruff_pinned_and_with_its_defaults() -> None:
    [repo] = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))["repos"]
    assert repo["repo"] == "https://github.com/astral-sh/ruff-pre-commit"
    assert re.fullmatch(r"v\d+\.\d+\.\d+", repo["rev"])
    assert [hook["id"] for hook in repo["hooks"]] == ["ruff-check", "ruff-format"]
    assert all(set(hook) == {"id"} for hook in repo["hooks"])  # no arguments: the settings are pyproject's
