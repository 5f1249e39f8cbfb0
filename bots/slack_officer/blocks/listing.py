"""What ``/alert list``, ``/alert stats`` and ``/alert help`` show (ephemeral, to the officer who asked)."""

from __future__ import annotations

from bots.slack_officer.blocks.cards import channel_name, sent_buttons
from bots.slack_officer.blocks.common import (
    Block,
    context,
    esc,
    fields,
    header,
    local_time,
    section,
)
from core.force import ForceConfig
from core.model import Alert, AlertState, AlertType, DeliveryState
from core.services.stats import Stats

LIST_LIMIT = 15
_STATE_ICONS = {
    AlertState.DRAFT: ":memo:",
    AlertState.SCHEDULED: ":clock3:",
    AlertState.MISSED: ":warning:",
    AlertState.SENDING: ":hourglass_flowing_sand:",
    AlertState.SENT: ":white_check_mark:",
    AlertState.CANCELLED: ":no_entry_sign:",
    AlertState.RESOLVED: ":large_green_circle:",
    AlertState.EXPIRED: ":zzz:",
    AlertState.DISCARDED: ":wastebasket:",
}


def alert_list(alerts: list[Alert], force: ForceConfig) -> tuple[str, list[Block]]:
    if not alerts:
        return "No alerts yet.", [section("No alerts yet. Type `/alert` to raise one.")]
    blocks: list[Block] = [header(f"The last {len(alerts)} alerts, updates and cancellations")]
    for a in alerts:
        kind = "" if a.type is AlertType.ALERT else f"{a.type.value} · "
        practice = "" if a.status.value == "Actual" else f" · *{a.status.value.upper()}*"
        blocks.append(
            section(
                f"{_STATE_ICONS.get(a.state, '')} `{a.reference}` *{esc(a.headline)}*\n"
                f"{kind}{a.state.value}{practice} · {esc(a.area_description)} · {local_time(a.created_at, force.settings.timezone)}"
            )
        )
        blocks += sent_buttons(a, block_id=f"alert_list_{a.id}")  # 15 alerts: at most 33 blocks, under Slack's 50
    blocks.append(
        context(
            "*Update* sends a follow-up to the same residents, *Resolved* tells them it is over, "
            "*Cancel* cancels, *Report* shows who it reached (also `/alert report A-…`)."
        )
    )
    return f"The last {len(alerts)} alerts", blocks


def stats_message(stats: Stats, force: ForceConfig) -> tuple[str, list[Block]]:
    sent = stats.alerts(AlertType.ALERT, practice=False)
    practice = stats.alerts(AlertType.ALERT, practice=True)
    deliveries = stats.deliveries
    subscribers = " · ".join(f"{channel_name(c)} {n:,}" for c, n in sorted(stats.subscribers.items())) or "none yet"
    live = ", ".join(f"`{a.reference}`" for a in stats.live[:10]) or "none"
    blocks = [
        header(f"Lookout for {force.name}: the last {stats.days} days"),
        fields(
            [
                ("Alerts sent", f"{sent:,} real · {practice:,} exercise/test"),
                ("Updates · cancellations", f"{stats.alerts(AlertType.UPDATE):,} · {stats.alerts(AlertType.CANCEL):,}"),
                ("Drafts discarded", f"{stats.in_state(AlertState.DISCARDED):,}"),
                ("Messages delivered", f"{deliveries.get(DeliveryState.SENT, 0):,}"),
                (
                    "Failed · skipped",
                    f"{deliveries.get(DeliveryState.DEAD, 0):,} · {deliveries.get(DeliveryState.SKIPPED, 0):,}",
                ),
                (
                    "Still to send",
                    f"{sum(deliveries.get(s, 0) for s in (DeliveryState.PENDING, DeliveryState.SENDING, DeliveryState.FAILED)):,}",
                ),
                ("Subscribers now", subscribers),
                ("Live alerts", live),
            ]
        ),
    ]
    return f"Lookout for the last {stats.days} days: {sent:,} alerts sent", blocks


def help_message(force: ForceConfig, *, officer: bool) -> tuple[str, list[Block]]:
    blocks = [
        header("Lookout: community alerts"),
        section(
            "• `/alert` — raise an alert: a form, then a preview with the area, who it reaches and a picture; "
            "nothing goes until you press *Send*.\n"
            "• `/alert list` — the latest alerts and their state\n"
            "• `/alert update A-2026-000123` — a follow-up to exactly the residents the alert reached\n"
            "• `/alert resolve A-2026-000123` — it is over (a person found safe, say): tell everyone reached and withdraw its photo\n"
            "• `/alert cancel A-2026-000123` — stop it and tell those already reached\n"
            "• `/alert report A-2026-000123` — who it reached, by channel and minute, on a map, with CSV files\n"
            "• `/alert stats` — the last 30 days in figures\n"
            "• `/alert help` — this"
        ),
        context(
            f"Alerts reaching more than {force.settings.approval_threshold:,} residents need a supervisor's *Approve* "
            "(never your own). Exercise and Test alerts reach only residents who opted in as testers."
        ),
    ]
    if not officer:
        blocks.append(context("You are not listed as an officer, so you can read this but not raise or change alerts."))
    return (
        "Lookout: /alert, /alert list, /alert update A-…, /alert resolve A-…, /alert cancel A-…, /alert stats",
        blocks,
    )
