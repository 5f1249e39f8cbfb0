"""The version Lookout reports: ``lookout --version``, ``/healthz`` and the ``lookout_build_info`` metric."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def lookout_version() -> str:
    """The installed distribution's version (pyproject's ``version``); ``0+unknown`` when run from an uninstalled tree."""
    try:
        return version("lookout")
    except PackageNotFoundError:
        return "0+unknown"
