"""``lookout config check``: is this deployment's configuration sound, and what will it run?

It reads the settings (environment and ``.env``) and the force config as ``lookout serve`` would, says
which platforms are on, asks the database which schema it holds (never creating one), and warns about
choices that work but are wrong for a real deployment.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from core.force import ForceConfig, load_force_config
from core.model import RESIDENT_CHANNELS, Channel
from core.settings import Settings
from runtime.examples import EXAMPLE_FORCE_CONFIG, force_config_path


@dataclass
class ConfigReport:
    force_path: Path
    force: ForceConfig
    platforms_on: tuple[Channel, ...]
    platforms_off: tuple[Channel, ...]
    database: str  # what the database said, in words
    database_ready: bool
    warnings: list[str] = field(default_factory=list)


def is_loopback(url: str | None) -> bool:
    """Whether ``url`` points at this machine (a local stand-in, a trial), by host name or address."""
    host = urlsplit(url or "").hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def real_platforms(settings: Settings) -> list[Channel]:
    """The platforms that are on and talk to the real service rather than a stand-in on this machine."""
    bases = {
        Channel.TELEGRAM: settings.telegram_api_base,
        Channel.WHATSAPP: settings.whatsapp_api_base,
        Channel.SLACK: settings.slack_api_base,
        Channel.EMAIL: settings.smtp_url.get_secret_value() if settings.smtp_url else None,
    }
    return [channel for channel in settings.enabled_channels if not is_loopback(bases.get(channel))]


def is_example_force(path: Path) -> bool:
    return path.resolve() == EXAMPLE_FORCE_CONFIG.resolve()


def warnings_for(settings: Settings, force_path: Path, *, processes: int) -> list[str]:
    warnings: list[str] = []
    real = real_platforms(settings)
    if is_example_force(force_path) and (real or (settings.public_url and not is_loopback(settings.public_url))):
        reason = (
            f"{', '.join(c.value for c in real)} talk to the real platforms" if real else "LOOKOUT_PUBLIC_URL is public"
        )
        warnings.append(
            f"The example force (Mercia Vale Police) is in use outside a trial ({reason}): run `lookout init`, edit the "
            "file it writes and set LOOKOUT_FORCE_CONFIG to it."
        )
    if settings.database_url.startswith("sqlite") and processes > 1:
        warnings.append(
            f"SQLite with {processes} processes: SQLite serves one `lookout serve` process (one writer, one worker). "
            "Use PostgreSQL (LOOKOUT_DATABASE_URL=postgresql+psycopg://…) for more."
        )
    if settings.public_url and urlsplit(settings.public_url).scheme != "https":
        warnings.append(
            f"LOOKOUT_PUBLIC_URL is not HTTPS ({urlsplit(settings.public_url).scheme or 'no scheme'}): Telegram and "
            "WhatsApp accept only HTTPS webhooks, and email links would travel in clear."
        )
    if not settings.public_url and real:
        warnings.append(
            "LOOKOUT_PUBLIC_URL is unset: webhooks cannot be registered and email links point at 127.0.0.1."
        )
    if not settings.officer_ids and not settings.supervisor_ids and Channel.SLACK in settings.enabled_channels:
        warnings.append("SLACK_OFFICER_IDS and SLACK_SUPERVISOR_IDS are empty: nobody may raise an alert in Slack.")
    return warnings


def check_database(settings: Settings) -> tuple[str, bool]:
    """(what the database says, whether ``lookout serve`` would start on it). A SQLite file is never created."""
    from sqlalchemy.exc import SQLAlchemyError

    from storage.database import sqlite_file
    from storage.migrate import database_revision, head_revision

    path = sqlite_file(settings.database_url)
    if path is not None and not path.exists():
        return f"{path} does not exist yet: run `lookout db upgrade`", False
    try:
        current = database_revision(settings.database_url)
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc  # only DBAPI errors carry the driver's own
        return f"unreachable ({type(cause).__name__}: {(str(cause).strip().splitlines() or [''])[0]})", False
    head = head_revision()
    if current is None:
        return "reachable, no Lookout tables yet: run `lookout db upgrade`", False
    if current != head:
        return f"schema at {current}, this version needs {head}: run `lookout db upgrade`", False
    return f"reachable, schema current ({head})", True


def check_configuration(settings: Settings, *, processes: int = 1) -> ConfigReport:
    """Everything ``lookout config check`` prints; a broken force config raises ForceConfigError."""
    path = force_config_path(settings.force_config)
    force = load_force_config(path)
    on = settings.enabled_channels
    off = tuple(c for c in (*RESIDENT_CHANNELS, Channel.SLACK) if c not in on)
    database, ready = check_database(settings)
    return ConfigReport(path, force, on, off, database, ready, warnings_for(settings, path, processes=processes))
