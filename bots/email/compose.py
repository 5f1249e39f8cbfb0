"""Putting an email together: headers, the plain-text part and the HTML part."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid


def build_email(
    *,
    sender: str,
    to: str,
    subject: str,
    text: str,
    html: str,
    unsubscribe_url: str | None = None,
    urgent: bool = False,
) -> EmailMessage:
    """A multipart/alternative message. With ``unsubscribe_url``, the RFC 8058 one-click headers too:
    mail apps show their own "Unsubscribe" and POST ``List-Unsubscribe=One-Click`` to that address."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=_domain(sender))
    # Not a person: tell auto-responders not to answer (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    if unsubscribe_url:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if urgent:
        message["Importance"] = "high"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def _domain(sender: str) -> str:
    address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
    return address.rpartition("@")[2] or "lookout.invalid"
