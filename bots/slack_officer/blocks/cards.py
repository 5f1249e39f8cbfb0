"""The alert card in the channel: a preview with Send / Approve / Edit / Discard, then, after Send,
the status message kept current with the delivery, then the final report.

One message carries the alert from preview to final report (updated in place
with chat.update), so the channel shows each alert once, with its outcome.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from bots.slack_officer.blocks.common import (
    Block,
    button,
    confirm_dialog,
    context,
    esc,
    fields,
    header,
    local_time,
    section,
)
from core.force import ForceConfig
from core.model import Alert, AlertState, AlertStatus, AlertType, Channel, DeliveryState
from core.rendering import alert_title, format_duration, residents_count, status_label
from core.services.alerts import Preview, daily_limit_in_words, reach_in_words, sms_cost_in_words, timing_in_words
from core.services.progress import DeliveryReport
from core.services.roles import SLACK_USER_ID

SEND = "alert_send"
APPROVE = "alert_approve"
EDIT = "alert_edit"
DISCARD = "alert_discard"
# A sent alert's buttons (on its card and in /alert list): each opens the same modal or report as the command.
UPDATE = "alert_card_update"
CANCEL = "alert_card_cancel"
RESOLVE = "alert_card_resolve"
REPORT = "alert_card_report"
_FOLLOWED_UP = (AlertState.SENDING, AlertState.SENT)

_CHANNEL_NAMES = {
    Channel.TELEGRAM: "Telegram",
    Channel.WHATSAPP: "WhatsApp",
    Channel.SLACK: "Slack",
    Channel.EMAIL: "Email",
    Channel.SMS: "SMS",
}


def card_value(alert: Alert) -> str:
    return json.dumps({"id": alert.id, "ref": alert.reference})


def parse_card_value(value: str | None) -> tuple[int, str]:
    """(alert id, reference) from a card button; ValueError when it is not one of ours."""
    data = json.loads(value or "")
    if not isinstance(data, dict) or not isinstance(data.get("id"), int) or not isinstance(data.get("ref"), str):
        raise ValueError("not an alert card button")
    return data["id"], data["ref"]


def who(actor: str | None) -> str:
    """A Slack user as a mention; anyone else (``cli:ops``, ``system``) as plain text."""
    if not actor:
        return "—"
    return f"<@{actor}>" if SLACK_USER_ID.match(actor) else f"`{esc(actor)}`"


def channel_name(channel: Channel) -> str:
    return _CHANNEL_NAMES.get(channel, channel.value)


def _summary(alert: Alert, force: ForceConfig) -> list[Block]:
    pairs = [
        ("Incident", esc(alert.incident_number)),
        ("Area", esc(alert.area_description)),
        ("Audience", alert.audience.value.capitalize()),
        ("Who", esc(reach_in_words(alert, force))),
    ]
    if alert.sectors:
        pairs.append(
            ("Sectors", esc(", ".join(force.sectors[s].label if s in force.sectors else s for s in alert.sectors)))
        )
    pairs += [
        ("Urgency", alert.urgency.value),
        ("Status", alert.status.value),
        ("Expires", local_time(alert.expires_at, force.settings.timezone)),
    ]
    return [
        section(f"*{esc(alert_title(alert, force.name))}*\n{esc(alert.message)}"),
        fields(pairs),
        context(f"Contact: {esc(alert.contact)}"),
    ]


def _practice_note(alert: Alert) -> list[Block]:
    if alert.status is AlertStatus.ACTUAL:
        return []
    return [
        context(
            f":test_tube: *{alert.status.value.upper()}*: labelled as such in every message; "
            "only residents who opted in as testers receive it."
        )
    ]


def preview_card(preview: Preview, force: ForceConfig, *, note: str | None = None) -> tuple[str, list[Block]]:
    """(fallback text, blocks) of a draft's preview."""
    alert = preview.alert
    reach = (
        " · ".join(f"{channel_name(c)} {n:,}" for c, n in sorted(preview.recipients.items())) or "nobody on any channel"
    )
    blocks: list[Block] = [header(f"{status_label(alert)}Preview {alert.reference}"), *_summary(alert, force)]
    blocks.append(
        section(
            f":busts_in_silhouette: *Would reach {residents_count(preview.total)}* — {reach}\n"
            f":round_pushpin: {esc(preview.area_description)}. The picture of the area is just above."
        )
    )
    if preview.eta_95_s:
        blocks.append(context(f":stopwatch: {esc(timing_in_words(preview))}"))
        if preview.sms_cost is not None:
            blocks.append(context(f":iphone: {esc(sms_cost_in_words(preview.sms_cost))}"))
    if preview.daily_limit is not None:
        blocks.append(section(f":no_entry: *Over the daily limit*: {esc(daily_limit_in_words(preview.daily_limit))}"))
    blocks += _practice_note(alert)
    if preview.approval_needed:
        blocks.append(
            section(
                f":lock: *Needs a supervisor's approval*: {esc(preview.approval_reason or '')}. "
                "A supervisor presses *Approve*; nobody can approve their own alert."
            )
        )
    elif alert.approver:
        blocks.append(section(f":white_check_mark: Approved by {who(alert.approver)}."))
    if note:
        blocks.append(context(note))
    value = card_value(alert)
    buttons = [
        button(
            "Send",
            SEND,
            value,
            style="primary",
            confirm=confirm_dialog(
                f"Send {alert.reference}?", f"It goes to {residents_count(preview.total)} now.", "Send"
            ),
        ),
    ]
    if preview.approval_needed:
        buttons.append(button("Approve", APPROVE, value))
    if alert.type is not AlertType.UPDATE:  # an update is rewritten by sending a new one, not edited
        buttons.append(button("Edit", EDIT, value))
    buttons += [
        button(
            "Discard",
            DISCARD,
            value,
            style="danger",
            confirm=confirm_dialog(f"Discard {alert.reference}?", "The draft is dropped; nothing is sent.", "Discard"),
        ),
    ]
    blocks.append({"type": "actions", "block_id": "alert_card", "elements": buttons})
    blocks.append(context(f"Drafted by {who(alert.author)} · {local_time(alert.created_at, force.settings.timezone)}"))
    text = f"{status_label(alert)}Preview of {alert.reference}: {esc(alert.headline)} — would reach {residents_count(preview.total)}"
    return text, blocks


def sent_buttons(alert: Alert, *, block_id: str = "alert_sent") -> list[Block]:
    """Update, Cancel and Resolved while an original alert is live; Report once anything was sent."""
    value = card_value(alert)
    buttons: list[Block] = []
    if alert.type is AlertType.ALERT and alert.state in _FOLLOWED_UP:
        buttons += [
            button("Update", UPDATE, value),
            button("Resolved", RESOLVE, value),
            button("Cancel", CANCEL, value, style="danger"),
        ]
    if alert.message_id is not None:
        buttons.append(button("Report", REPORT, value))
    return [{"type": "actions", "block_id": block_id, "elements": buttons}] if buttons else []


def closed_card(alert: Alert, force: ForceConfig, outcome: str) -> tuple[str, list[Block]]:
    """A draft that will not be sent (discarded, or replaced by an edited one): no buttons any more."""
    blocks = [header(f"{status_label(alert)}{alert.reference}"), *_summary(alert, force), section(outcome)]
    return f"{alert.reference}: {esc(alert.headline)} — {outcome}", blocks


def duration(span: timedelta) -> str:
    return format_duration(span.total_seconds())


def _channel_lines(report: DeliveryReport) -> list[str]:
    lines = []
    for channel, states in sorted(report.by_channel.items()):
        parts = [f"{states.get(DeliveryState.SENT, 0):,} sent"]
        for state, label in (
            (DeliveryState.FAILED, "retrying"),
            (DeliveryState.DEAD, "failed"),
            (DeliveryState.SKIPPED, "skipped"),
        ):
            if states.get(state):
                parts.append(f"{states[state]:,} {label}")
        to_go = states.get(DeliveryState.PENDING, 0) + states.get(DeliveryState.SENDING, 0)
        if to_go:
            parts.append(f"{to_go:,} to go")
        lines.append(f"• {channel_name(channel)}: " + " · ".join(parts))
    return lines


def progress_text(report: DeliveryReport, now: datetime) -> str:
    """The status line: counts while sending, the final report once every delivery is done."""
    if report.total == 0:
        return ":information_source: *Nobody matched*: no messages were sent."
    if report.done:
        took = duration(report.took) if report.took is not None else "—"
        summary = (
            f":white_check_mark: *Delivered in {took}*: {report.sent:,} sent · {report.failed:,} failed · "
            f"{report.blocked:,} blocked the bot · {report.skipped:,} skipped (of {report.total:,})"
        )
        if report.limit_skipped:
            summary += (
                f"\n:no_entry: {report.limit_skipped:,} never sent: WhatsApp daily limit (still waiting for a place "
                "when the alert ended)"
            )
    else:
        finished = report.total - report.waiting
        elapsed = duration(now - report.alert.sent_at) if report.alert.sent_at else "—"
        summary = f":hourglass_flowing_sand: *Sending*: {finished:,} of {report.total:,} done · {elapsed} so far"
        eta = report.eta(now)
        if eta is not None:
            summary += f" · about {duration(eta)} to go"
        if report.held:
            summary += f"\n:zzz: {report.held:,} waiting for residents' quiet hours to end (non-urgent alert)"
        if report.limit_held:
            summary += (
                f"\n:no_entry: {report.limit_held:,} held by the WhatsApp daily limit: they get it as the 24 hours "
                "roll on and places free, while the alert is live"
            )
    return "\n".join([summary, *_channel_lines(report)])


def status_card(report: DeliveryReport, force: ForceConfig, now: datetime) -> tuple[str, list[Block]]:
    """(fallback text, blocks) of a sent alert, update or cancellation, with its delivery so far."""
    alert = report.alert
    if alert.state is AlertState.CANCELLED:
        state = "Cancelled"
    elif alert.state is AlertState.RESOLVED:
        state = "Resolved"
    elif report.done:
        state = "Sent"
    else:
        state = "Sending"
    kind = "" if alert.type.value == "Alert" else f"{alert.type.value} "
    blocks: list[Block] = [header(f"{status_label(alert)}{state}: {kind}{alert.reference}"), *_summary(alert, force)]
    blocks.append(section(progress_text(report, now)))
    blocks += _practice_note(alert)
    blocks += sent_buttons(alert)
    credits = f"Drafted by {who(alert.author)}"
    if alert.approver:
        credits += f" · approved by {who(alert.approver)}"
    if alert.sent_at:
        credits += f" · sent {local_time(alert.sent_at, force.settings.timezone)}"
    blocks.append(context(credits))
    text = (
        f"{status_label(alert)}{state} {alert.reference}: {esc(alert.headline)} — "
        + progress_text(report, now).split("\n")[0]
    )
    return text, blocks


def card_message(blocks_and_text: tuple[str, list[Block]]) -> dict[str, Any]:
    """Keyword arguments for chat.postMessage / chat.update."""
    text, blocks = blocks_and_text
    return {"text": text, "blocks": blocks}
