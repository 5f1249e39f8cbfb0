"""The core's room rule, read from the source: nothing under ``core/`` imports a platform SDK, an HTTP
client, a web framework, a database library or another room of the product (storage, the bots, the
sandbox). Adapters live outside the core and are handed in; see docs/architecture.md."""
from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "core"

# Top-level packages (and a few standard-library modules) the core must never import.
FORBIDDEN = frozenset({
    # platform SDKs
    "aiogram", "slack_bolt", "slack_sdk", "twilio",
    # HTTP clients and servers, web frameworks
    "httpx", "httpcore", "requests", "aiohttp", "urllib3", "websockets", "http.client", "urllib.request",
    "fastapi", "starlette", "uvicorn", "multipart",
    # databases and migrations
    "sqlalchemy", "alembic", "psycopg", "psycopg2", "aiosqlite", "sqlite3",
    # outside services and their clients
    "geopy", "aiosmtplib", "aiosmtpd", "smtplib", "apscheduler",
    # presentation, metrics and the command line
    "jinja2", "itsdangerous", "prometheus_client", "PIL", "playwright", "typer", "click", "rich",
    # the other rooms
    "storage", "bots", "sandbox", "benchmarks", "tests",
})


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


def forbidden_imports(source: str) -> list[tuple[int, str]]:
    found = []
    for line, module in imported_modules(source):
        parts = module.split(".")
        if any(".".join(parts[:n]) in FORBIDDEN for n in range(1, len(parts) + 1)):
            found.append((line, module))
    return found


def test_no_module_under_core_imports_an_sdk_a_framework_or_another_room() -> None:
    modules = sorted(CORE.rglob("*.py"))
    assert len(modules) > 20  # the walk really reads the core
    offenders = [
        f"core/{path.relative_to(CORE)}:{line} imports {module}"
        for path in modules
        for line, module in forbidden_imports(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


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
