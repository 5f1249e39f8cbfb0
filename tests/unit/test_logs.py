"""Logs never carry a token or secret, in text or JSON."""
from __future__ import annotations

import json
import logging

import pytest

from bots.logs import REDACTOR, configure_logging

TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345"


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_secrets_and_bot_tokens_are_scrubbed_from_messages_and_tracebacks(log_format: str, capsys) -> None:  # noqa: ANN001
    configure_logging(log_format)
    REDACTOR.add(["signing-secret-0123456789", "short"])
    log = logging.getLogger("lookout.test")
    log.info("POST https://api.telegram.org/bot%s/sendMessage", TOKEN)
    try:
        raise RuntimeError("refused signing-secret-0123456789")
    except RuntimeError:
        log.exception("webhook failed")
    written = capsys.readouterr().err
    assert TOKEN not in written and "signing-secret-0123456789" not in written and "***" in written
    assert "short" not in {s for s in REDACTOR.secrets}  # too short to scrub safely
    if log_format == "json":
        lines = [json.loads(line) for line in written.splitlines() if line.startswith("{")]
        assert [entry["level"] for entry in lines] == ["INFO", "ERROR"] and "RuntimeError" in lines[1]["message"]
    logging.getLogger().handlers.clear()
