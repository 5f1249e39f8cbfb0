"""How messages read on each channel: one place for wording, escaping and limits.

Telegram gets HTML (escape ``& < >``), Slack gets mrkdwn (escape ``& < >``),
WhatsApp gets plain text. Buttons a channel cannot show become numbered lines.
Email gets the plain text and the same content as ``MessageParts``, which the
email adapter lays out (and escapes) in its templates.
"""

from __future__ import annotations

import html
from dataclasses import replace

from core.channels import PUBLISHED_LIMITS
from core.model import Alert, AlertStatus, AlertType, Channel
from core.outbound import Attachment, Button, MessageParts, OutboundMessage, TemplateCall
from core.services.feedback import feedback_data

TIP_BUTTON_LABEL = "I have information"
# Every alert and update asks whether it was useful (core/services/feedback.py); the chosen answer is marked.
USEFUL_LABEL = "👍 Useful"
NOT_USEFUL_LABEL = "👎 Not useful"
CHOSEN_MARK = "✅ "
# The alert template outside WhatsApp's 24-hour window (docs/whatsapp.md: "The alert template").
ALERT_TEMPLATE_LANGUAGE = "en_GB"
TEMPLATE_TIP_LABEL = "Send information"
TEMPLATE_STOP_LABEL = "Stop alerts"
TEMPLATE_STOP_PAYLOAD = "stop"
PHOTO_TEMPLATE_SUFFIX = "_photo"  # WHATSAPP_ALERT_TEMPLATE + this: the alert template with an IMAGE header
# Meta refuses template parameters with line breaks, tabs or more than four spaces in a row,
# and a body over 1,024 characters: each parameter is one line, and these caps keep the sum well under.
TEMPLATE_PARAMETER_CAPS = (200, 200, 64, 480)


def status_label(alert: Alert) -> str:
    """``EXERCISE — `` / ``TEST — `` in front of practice alerts, nothing for real ones."""
    return "" if alert.status is AlertStatus.ACTUAL else f"{alert.status.value.upper()} — "


def residents_count(count: int) -> str:
    """``1 resident``, ``2,000 residents``: how every count of people reached reads."""
    return f"{count:,} resident{'' if count == 1 else 's'}"


KIND_LABELS = {
    AlertType.ALERT: "Police alert",
    AlertType.UPDATE: "Update",
    AlertType.CANCEL: "Cancelled",
    AlertType.RESOLVED: "Resolved",
}
# Follow-ups that end an alert: no tip button, no area or contact.
CLOSING_TYPES = (AlertType.CANCEL, AlertType.RESOLVED)
# What a resolution adds where the photo could not be taken back (every channel but Telegram, which deletes it).
PHOTO_WITHDRAWN_NOTE = "Please delete the photo we shared and do not share it any further."


# The first line a resident reads: a mark, then who it is from and what. An alert needs no word for "alert".
TITLE_MARKS = {
    AlertType.ALERT: "🚨",
    AlertType.UPDATE: "🔄 Update —",
    AlertType.CANCEL: "❌ Cancelled —",
    AlertType.RESOLVED: "✅ Resolved —",
}


def alert_title(alert: Alert, force_name: str) -> str:
    """``🚨 Mercia Vale Police: Bogus callers``; ``🔄 Update — Mercia Vale Police: …`` for a follow-up."""
    return f"{status_label(alert)}{TITLE_MARKS[alert.type]} {force_name}: {alert.headline}"


def alert_parts(alert: Alert) -> MessageParts:
    """An alert, update or cancellation as labelled parts (email). Subject: status, kind and headline;
    the force's name is the sender's. Cancellations offer no tip link and, as elsewhere, no area or contact."""
    cancel = alert.type in CLOSING_TYPES
    kind = KIND_LABELS[alert.type]
    return MessageParts(
        subject=_one_line(f"{status_label(alert)}{kind}: {alert.headline}", 200),
        heading=kind,
        body=alert.message,
        status="" if alert.status is AlertStatus.ACTUAL else alert.status.value.upper(),
        headline=alert.headline,
        incident_number=alert.incident_number,
        contact=None if cancel else alert.contact,
        area=None if cancel else alert.area_description,
        reference=alert.reference,
        tip_alert_id=None if cancel else alert.original_id or alert.id,
        feedback_alert_id=None if cancel else alert.id,
    )


def alert_plain_text(alert: Alert, force_name: str) -> str:
    """The whole alert as a resident reads it: what, where, incident, contact."""
    return "\n\n".join(_alert_parts(alert, force_name))


def _alert_parts(alert: Alert, force_name: str) -> list[str]:
    parts = [alert_title(alert, force_name), alert.message]
    if alert.type not in CLOSING_TYPES:
        parts.append(f"Area: {alert.area_description}")
    parts.append(f"Incident number: {alert.incident_number}")
    if alert.type not in CLOSING_TYPES:
        parts.append(alert.contact)
    return parts


def split_at_lines(text: str, limit: int) -> list[str]:
    """``text`` in parts of at most ``limit`` characters, cut at line breaks where possible (a line longer than
    ``limit`` is cut within), for platforms whose messages have a length limit (WhatsApp, SMS). No part is blank."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        if len(current) + len(line) > limit:
            parts.append(current)
            current = ""
        current += line
    if current:
        parts.append(current)
    return [p.strip("\n") for p in parts if p.strip()] or [text[:limit]]


def escape_telegram_html(text: str) -> str:
    return html.escape(text, quote=False)


def escape_slack_mrkdwn(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def tip_button(alert: Alert) -> Button:
    # Tips always attach to the original alert, whichever follow-up they answer.
    return Button(TIP_BUTTON_LABEL, f"tip:{alert.original_id or alert.id}")


def feedback_buttons(alert: Alert, chosen: bool | None = None) -> tuple[Button, Button]:
    """ "Useful" and "Not useful", side by side; ``chosen`` (the resident's answer, once given) is marked."""
    assert alert.id is not None
    return (
        Button(_marked(USEFUL_LABEL, chosen is True), feedback_data(alert.id, True)),
        Button(_marked(NOT_USEFUL_LABEL, chosen is False), feedback_data(alert.id, False), beside=True),
    )


def alert_buttons(alert: Alert, chosen: bool | None = None) -> tuple[Button, ...]:
    """The buttons under an alert or update: tell officers what you saw, and was this useful.
    A cancellation or a resolution has none: it closes the alert."""
    if alert.type in CLOSING_TYPES:
        return ()
    return (tip_button(alert), *feedback_buttons(alert, chosen))


def _marked(label: str, chosen: bool) -> str:
    return CHOSEN_MARK + label.split(" ", 1)[1] if chosen else label


def cancelled_original_text(original: Alert, force_name: str) -> str:
    """What the original alert's message becomes in Telegram when it is cancelled (HTML)."""
    return (
        f"<b>❌ CANCELLED</b>\n<s>{escape_telegram_html(alert_title(original, force_name))}</s>\n\n"
        f"{escape_telegram_html(force_name)} has cancelled this alert (incident {escape_telegram_html(original.incident_number)}). "
        "See the reply below."
    )


def render_alert(
    alert: Alert,
    force_name: str,
    channel: Channel,
    *,
    reply_to: str | None = None,
    original: Alert | None = None,
    photo_shared: bool = False,
) -> OutboundMessage:
    """An alert, update or cancellation as ``channel`` shows it.

    A cancellation on Telegram also rewrites the original message (``edit_original``)
    so nobody acts on it later; ``original`` is that alert. ``photo_shared``: a resolution of an appeal whose
    photo went out (channels that can't take it back ask people to delete it).
    """
    parts = _alert_parts(alert, force_name)
    if alert.type is AlertType.RESOLVED and photo_shared and channel is not Channel.TELEGRAM:
        parts.insert(2, PHOTO_WITHDRAWN_NOTE)  # Telegram takes the photo back itself; elsewhere people are asked to
    urgent = alert.urgency.value == "Immediate"
    labelled = alert_parts(alert)
    if alert.type is AlertType.RESOLVED and photo_shared:
        labelled = replace(labelled, closing=PHOTO_WITHDRAWN_NOTE)
    if channel is Channel.SMS:
        # The SMS adapter cuts the parts to its segment budget (core/sms_alerts.py); replying is how to tell officers.
        return OutboundMessage(text="\n\n".join(parts), urgent=urgent, parts=labelled)
    if channel is Channel.EMAIL:
        # The tip is a link the adapter signs for each recipient, not a button; ``reply_to`` threads the email.
        return OutboundMessage(text="\n\n".join(parts), reply_to=reply_to, urgent=urgent, parts=labelled)
    buttons = alert_buttons(alert)
    if channel is Channel.TELEGRAM:
        title, *rest = (escape_telegram_html(p) for p in parts)
        text = "\n\n".join([f"<b>{title}</b>", *rest])
    elif channel is Channel.SLACK:
        title, *rest = (escape_slack_mrkdwn(p) for p in parts)
        text = "\n\n".join([f"*{title}*", *rest])
    else:  # WhatsApp: its own bold, so the headline stands out as it does elsewhere
        title, *rest = parts
        text = "\n\n".join([f"*{' '.join(title.split())}*", *rest])
    edit = None
    if alert.type is AlertType.CANCEL and channel is Channel.TELEGRAM and reply_to and original is not None:
        edit = cancelled_original_text(original, force_name)
    return with_buttons(
        channel,
        OutboundMessage(text=text, buttons=buttons, reply_to=reply_to, urgent=urgent, edit_original=edit),
    )


PHOTO_NAME = "appeal.jpg"


def with_photo(message: OutboundMessage, channel: Channel, data: bytes | None, url: str | None) -> OutboundMessage:
    """An appeal with its photo: Telegram and email carry the picture, WhatsApp its public address (Meta fetches
    it), SMS only the alert page's link (the page shows it). Without a public address WhatsApp sends the text."""
    if data is None:
        return message
    attach = channel in (Channel.TELEGRAM, Channel.EMAIL, Channel.SLACK)
    return replace(
        message,
        photo=Attachment(PHOTO_NAME, "image/jpeg", data) if attach else None,
        photo_url=url,
    )


def photo_withdrawn_text(original: Alert, force_name: str) -> str:
    """What an appeal's photo message becomes on Telegram when it can't be deleted any more (HTML caption)."""
    return (
        f"<b>✅ RESOLVED</b>\n<s>{escape_telegram_html(alert_title(original, force_name))}</s>\n\n"
        f"{escape_telegram_html(force_name)} has withdrawn this appeal (incident "
        f"{escape_telegram_html(original.incident_number)}). {PHOTO_WITHDRAWN_NOTE}"
    )


def with_buttons(channel: Channel, message: OutboundMessage) -> OutboundMessage:
    """Keep buttons the channel can show; otherwise list them as numbered lines."""
    limits = PUBLISHED_LIMITS.get(channel)
    if not message.buttons or (limits is not None and len(message.buttons) <= limits.max_buttons):
        return message
    lines = "\n".join(f"Reply {i} — {b.label}" for i, b in enumerate(message.buttons, start=1))
    return replace(message, text=f"{message.text}\n\n{lines}", buttons=())


def alert_template(alert: Alert, template_name: str, *, closing: str | None = None) -> TemplateCall:
    """An alert, update or cancellation as WhatsApp's approved alert template: headline, area,
    incident number, then what happened and who to contact, each on one line."""
    kind = {
        AlertType.ALERT: "",
        AlertType.UPDATE: "Update: ",
        AlertType.CANCEL: "Cancelled: ",
        AlertType.RESOLVED: "Resolved: ",
    }[alert.type]
    details = alert.message if alert.type in CLOSING_TYPES else f"{alert.message} {alert.contact}"
    if closing:  # said before the message so the cap never cuts it off
        details = f"{closing} {details}"
    values = (f"{status_label(alert)}{kind}{alert.headline}", alert.area_description, alert.incident_number, details)
    parameters = tuple(_one_line(value, cap) for value, cap in zip(values, TEMPLATE_PARAMETER_CAPS, strict=True))
    quick_replies = (
        Button(TEMPLATE_TIP_LABEL, tip_button(alert).data),
        Button(TEMPLATE_STOP_LABEL, TEMPLATE_STOP_PAYLOAD),
        # The approved template has four quick replies whatever it carries (docs/whatsapp.md), so a cancellation's
        # "Useful / Not useful" answer that cancellation.
        *feedback_buttons(alert),
    )
    return TemplateCall(template_name, ALERT_TEMPLATE_LANGUAGE, parameters, quick_replies)


def with_whatsapp_window(
    message: OutboundMessage, alert: Alert, template_name: str, *, window_open: bool, photo_shared: bool = False
) -> OutboundMessage:
    """Add the template form of an alert: sent instead of the text when the 24-hour window is closed,
    and kept as the fallback when the window turns out closed after all (131047)."""
    closing = PHOTO_WITHDRAWN_NOTE if photo_shared and alert.type is AlertType.RESOLVED else None
    template = alert_template(alert, template_name, closing=closing)
    if message.photo_url:  # an appeal: the template of the same words under an IMAGE header (docs/whatsapp.md)
        template = replace(template, name=f"{template_name}{PHOTO_TEMPLATE_SUFFIX}", header_image=message.photo_url)
    return replace(message, template=template, template_only=not window_open)


def _one_line(text: str, cap: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= cap else flat[: cap - 1].rstrip() + "…"


def format_duration(seconds: float) -> str:
    """A span as people say it: "4.2 s", "35 s", "3 min 10 s", "1 h 5 min"."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, whole = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {whole} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"
