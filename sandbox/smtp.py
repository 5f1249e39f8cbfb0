"""A mail relay stand-in: a real SMTP server (aiosmtpd) on loopback that keeps what it is given.

It speaks SMTP as a relay does, so the app's SMTP client is exercised for real,
and it behaves like one in the two ways that matter to Lookout:

- a recipient whose local part starts ``bounce`` is refused for good
  (``550 5.1.1``), as a relay refuses a mailbox that does not exist;
- one starting ``busy`` is refused for now (``451 4.3.0``), as a relay does when
  it is throttling or its queue is full.

    with SmtpSink() as sink:
        env["LOOKOUT_SMTP_URL"] = sink.url
        ...
        [mail] = sink.messages_to("ada@example.org")
"""

from __future__ import annotations

import email.policy
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

REFUSED_FOR_GOOD = "550 5.1.1 Mailbox does not exist"
REFUSED_FOR_NOW = "451 4.3.0 Mailbox busy, try again later"


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the sink received it: the envelope and the parsed message."""

    mail_from: str
    rcpt_to: tuple[str, ...]
    message: EmailMessage
    received_at: datetime
    raw: bytes = b""  # as it came over the wire: headers exactly as the client folded them

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    def body(self, subtype: str = "plain") -> str:
        """The text (``plain``) or HTML (``html``) part."""
        part = self.message.get_body(preferencelist=(subtype,))
        return part.get_content() if part is not None else ""


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        local = address.partition("@")[0].lower()
        if local.startswith("bounce"):
            self._sink.refused += 1
            return REFUSED_FOR_GOOD
        if local.startswith("busy"):
            self._sink.refused += 1
            return REFUSED_FOR_NOW
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        data = raw if isinstance(raw, bytes) else str(raw).encode()
        message = BytesParser(policy=email.policy.default).parsebytes(data)
        assert isinstance(message, EmailMessage)
        self._sink.record(
            ReceivedMail(str(envelope.mail_from), tuple(envelope.rcpt_tos), message, datetime.now(UTC), data)
        )
        return "250 Message accepted for delivery"


class SmtpSink:
    """An SMTP server on 127.0.0.1 (its own thread and loop) and the mail it has accepted."""

    def __init__(self, port: int = 0) -> None:
        self._mail: list[ReceivedMail] = []
        self.refused = 0  # recipients refused (the bounce… and busy… addresses), for the console's counter
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        # aiosmtpd binds the port itself; port 0 is resolved to a free one in start().
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=port or _free_port(), ready_timeout=10)

    @property
    def port(self) -> int:
        return self._controller.port

    @property
    def url(self) -> str:
        """What ``LOOKOUT_SMTP_URL`` should be to send through this sink."""
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> Self:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def record(self, mail: ReceivedMail) -> None:
        with self._changed:
            self._mail.append(mail)
            self._changed.notify_all()

    def messages(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self._mail)

    def messages_to(self, address: str) -> list[ReceivedMail]:
        wanted = address.lower()
        return [m for m in self.messages() if wanted in (r.lower() for r in m.rcpt_to)]

    def wait_for(self, address: str, count: int = 1, timeout: float = 10.0) -> list[ReceivedMail]:
        """Block until ``address`` has ``count`` messages (for tests); ``TimeoutError`` otherwise."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._to_locked(address)) >= count, timeout=timeout):
                raise TimeoutError(
                    f"{address} has {len(self._to_locked(address))} of {count} messages after {timeout}s"
                )
            return self._to_locked(address)

    def clear(self) -> None:
        with self._lock:
            self._mail.clear()

    def summary(self) -> list[dict[str, Any]]:
        """The mailbox as JSON-ready rows, newest first (the console's mailbox view); ``id`` is the arrival number."""
        return [
            {
                "id": number,
                "to": list(m.rcpt_to),
                "from": m.mail_from,
                "subject": m.subject,
                "received_at": m.received_at.isoformat(),
                "text": m.body("plain"),
                "html": m.body("html"),
                "headers": {k: str(v) for k, v in m.message.items()},
            }
            for number, m in reversed(list(enumerate(self.messages())))
        ]

    def message(self, number: int) -> ReceivedMail | None:
        """The ``number``-th message received (its ``id`` in ``summary()``)."""
        with self._lock:
            return self._mail[number] if 0 <= number < len(self._mail) else None

    def _to_locked(self, address: str) -> list[ReceivedMail]:
        wanted = address.lower()
        return [m for m in self._mail if wanted in (r.lower() for r in m.rcpt_to)]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
