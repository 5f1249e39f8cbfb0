"""How tips read: to officers in the tips queue (Slack mrkdwn), and officers' replies to residents.

Officers never see a tipster's chat id or phone number: a tipster is the keyed
pseudonym fixed on the tip when it arrived (core/pseudonyms.py), one for a
resident's anonymous tips and another for their named ones, so nothing on an
anonymous tip links it to the same person's named tips.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from core.model import Alert, Channel, Tip, TipNote, TipPhoto, TipState
from core.outbound import Attachment, Button, MessageParts, OutboundMessage
from core.pseudonyms import ERASED
from core.rendering import escape_slack_mrkdwn, escape_telegram_html, with_buttons

ANSWER_BUTTON_LABEL = "Answer"
OFFICER_ACTIONS = {"ack": "Acknowledge", "reply": "Reply", "done": "Mark actioned", "spam": "Mark spam / block"}
STATE_LABELS = {
    TipState.NEW: "New",
    TipState.ACKNOWLEDGED: "Acknowledged",
    TipState.ACTIONED: "Actioned",
    TipState.SPAM: "Marked as spam",
}


def tipster_pseudonym(tip: Tip) -> str:
    """The name officers see for the tip's sender: its stored pseudonym, saying nothing about who they are."""
    if tip.resident_id is None:
        return ERASED
    return tip.tipster or ("Anonymous tipster" if tip.anonymous else "Tipster")


def officer_buttons(tip: Tip) -> tuple[Button, ...]:
    """What an officer can still do with a tip in its state; the data is ``tipq:<action>:<reference>``."""
    ref = tip.reference or ""
    relevant = {
        TipState.NEW: ("ack", "reply", "done", "spam"),
        TipState.ACKNOWLEDGED: ("reply", "done", "spam"),
        TipState.ACTIONED: ("reply", "spam"),
        TipState.SPAM: (),
    }[tip.state]
    return tuple(Button(OFFICER_ACTIONS[action], f"tipq:{action}:{ref}") for action in relevant)


def map_link(lat: float, lon: float) -> str:
    return f"https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lon:.6f}#map=18/{lat:.6f}/{lon:.6f}"


def render_thread_root(key: str, alert: Alert | None) -> OutboundMessage:
    if alert is not None:
        text = (
            f"*Tips for {escape_slack_mrkdwn(alert.reference or '')}* — {escape_slack_mrkdwn(alert.headline)}\n"
            f"Incident {escape_slack_mrkdwn(alert.incident_number)} · {escape_slack_mrkdwn(alert.area_description)}\n"
            "Each tip arrives as a reply in this thread."
        )
    else:
        day = date.fromisoformat(key.removeprefix("day:"))
        text = (
            f"*Tips that answer no alert — {day.strftime('%A %-d %B %Y')}*\nEach tip arrives as a reply in this thread."
        )
    return OutboundMessage(text=text)


def render_tip_for_officers(
    tip: Tip, alert: Alert | None, photos: list[TipPhoto], *, reply_to: str | None
) -> OutboundMessage:
    lines = tip_summary_lines(tip, alert, len(photos))
    lines.append(f"Status: {STATE_LABELS[tip.state]}")
    return OutboundMessage(
        text="\n".join(lines),
        buttons=officer_buttons(tip),
        reply_to=reply_to,
        attachments=tuple(Attachment(p.name, p.content_type, p.data) for p in photos),
    )


def tip_summary_lines(tip: Tip, alert: Alert | None, photo_count: int) -> list[str]:
    """The tip as officers read it (mrkdwn, everything the tipster typed escaped), without its status line."""
    who = tipster_pseudonym(tip)
    if tip.resident_id is None:
        contact = "the tipster erased their data: who sent it is removed, and they can no longer be reached"
    elif tip.anonymous:
        contact = "anonymous: does not want to be contacted (replies through Lookout still reach them)"
    elif not tip.contact:
        contact = "may be contacted, through Lookout only (gave no other contact)"
    else:
        contact = f"may be contacted: {escape_slack_mrkdwn(tip.contact)}"
    lines = [f"*Tip {tip.reference}* from {who} ({contact})"]
    if alert is not None:
        lines.append(f"About {escape_slack_mrkdwn(alert.reference or '')}: {escape_slack_mrkdwn(alert.headline)}")
    if tip.text:
        lines.append("\n".join(f"> {escape_slack_mrkdwn(line)}" for line in tip.text.splitlines() or [""]))
    if tip.lat is not None and tip.lon is not None:
        lines.append(f"Seen at: <{map_link(tip.lat, tip.lon)}|{tip.lat:.5f}, {tip.lon:.5f}>")
    if photo_count:
        lines.append(f"{photo_count} photo{'s' if photo_count != 1 else ''} attached")
    return lines


def redacted_tip_text(tip: Tip, alert: Alert | None, *, photos_posted: bool = True) -> str:
    """The tip's post once its sender has erased their data: what they saw stays (it is evidence), who they are goes.
    ``photos_posted`` False: the post was still on its way, and its photos were erased with the tip."""
    erased = replace(tip, resident_id=None, contact=None, tipster=None)
    lines = tip_summary_lines(erased, alert, len(tip.media) if photos_posted else 0)
    if tip.media and not photos_posted:
        lines.append(
            f"{len(tip.media)} photo{'s' if len(tip.media) != 1 else ''} erased with the tipster's data before they were posted"
        )
    lines.append(f"Status: {STATE_LABELS[tip.state]} (closed: the tipster's data is erased)")
    return "\n".join(lines)


def render_tip_follow_up(tip: Tip, note: TipNote, *, reply_to: str | None) -> OutboundMessage:
    quoted = "\n".join(f"> {escape_slack_mrkdwn(line)}" for line in note.text.splitlines() or [""])
    text = f"*{tipster_pseudonym(tip)} answered* on tip {tip.reference}:\n{quoted}"
    return OutboundMessage(text=text, buttons=(Button("Reply", f"tipq:reply:{tip.reference}"),), reply_to=reply_to)


def render_reply_to_tipster(tip: Tip, note: TipNote, force_name: str, channel: Channel) -> OutboundMessage:
    """An officer's reply as the resident reads it, with a way to answer."""
    heading = f"Reply from {force_name} about your information ({tip.reference})"
    closing = "Reply to this message, or tap Answer, to write back."
    if channel is Channel.EMAIL:
        # Nobody reads replies to Lookout's emails: the way back is the signed tip link on the alert, when there is one.
        closing = "Please don't reply to this email: nobody reads replies to it."
        if tip.alert_id is not None:
            closing += " To tell officers more, use the Reply with information link."
        parts = MessageParts(
            subject=f"A reply from {force_name} about your information",
            heading="Your information",
            headline=f"A reply from {force_name}",
            body=note.text,
            reference=tip.reference,
            tip_alert_id=tip.alert_id,
            closing=closing,
        )
        return OutboundMessage(text=f"{heading}\n\n{note.text}\n\n{closing}", parts=parts)
    if channel is Channel.SMS:
        # No buttons and no threads in a text: the resident simply replies, and the answer goes to this tip.
        return OutboundMessage(text=f"{heading}\n\n{note.text}\n\nReply to this text to write back.")
    if channel is Channel.TELEGRAM:
        text = f"<b>{escape_telegram_html(heading)}</b>\n\n{escape_telegram_html(note.text)}\n\n<i>{closing}</i>"
    elif channel is Channel.SLACK:
        text = f"*{escape_slack_mrkdwn(heading)}*\n\n{escape_slack_mrkdwn(note.text)}"
    else:
        text = f"{heading}\n\n{note.text}\n\n{closing}"
    return with_buttons(channel, OutboundMessage(text=text, buttons=(Button(ANSWER_BUTTON_LABEL, f"ans:{tip.id}"),)))


# Said to a tipster once, the first time an officer acts on their tip; never who the officer was.
TIP_SEEN_TEXT = "An officer has seen your information ({reference}). Thank you for sending it."


def render_tip_seen(tip: Tip, force_name: str, channel: Channel) -> OutboundMessage:
    """The tipster told an officer has seen their tip (acknowledged, replied to or actioned), naming no officer."""
    text = TIP_SEEN_TEXT.format(reference=tip.reference)
    if channel is Channel.EMAIL:
        parts = MessageParts(
            subject=f"{force_name} has seen your information",
            heading="Your information",
            headline=f"{force_name} has seen your information",
            body=text,
            reference=tip.reference,
            closing="Please don't reply to this email: nobody reads replies to it.",
        )
        return OutboundMessage(text=text, parts=parts)
    if channel is Channel.TELEGRAM:
        return OutboundMessage(text=escape_telegram_html(text))
    return OutboundMessage(text=text)
