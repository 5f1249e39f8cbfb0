"""What ``/alert report A-…`` and the card's *Report* button post: reach by channel, over time, feedback, tips.

The map (cells shaded by residents reached) and the CSV files follow it in its thread.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bots.slack_officer.blocks.cards import channel_name, sent_buttons
from bots.slack_officer.blocks.common import Block, context, esc, header, local_time, section
from core.force import ForceConfig
from core.model import Channel
from core.services.reach import ChannelReach, ReachReport

TIMELINE_LINES = 30  # minutes shown in the message; the CSV has them all
_REPORTED = (Channel.WHATSAPP, Channel.SMS)  # the channels whose platforms report delivered and read


def _line(name: str, reach: ChannelReach, *, receipts: bool) -> str:
    parts = [f"{reach.sent:,} sent"]
    if receipts:
        parts += [f"{reach.delivered:,} delivered", f"{reach.read:,} read"]
    parts += [f"{reach.failed:,} failed", f"{reach.skipped:,} skipped"]
    if reach.waiting:
        parts.append(f"{reach.waiting:,} still to go")
    return f"• *{name}*: " + " · ".join(parts)


def report_message(report: ReachReport, force: ForceConfig) -> tuple[str, list[Block]]:
    alert, total = report.alert, report.total
    tz = ZoneInfo(force.settings.timezone)
    lines = [_line(channel_name(c), r, receipts=c in _REPORTED) for c, r in report.by_channel.items()]
    summary = f"*{total.sent:,} of {total.total:,} sent* · {total.failed:,} failed · {total.skipped:,} skipped" + (
        f" · {total.waiting:,} still to go" if total.waiting else ""
    )
    tips = f":speech_balloon: *{report.tips:,} tip{'s' if report.tips != 1 else ''}* from residents about it."
    blocks_feedback = section(feedback_line(report))
    blocks: list[Block] = [
        header(f"Report: {alert.reference}"),
        section(f"*{esc(alert.headline)}* · {esc(alert.area_description)} · {alert.state.value}\n{summary}"),
        section("\n".join(lines) or "No deliveries."),
        context("Delivered and read are what WhatsApp and SMS report back; Telegram and email report neither."),
        blocks_feedback,
        section(tips),
    ]
    timeline = report.timeline
    if timeline:
        rows = [
            f"{m.at.astimezone(tz):%H:%M}  {m.sent:>6,} sent{f' · {m.failed:,} failed' if m.failed else ''}"
            f"  ({m.sent_so_far:,} so far)"
            for m in timeline[:TIMELINE_LINES]
        ]
        more = f"\n… {len(timeline) - TIMELINE_LINES} more minutes in the CSV" if len(timeline) > TIMELINE_LINES else ""
        blocks.append(section("*Minute by minute*\n```" + "\n".join(rows) + "```" + more))
    blocks += sent_buttons(alert, block_id="alert_report")
    blocks.append(
        context(
            f"Sent {local_time(alert.sent_at, force.settings.timezone)} · the map and the CSV files "
            "for analysts are in the thread."
        )
    )
    useful = report.feedback_total
    text = (
        f"Report of {alert.reference}: {total.sent:,} of {total.total:,} sent, {report.tips:,} tips, "
        f"{useful.useful:,} useful, {useful.not_useful:,} not useful"
    )
    return text, blocks


def feedback_line(report: ReachReport) -> str:
    """Residents' answers to "was this useful?" (one each), in all and per channel."""
    total = report.feedback_total
    if not total.total:
        return ":bar_chart: No resident has said yet whether it was useful."
    per = " · ".join(
        f"{channel_name(c)} {c_counts.useful:,}/{c_counts.not_useful:,}" for c, c_counts in report.feedback.items()
    )
    return (
        f":+1: *{total.useful:,} found it useful* · :-1: {total.not_useful:,} not useful"
        f" (useful/not useful by app: {per})"
    )
