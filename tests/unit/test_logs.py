"""Logs never carry a token or secret, in text or JSON."""

from __future__ import annotations

import json
import logging

import pytest

from runtime.logs import REDACTOR, configure_logging

TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345"


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_secrets_and_bot_tokens_are_scrubbed_from_messages_and_tracebacks(log_format: str, capsys) -> None:
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


def test_credentials_in_logged_urls_are_hidden() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/subscribe/manage?t=eyJlbWFpbCI6ImFkYSJ9.Zx.sig&done=topics", "1.1", 200),
        None,
    )
    assert REDACTOR.filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /subscribe/manage?t=***&done=topics HTTP/1.1" 200'
    assert REDACTOR.redact(
        "GET /whatsapp/webhook?hub.mode=subscribe&hub.verify_token=guess-or-secret&hub.challenge=1"
    ) == ("GET /whatsapp/webhook?hub.mode=subscribe&hub.verify_token=***&hub.challenge=1")
