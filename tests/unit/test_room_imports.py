"""The rooms' rules, read from the source (docs/architecture.md):

- nothing under ``core/`` imports a platform SDK, an HTTP client, a web framework, a database library or
  another room of the product (adapters live outside the core and are handed in);
- a platform package under ``bots/`` imports no other platform and never the runtime (the runtime loops
  over the platforms' one surface, ``bots/platform.py``);
- nothing in the product imports ``benchmarks/`` but the ``lookout bench`` command that runs them."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "core"
PLATFORMS = ("telegram", "whatsapp", "slack_officer", "email", "sms")
# What every platform package may share: the one surface, two HTTP helpers of the doors, and the photo checks.
SHARED_BY_PLATFORMS = frozenset({"bots.platform", "bots.body_limit", "bots.inbound_json", "bots.photo_files"})

# Top-level packages (and a few standard-library modules) the core must never import.
FORBIDDEN = frozenset(
    {
        # platform SDKs
        "aiogram",
        "slack_bolt",
        "slack_sdk",
        "twilio",
        # HTTP clients and servers, web frameworks
        "httpx",
        "httpcore",
        "requests",
        "aiohttp",
        "urllib3",
        "websockets",
        "http.client",
        "urllib.request",
        "fastapi",
        "starlette",
        "uvicorn",
        "multipart",
        # databases and migrations
        "sqlalchemy",
        "alembic",
        "psycopg",
        "psycopg2",
        "aiosqlite",
        "sqlite3",
        # outside services and their clients
        "geopy",
        "aiosmtplib",
        "aiosmtpd",
        "smtplib",
        "apscheduler",
        # presentation, metrics and the command line
        "jinja2",
        "itsdangerous",
        "prometheus_client",
        "PIL",
        "playwright",
        "typer",
        "click",
        "rich",
        # the other rooms
        "storage",
        "bots",
        "sandbox",
        "benchmarks",
        "tests",
    }
)


def imported_modules(source: str) -> Iterator[tuple[int, str]]:
    """(line, module) of every absolute import in ``source``, wherever it sits (functions and
    ``TYPE_CHECKING`` blocks included: a type-only import still ties the core to the package)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
            # "from urllib import request" names the forbidden module only in its alias list
            yield from ((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)


def forbidden_imports(source: str, forbidden: frozenset[str] = FORBIDDEN) -> list[tuple[int, str]]:
    found = []
    for line, module in imported_modules(source):
        parts = module.split(".")
        if any(".".join(parts[:n]) in forbidden for n in range(1, len(parts) + 1)):
            found.append((line, module))
    return found


def offenders_under(folder: Path, forbidden: frozenset[str]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sorted(folder.rglob("*.py"))
        for line, module in forbidden_imports(path.read_text(encoding="utf-8"), forbidden)
    ]


def test_no_module_under_core_imports_an_sdk_a_framework_or_another_room() -> None:
    modules = sorted(CORE.rglob("*.py"))
    assert len(modules) > 20  # the walk really reads the core
    offenders = [
        f"core/{path.relative_to(CORE)}:{line} imports {module}"
        for path in modules
        for line, module in forbidden_imports(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_platform_imports_no_other_platform_and_not_the_runtime(platform: str) -> None:
    others = frozenset(f"bots.{name}" for name in PLATFORMS if name != platform)
    other_bots = (
        {f"bots.{path.stem}" for path in (ROOT / "bots").glob("*.py")} - SHARED_BY_PLATFORMS - {"bots.__init__"}
    )
    forbidden = others | other_bots | {"runtime", "benchmarks", "sandbox", "tests"}
    assert offenders_under(ROOT / "bots" / platform, frozenset(forbidden)) == []


def test_nothing_in_the_product_imports_the_benchmarks_but_the_bench_command() -> None:
    offenders = [
        offender
        for room in ("core", "storage", "bots", "runtime", "sandbox")
        for offender in offenders_under(ROOT / room, frozenset({"benchmarks"}))
        if not offender.startswith("runtime/bench.py:")
    ]
    assert offenders == []


def test_every_platform_is_in_the_runtime_loop() -> None:
    from runtime.app import PLATFORMS as MOUNTED

    assert sorted(type(p).__module__ for p in MOUNTED) == sorted(f"bots.{name}.platform" for name in PLATFORMS)
    assert len({p.channel for p in MOUNTED}) == len(MOUNTED)


@pytest.mark.parametrize(
    "source",
    [
        "import geopy",
        "import geopy.exc",
        "from geopy.geocoders import Nominatim",
        "import sqlalchemy as sa",
        "from storage.tables import residents",
        "from bots.geocoding import GeopyGeocoder",
        "from PIL import Image",
        "from urllib import request",
        "import http.client",
        "def later():\n    import httpx\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from sqlalchemy.ext.asyncio import AsyncConnection\n",
    ],
)
def test_the_check_sees_every_form_of_import(source: str) -> None:
    assert forbidden_imports(source)


@pytest.mark.parametrize(
    "source",
    [
        "import shapely",
        "from core.geo.cells import cover_area",
        "from . import texts",
        "import urllib.parse",
        "from http import HTTPStatus",
        "import storage_units",  # a name that only starts like a room
    ],
)
def test_what_the_core_may_import_passes(source: str) -> None:
    assert forbidden_imports(source) == []
