"""Sending one email over SMTP (aiosmtplib), as ``LOOKOUT_SMTP_URL`` says.

``smtp://host:port`` talks plain SMTP (a relay on the same host or network),
``smtp+starttls://`` insists on STARTTLS, ``smtps://`` uses TLS from the first
byte; ``user:password@`` in the URL logs in. One connection is kept open and
reused (a relay's TLS handshake per message would dominate), and re-opened
when the relay has closed it.
"""

from __future__ import annotations

import asyncio
import email.policy
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from urllib.parse import unquote, urlsplit

import aiosmtplib

logger = logging.getLogger("lookout.email")

SCHEMES = {"smtp": (False, False), "smtp+starttls": (False, True), "smtps": (True, False)}
DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
SEND_TIMEOUT_SECONDS = 30.0
# Header lines up to RFC 5322's hard limit (998), not the 78 aiosmtplib's own flattening folds at: a URL
# header (List-Unsubscribe) has nowhere to fold, and folding it anyway turns it into RFC 2047
# encoded-words, which mail apps do not decode there, so their "Unsubscribe" button would not work.
# Bodies go as 8-bit where the relay says it takes 8BITMIME, as aiosmtplib would; otherwise 7-bit safe.
WIRE_POLICY = email.policy.SMTP.clone(max_line_length=998)
WIRE_POLICY_7BIT = WIRE_POLICY.clone(cte_type="7bit")


@dataclass(frozen=True)
class SmtpTarget:
    hostname: str
    port: int
    use_tls: bool
    start_tls: bool
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> SmtpTarget:
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise ValueError(
                "LOOKOUT_SMTP_URL must look like smtp://host:25, smtp+starttls://user:pass@host:587 or smtps://host:465"
            )
        use_tls, start_tls = SCHEMES[parts.scheme]
        return cls(
            hostname=parts.hostname,
            port=parts.port or DEFAULT_PORTS[parts.scheme],
            use_tls=use_tls,
            start_tls=start_tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


class MailError(Exception):
    """The relay did not take the message. ``permanent``: asking again will not help (5xx).
    ``about_recipient``: the refusal was of this recipient or this message (RCPT, DATA), not of us
    (login, sender address, greeting) — only those count towards an address's bounces."""

    def __init__(
        self, text: str, *, code: int | None = None, permanent: bool = False, about_recipient: bool = False
    ) -> None:
        super().__init__(text)
        self.code = code
        self.permanent = permanent
        self.about_recipient = about_recipient


class Mailer:
    """Hands messages to the relay, one at a time over one kept-open connection."""

    def __init__(self, target: SmtpTarget) -> None:
        self._target = target
        self._client: aiosmtplib.SMTP | None = None
        self._lock = asyncio.Lock()

    async def send(self, message: EmailMessage) -> None:
        """Send ``message`` to its To address; ``MailError`` if the relay refused it or could not be reached."""
        async with self._lock:
            try:
                client = await self._connected()
                eight_bit = client.supports_extension("8BITMIME")
                await client.sendmail(
                    *_envelope(message),
                    message.as_bytes(policy=WIRE_POLICY if eight_bit else WIRE_POLICY_7BIT),
                    mail_options=["BODY=8BITMIME"] if eight_bit else [],
                    timeout=SEND_TIMEOUT_SECONDS,
                )
            except aiosmtplib.SMTPRecipientsRefused as refused:
                code, text = next(iter(_refusals(refused)), (None, "recipient refused"))
                raise MailError(
                    text, code=code, permanent=code is not None and code >= 500, about_recipient=True
                ) from None
            except aiosmtplib.SMTPResponseException as answer:
                await self._drop()
                raise MailError(
                    answer.message,
                    code=answer.code,
                    permanent=answer.code >= 500,
                    about_recipient=isinstance(answer, aiosmtplib.SMTPDataError),
                ) from None
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as failure:
                await self._drop()
                raise MailError(f"mail relay unreachable: {type(failure).__name__}") from None

    async def aclose(self) -> None:
        async with self._lock:
            await self._drop()

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        target = self._target
        client = aiosmtplib.SMTP(
            hostname=target.hostname,
            port=target.port,
            use_tls=target.use_tls,
            start_tls=target.start_tls,
            username=target.username,
            password=target.password,
            timeout=SEND_TIMEOUT_SECONDS,
        )
        await client.connect()
        self._client = client  # from here a failure drops (closes) it
        if client.is_ehlo_or_helo_needed:  # connect() greets only for STARTTLS or a login; 8BITMIME is in the greeting
            await client.ehlo()
        return client

    async def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None and client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                client.close()


def _envelope(message: EmailMessage) -> tuple[str, list[str]]:
    """MAIL FROM and RCPT TO, from the From and To headers (Lookout never sends Cc or Bcc)."""
    return parseaddr(str(message["From"]))[1], [address for _, address in getaddresses([str(message["To"])]) if address]


def _refusals(error: aiosmtplib.SMTPRecipientsRefused) -> list[tuple[int, str]]:
    return [(e.code, e.message) for e in error.recipients]
