"""Putting the alert card in the channel and changing it: the preview (with its picture), and the status after sending.

Used by the modal submissions and the card's buttons once Slack has had its
answer. The card goes to the channel the officer was working in; when the app
cannot post there, the officer is told how to fix it (the draft is kept).
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack_officer.blocks.cards import (
    card_message,
    closed_card,
    preview_card,
    status_card,
    who,
)
from bots.slack_officer.deps import OfficerDeps
from bots.slack_officer.preview_picture import preview_picture
from bots.slack_officer.replies import Officer
from core.errors import Conflict, LookoutError
from core.model import Address, Channel
from core.rendering import residents_count

logger = logging.getLogger("lookout.slack")

_CANNOT_POST = frozenset({"channel_not_found", "not_in_channel", "is_archived", "restricted_action"})


class CannotPost(LookoutError):
    """The app may not post in the officer's channel; says what to do instead."""


def _cannot_post(reference: str, channel: str, error: str) -> CannotPost:
    return CannotPost(
        f"I couldn't post {reference} in <#{channel}> ({error}). Invite me there with `/invite @Lookout`, or use "
        f"`/alert` in a channel I'm in; {reference} is saved and `/alert list` shows it."
    )


async def post_preview(deps: OfficerDeps, client: AsyncWebClient, officer: Officer, alert_id: int) -> tuple[str, str]:
    """Count, draw and post a draft's preview: the picture of the area, then the card with its buttons.

    Returns (channel, ts) of the card.
    """
    preview = await deps.alerts.preview(alert_id, officer.user)
    cells = await deps.alerts.reach_by_cell(alert_id)
    alert = preview.alert
    reference = alert.reference or str(alert_id)
    channel = officer.channel or officer.user
    png = await preview_picture(preview, cells, deps.tiles)
    photo = await deps.alerts.photo(alert_id)
    note = None
    if photo is not None and photo.data is not None:
        note = (
            f":frame_with_picture: *With a photo* ({photo.width} × {photo.height}, just above): residents see it with "
            "the alert. Mark the alert *Resolved* when the person is found, and the photo is withdrawn."
        )
    try:
        await client.files_upload_v2(
            channel=channel,
            content=png,
            filename=f"{reference}-area.png",
            title=f"The area of {reference}",
            alt_txt=f"Map of {alert.area_description}, shaded where the {residents_count(preview.total)} it would reach live",
            initial_comment=f"The area of *{reference}*: outline in red, residents it would reach shaded in blue.",
        )
        if note is not None:
            await client.files_upload_v2(
                channel=channel,
                content=photo.data,  # type: ignore[union-attr]
                filename=f"{reference}-photo.jpg",
                title=f"The photo of {reference}",
                alt_txt=f"The photo attached to {reference}",
                initial_comment=f"The photo residents will see with *{reference}* (re-encoded, without its metadata).",
            )
        posted = await client.chat_postMessage(
            channel=channel, **card_message(preview_card(preview, deps.force, note=note))
        )
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "")
        if error in _CANNOT_POST:
            raise _cannot_post(reference, channel, error) from None
        raise
    return str(posted["channel"]), str(posted["ts"])


async def post_update_for_approval(deps: OfficerDeps, client: AsyncWebClient, officer: Officer, alert_id: int) -> None:
    """An update that needs approval again: its card (no picture: it goes to whoever the alert reached), Approve on it."""
    preview = await deps.alerts.preview(alert_id, officer.user)
    note = (
        f"An update of an alert that needed a supervisor's approval: it goes to the {preview.total:,} residents the "
        "alert reached once a supervisor (not its author) approves it and it is sent."
    )
    channel = officer.channel or officer.user
    try:
        await client.chat_postMessage(channel=channel, **card_message(preview_card(preview, deps.force, note=note)))
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "")
        if error in _CANNOT_POST:
            raise _cannot_post(preview.alert.reference or str(alert_id), channel, error) from None
        raise


async def refresh_preview(
    deps: OfficerDeps, client: AsyncWebClient, officer: Officer, alert_id: int, channel: str, ts: str
) -> None:
    """Redraw the card in place (after an approval): counts as they are now, approver shown."""
    preview = await deps.alerts.preview(alert_id, officer.user)
    await client.chat_update(channel=channel, ts=ts, **card_message(preview_card(preview, deps.force)))


async def start_status(
    deps: OfficerDeps,
    client: AsyncWebClient,
    officer: Officer,
    alert_id: int,
    *,
    channel: str | None,
    ts: str | None = None,
) -> None:
    """Show the delivery on the card (``ts``) or a new status message, and have the status board keep it current."""
    report = await deps.progress.report(alert_id)
    message = card_message(status_card(report, deps.force, deps.clock()))
    if ts is not None and channel is not None:
        await client.chat_update(channel=channel, ts=ts, **message)
    else:
        target = channel or officer.user
        try:
            posted = await client.chat_postMessage(channel=target, **message)
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "")
            if error not in _CANNOT_POST:
                raise
            logger.info(
                "status of alert %s can't go to %s (%s); sending it to the officer directly", alert_id, target, error
            )
            posted = await client.chat_postMessage(channel=officer.user, **message)
        channel, ts = str(posted["channel"]), str(posted["ts"])
    if not report.done:
        await deps.progress.watch(alert_id, Address(Channel.SLACK, f"{channel}/{ts}"))


async def redraw_status(deps: OfficerDeps, client: AsyncWebClient, alert_id: int) -> None:
    """Redraw a sent alert's card now (after its cancellation: "Cancelled", and only Report left on it)."""
    address = await deps.progress.card_of(alert_id)
    if address is None:
        return
    channel, _, ts = address.id.partition("/")
    if not ts:  # not posted yet: the status board draws it as it is
        return
    report = await deps.progress.report(alert_id)
    try:
        await client.chat_update(channel=channel, ts=ts, **card_message(status_card(report, deps.force, deps.clock())))
    except SlackApiError as exc:
        logger.info(
            "the card of alert %s could not be redrawn (%s); left as it was", alert_id, exc.response.get("error")
        )


async def replace_draft(
    deps: OfficerDeps, client: AsyncWebClient, officer: Officer, replaced: dict, new_reference: str
) -> None:
    """After an Edit: drop the old draft and close its card, pointing at the new one."""
    try:
        old = await deps.alerts.discard(int(replaced["id"]), officer.user)
    except Conflict:
        logger.info("the edited draft %s was no longer a draft; its card is left as it is", replaced.get("ref"))
        return
    outcome = f":pencil2: Replaced by *{new_reference}*, edited by {who(officer.user)}. This draft will not be sent."
    await client.chat_update(
        channel=str(replaced["channel"]), ts=str(replaced["ts"]), **card_message(closed_card(old, deps.force, outcome))
    )
