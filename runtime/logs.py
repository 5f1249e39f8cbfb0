"""Logging: plain text or one JSON object a line (``LOOKOUT_LOG_FORMAT=json``) at ``LOOKOUT_LOG_LEVEL``, never a secret.

Every record passes a redaction filter: the configured tokens and secrets, and
anything shaped like a Telegram bot token (aiogram's request URLs carry it), and
credentials in logged URLs (the pages' link token ``t``, ``hub.verify_token``) are
replaced by ``***`` before any handler formats them. uvicorn's own loggers
(access and error) go through the same handler. Home coordinates never
reach a log: locations are snapped to a cell the moment they arrive.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_BOT_TOKEN = re.compile(r"(?<![0-9])[0-9]{5,}:[A-Za-z0-9_-]{20,}")
# Credentials that travel in URLs, so uvicorn's access log would print them: the email pages' signed link
# token ``t`` and Meta's ``hub.verify_token`` (a wrong guess is hidden too: it may be a near miss).
_URL_CREDENTIAL = re.compile(r"([?&](?:t|hub\.verify_token)=)[^&\s\"]+")
# uvicorn configures its own loggers to bypass the root handler (and so this filter and the JSON format).
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
# aiosmtpd's "mail.log" is the sandbox's mail relay stand-in: a dozen INFO lines for every email it takes.
_QUIET = ("httpx", "aiogram.event", "alembic.runtime.migration", "apscheduler", "mail.log")


class RedactSecrets(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def add(self, values: Iterable[str | None]) -> None:
        # Very short values would blank out ordinary words; real secrets are long.
        self.secrets.update(v for v in values if v and len(v) >= 8)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return _URL_CREDENTIAL.sub(r"\1***", _BOT_TOKEN.sub("***", text))

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            # Format the traceback now, redacted, so no handler formats the raw one.
            message = f"{message}\n{logging.Formatter().formatException(record.exc_info)}"
            record.exc_info = None
            record.exc_text = None
        record.msg, record.args = self.redact(message), None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        return json.dumps(entry, ensure_ascii=False)


REDACTOR = RedactSecrets()


def configure_logging(log_format: str = "text", level: str = "INFO") -> None:
    """The one logging setup of every process: one handler on the root logger, in ``log_format``, at ``level``,
    scrubbing every line. uvicorn's loggers and Python's warnings come through it too."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(REDACTOR)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Chatty libraries stay at WARNING unless the operator asks for DEBUG.
    for chatty in _QUIET:
        logging.getLogger(chatty).setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)
    logging.captureWarnings(True)  # a library's warning is a log line like any other, not raw text on stderr
    route_uvicorn_logs(level)


def route_uvicorn_logs(level: str = "INFO") -> None:
    """Send uvicorn's error and access lines through the root handler: redacted and formatted like every other line.
    (The runner starts uvicorn with ``log_config=None`` and ``log_level=None`` so uvicorn neither puts its own
    handlers back nor sets its own levels.)"""
    for name in UVICORN_LOGGERS:
        log = logging.getLogger(name)
        log.handlers.clear()
        log.setLevel(level)
        log.propagate = True


def quiet_for_the_demo(level: str = "INFO") -> None:
    """``lookout demo``'s terminal keeps its banner in sight: no access lines and no uvicorn start-up lines
    (the console polls the sandbox every second, and the stand-ins call the app back for every delivery's status),
    unless the operator asks for DEBUG. Warnings and errors still show."""
    if level == "DEBUG":
        route_uvicorn_logs(level)  # everything, whatever a stand-in's server set
        return
    for name in ("uvicorn.access", "uvicorn.error"):
        logging.getLogger(name).setLevel(logging.WARNING)
