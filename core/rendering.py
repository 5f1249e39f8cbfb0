"""How messages read on each channel: one place for wording, escaping and limits.

Telegram gets HTML (escape ``& < >``), Slack gets mrkdwn (escape ``& < >``),
WhatsApp gets plain text. Buttons a channel cannot show become numbered lines.
"""
from __future__ import annotations

import html

from core.channels import PUBLISHED_LIMITS
from core.model import Alert, AlertStatus, AlertType, Channel
from core.outbound import Button, OutboundMessage

TIP_BUTTON_LABEL = "I have information"


def status_label(alert: Alert) -> str:
    """``EXERCISE — `` / ``TEST — `` in front of practice alerts, nothing for real ones."""
    return "" if alert.status is AlertStatus.ACTUAL else f"{alert.status.value.upper()} — "


def alert_title(alert: Alert, force_name: str) -> str:
    kind = {AlertType.ALERT: "Police alert", AlertType.UPDATE: "Update", AlertType.CANCEL: "Cancelled"}[alert.type]
    return f"{status_label(alert)}{kind} from {force_name}: {alert.headline}"


def alert_plain_text(alert: Alert, force_name: str) -> str:
    """The whole alert as a resident reads it: what, where, incident, contact."""
    return "\n\n".join(_alert_parts(alert, force_name))


def _alert_parts(alert: Alert, force_name: str) -> list[str]:
    parts = [alert_title(alert, force_name), alert.message]
    if alert.type is not AlertType.CANCEL:
        parts.append(f"Area: {alert.area_description}")
    parts.append(f"Incident number: {alert.incident_number}")
    if alert.type is not AlertType.CANCEL:
        parts.append(alert.contact)
    return parts


def escape_telegram_html(text: str) -> str:
    return html.escape(text, quote=False)


def escape_slack_mrkdwn(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def tip_button(alert: Alert) -> Button:
    # Tips always attach to the original alert, whichever follow-up they answer.
    return Button(TIP_BUTTON_LABEL, f"tip:{alert.original_id or alert.id}")


def render_alert(alert: Alert, force_name: str, channel: Channel, *, reply_to: str | None = None) -> OutboundMessage:
    """An alert, update or cancellation as ``channel`` shows it."""
    parts = _alert_parts(alert, force_name)
    buttons = () if alert.type is AlertType.CANCEL else (tip_button(alert),)
    if channel is Channel.TELEGRAM:
        title, *rest = (escape_telegram_html(p) for p in parts)
        text = "\n\n".join([f"<b>{title}</b>", *rest])
    elif channel is Channel.SLACK:
        title, *rest = (escape_slack_mrkdwn(p) for p in parts)
        text = "\n\n".join([f"*{title}*", *rest])
    else:
        text = "\n\n".join(parts)
    return with_buttons(
        channel,
        OutboundMessage(text=text, buttons=buttons, reply_to=reply_to, urgent=alert.urgency.value == "Immediate"),
    )


def with_buttons(channel: Channel, message: OutboundMessage) -> OutboundMessage:
    """Keep buttons the channel can show; otherwise list them as numbered lines."""
    limits = PUBLISHED_LIMITS.get(channel)
    if not message.buttons or (limits is not None and len(message.buttons) <= limits.max_buttons):
        return message
    lines = "\n".join(f"Reply {i} — {b.label}" for i, b in enumerate(message.buttons, start=1))
    return OutboundMessage(
        text=f"{message.text}\n\n{lines}",
        reply_to=message.reply_to,
        template=message.template,
        image_url=message.image_url,
        urgent=message.urgent,
    )
