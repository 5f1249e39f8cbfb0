"""How Lookout's outbound messages read as email: subject, plain text and HTML, and the links.

The core hands over an ``OutboundMessage`` whose ``parts`` say what it holds
(alerts, updates, cancellations, officers' replies); anything else is shown
as its plain text under the force's name. The templates lay it out
(``templates/mail/message.txt`` and ``.html``, autoescaped) and every email
carries the recipient's own signed links: manage, unsubscribe (also as the
RFC 8058 headers) and, when the message answers an alert, the tip form and
"Useful / Not useful" (each to a page that asks once more, so link scanners
never answer).
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from bots.email.compose import build_email
from bots.email.links import LinkSigner
from bots.email.templates import render
from core.outbound import MessageParts, OutboundMessage

# A Message-ID as we make them (``<…@…>``): only such a value may go into In-Reply-To/References.
_MESSAGE_ID = re.compile(r"^<[^<>\s]{1,250}@[^<>\s]{1,250}>$")
MAX_SUBJECT = 200


def email_for(message: OutboundMessage, to: str, *, sender: str, force_name: str, links: LinkSigner) -> EmailMessage:
    """``message`` as the email ``to`` receives: multipart text + HTML with the one-click unsubscribe headers.
    Updates and cancellations name the original email (``reply_to``) so mail apps show them as one thread."""
    parts = message.parts or plain_parts(message, force_name)
    values = template_values(parts, to, force_name=force_name, links=links)
    photo_cid = make_msgid(domain="lookout.invalid") if message.photo is not None else None
    values["photo_cid"] = photo_cid[1:-1] if photo_cid else None
    email = build_email(
        sender=sender,
        to=to,
        subject=values["subject"],
        text=render("mail/message.txt", **values),
        html=render("mail/message.html", **values),
        unsubscribe_url=values["unsubscribe_url"],
        urgent=message.urgent,
    )
    if message.photo is not None and photo_cid is not None:
        # The appeal's photo inline: a related part of the HTML, which shows it by its Content-ID.
        html_part = next(part for part in email.iter_parts() if part.get_content_type() == "text/html")
        html_part.add_related(
            message.photo.data, "image", "jpeg", cid=photo_cid, filename=message.photo.name, disposition="inline"
        )
    if message.reply_to and _MESSAGE_ID.match(message.reply_to):
        email["In-Reply-To"] = message.reply_to
        email["References"] = message.reply_to
    return email


def plain_parts(message: OutboundMessage, force_name: str) -> MessageParts:
    """A message the core sent without parts: its text, under the force's name."""
    title = f"A message from {force_name}"
    return MessageParts(subject=title, heading="Message", headline=title, body=message.text)


def template_values(parts: MessageParts, to: str, *, force_name: str, links: LinkSigner) -> dict[str, Any]:
    """What the templates need; text stays raw here (the HTML template escapes, the text one must not)."""
    return {
        "force_name": force_name,
        "subject": one_line(parts.subject, MAX_SUBJECT),
        "heading": parts.heading,
        "status": parts.status,
        "headline": parts.headline,
        "incident_number": parts.incident_number,
        "contact": parts.contact,
        "area": parts.area,
        "reference": parts.reference,
        "body": parts.body.strip(),
        "paragraphs": paragraphs(parts.body),
        "closing": parts.closing,
        "tip_url": links.tip_url(to, parts.tip_alert_id) if parts.tip_alert_id is not None else None,
        "useful_url": _feedback_url(links, to, parts.feedback_alert_id, True),
        "not_useful_url": _feedback_url(links, to, parts.feedback_alert_id, False),
        "manage_url": links.manage_url(to),
        "unsubscribe_url": links.unsubscribe_url(to),
    }


def _feedback_url(links: LinkSigner, to: str, alert_id: int | None, useful: bool) -> str | None:
    return links.feedback_url(to, alert_id, useful) if alert_id is not None else None


def paragraphs(text: str) -> list[list[str]]:
    """Blank lines part paragraphs; single line breaks stay line breaks (the HTML template joins them with <br>)."""
    blocks = re.split(r"\n\s*\n", text.strip().replace("\r\n", "\n"))
    return [[line.rstrip() for line in block.split("\n")] for block in blocks if block.strip()]


def one_line(text: str, cap: int) -> str:
    """A header value: one line (a line break in a header would start a new one), at most ``cap`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= cap else flat[: cap - 1].rstrip() + "…"
