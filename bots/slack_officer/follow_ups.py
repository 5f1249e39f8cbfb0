"""A sent alert's follow-ups, shared by ``/alert update|cancel|report A-…`` and the buttons on its card and in
``/alert list``: the update, resolution and cancellation modals, and the report posted in the channel."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bots.slack_officer.blocks.cards import card_message
from bots.slack_officer.blocks.follow_up import cancel_modal, resolve_modal, update_modal
from bots.slack_officer.blocks.report import report_message
from bots.slack_officer.deps import OfficerDeps
from bots.slack_officer.preview_picture import report_picture
from bots.slack_officer.replies import Officer
from core.errors import Conflict
from core.model import AlertState, AlertType
from core.services.alerts import RESOLVABLE_STATES

UPDATABLE = (AlertState.SENDING, AlertState.SENT, AlertState.EXPIRED)
CANCELLABLE = (AlertState.SENDING, AlertState.SENT)


async def open_update(
    deps: OfficerDeps, client: AsyncWebClient, officer: Officer, trigger: str, reference: str
) -> None:
    original = await deps.alerts.get(reference)
    check_original(original.reference or reference, original.type, original.state, UPDATABLE, "updated")
    deps.alerts.require_updatable(original)  # an expired alert: say so before the modal, not after it
    reached = await _reached(deps, original.id)  # type: ignore[arg-type]
    metadata = {"ref": original.reference, "channel": officer.channel}
    await client.views_open(trigger_id=trigger, view=update_modal(original, reached, metadata))


async def open_resolve(
    deps: OfficerDeps, client: AsyncWebClient, officer: Officer, trigger: str, reference: str
) -> None:
    """ "Resolved": the confirmation modal (an expired appeal can be resolved too: its photo is out there)."""
    original = await deps.alerts.get(reference)
    check_original(original.reference or reference, original.type, original.state, RESOLVABLE_STATES, "resolved")
    reached = await _reached(deps, original.id)  # type: ignore[arg-type]
    photo = await deps.alerts.photo(original.id)  # type: ignore[arg-type]
    metadata = {"ref": original.reference, "channel": officer.channel}
    await client.views_open(
        trigger_id=trigger, view=resolve_modal(original, reached, metadata, photo=photo is not None)
    )


async def open_cancel(
    deps: OfficerDeps, client: AsyncWebClient, officer: Officer, trigger: str, reference: str
) -> None:
    original = await deps.alerts.get(reference)
    check_original(original.reference or reference, original.type, original.state, CANCELLABLE, "cancelled")
    reached = await _reached(deps, original.id)  # type: ignore[arg-type]
    metadata = {"ref": original.reference, "channel": officer.channel}
    await client.views_open(trigger_id=trigger, view=cancel_modal(original, reached, metadata))


async def post_report(deps: OfficerDeps, client: AsyncWebClient, officer: Officer, reference: str) -> None:
    """The report in the officer's channel, then in its thread the shaded map and the CSV files for analysts."""
    report = await deps.alerts.reach_report(reference, officer.user)
    ref = report.alert.reference or reference
    channel = officer.channel or officer.user
    posted = await client.chat_postMessage(channel=channel, **card_message(report_message(report, deps.force)))
    png = await report_picture(report, deps.tiles)
    await client.files_upload_v2(
        channel=str(posted["channel"]),
        thread_ts=str(posted["ts"]),
        initial_comment=f"Where *{ref}* reached residents (cells shaded by how many were sent it), and its figures as CSV.",
        file_uploads=[
            {
                "content": png,
                "filename": f"{ref}-reach.png",
                "title": f"Where {ref} reached",
                "alt_txt": f"Map of {report.alert.area_description}, shaded where the residents it was sent to live",
            },
            {
                "content": report.deliveries_csv().encode(),
                "filename": f"{ref}-deliveries.csv",
                "title": f"{ref}: deliveries per minute, channel and state",
            },
            {
                "content": report.cells_csv().encode(),
                "filename": f"{ref}-cells.csv",
                "title": f"{ref}: residents per map cell and delivery state",
            },
            {
                "content": report.feedback_csv().encode(),
                "filename": f"{ref}-feedback.csv",
                "title": f"{ref}: residents who found it useful, and not useful, per app",
            },
        ],
    )


def check_original(
    reference: str, kind: AlertType, state: AlertState, allowed: tuple[AlertState, ...], verb: str
) -> None:
    """Say so at once rather than after the officer has filled in the modal (core checks again on submit)."""
    if kind is not AlertType.ALERT:
        raise Conflict(f"{reference} is an {kind.value.lower()}; use the original alert's reference.")
    if state not in allowed:
        raise Conflict(f"{reference} is {state.value} and can't be {verb}.")


async def _reached(deps: OfficerDeps, alert_id: int) -> int:
    report = await deps.progress.report(alert_id)
    return report.total - report.skipped
