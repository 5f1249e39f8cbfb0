"""The alert card's buttons: a draft's Send, Approve, Edit, Discard; a sent alert's Update, Resolved, Cancel, Report. Each acknowledges at once; the action itself runs after the answer.

Who may press what is core's to decide (any officer may send a draft, only a
supervisor other than the author may approve it); a refusal is audited and
explained to the person who pressed, and the card stays as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack_officer.alert_cards import refresh_preview, start_status
from bots.slack_officer.blocks.cards import (
    card_message,
    closed_card,
    parse_card_value,
    who,
)
from bots.slack_officer.blocks.compose import compose_modal, form_from_alert
from bots.slack_officer.deps import OfficerDeps, deps_of
from bots.slack_officer.follow_ups import open_cancel, open_resolve, open_update, post_report
from bots.slack_officer.replies import Officer, carry_out, refuse, tell
from core.errors import Conflict, NotAllowed
from core.model import AlertState

logger = logging.getLogger("lookout.slack")

Work = Callable[["_Pressed"], Awaitable[None]]


class _Pressed:
    """One press of a card button: who, on which card, for which alert."""

    def __init__(self, deps: OfficerDeps, client: AsyncWebClient, body: dict[str, Any]) -> None:
        container = body.get("container") or {}
        self.deps, self.client, self.body = deps, client, body
        self.channel: str = str(container.get("channel_id") or (body.get("channel") or {}).get("id") or "")
        self.ts: str = str(container.get("message_ts") or "")
        self.officer = Officer(body["user"]["id"], self.channel or None)
        self.alert_id, self.reference = parse_card_value((body.get("actions") or [{}])[0].get("value"))


async def _handle(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    context: Any,
    *,
    action: str,
    doing: str,
    work: Work,
    officers_only: bool = True,
) -> None:
    await ack()
    deps = deps_of(context)
    try:
        pressed = _Pressed(deps, client, body)
    except (ValueError, KeyError, TypeError):
        logger.warning("a %s press carried no alert card value; ignored", action)
        officer = Officer(str((body.get("user") or {}).get("id", "")), (body.get("container") or {}).get("channel_id"))
        deps.tasks.spawn(
            tell(client, officer, "Sorry, that button doesn't belong to an alert I know. Nothing was changed."),
            name="unknown button",
        )
        return
    if officers_only:
        try:
            deps.roles.require_officer(pressed.officer.user)
        except NotAllowed as exc:
            deps.tasks.spawn(refuse(deps, client, pressed.officer, action, pressed.reference, str(exc)), name="refusal")
            return

    async def run() -> None:
        async with deps.alert_lock(pressed.alert_id):
            await work(pressed)

    deps.tasks.spawn(
        carry_out(
            deps,
            client,
            pressed.officer,
            action=action,
            subject=pressed.reference,
            doing=doing.format(ref=pressed.reference),
            work=run,
        ),
        name=f"{action} {pressed.reference}",
    )


async def _send(p: _Pressed) -> None:
    await p.deps.alerts.send(p.alert_id, p.officer.user)
    await start_status(p.deps, p.client, p.officer, p.alert_id, channel=p.channel, ts=p.ts)


async def _approve(p: _Pressed) -> None:
    await p.deps.alerts.approve(p.alert_id, p.officer.user)
    await refresh_preview(p.deps, p.client, p.officer, p.alert_id, p.channel, p.ts)


async def _edit(p: _Pressed) -> None:
    alert = await p.deps.alerts.get(p.reference)
    if alert.state is not AlertState.DRAFT:
        raise Conflict(f"{p.reference} is {alert.state.value} and can't be edited.")
    metadata = {
        "channel": p.channel,
        "replaces": {"id": p.alert_id, "ref": p.reference, "channel": p.channel, "ts": p.ts},
        "severity": alert.severity.value,
    }  # the form has no field for it: kept through the edit
    view = compose_modal(
        p.deps.force, metadata=metadata, form=form_from_alert(alert, p.deps.force), title=f"Edit {p.reference}"
    )
    await p.client.views_open(trigger_id=p.body["trigger_id"], view=view)


async def _discard(p: _Pressed) -> None:
    alert = await p.deps.alerts.discard(p.alert_id, p.officer.user)
    outcome = f":wastebasket: Discarded by {who(p.officer.user)}. Nothing was sent."
    await p.client.chat_update(channel=p.channel, ts=p.ts, **card_message(closed_card(alert, p.deps.force, outcome)))


async def send_pressed(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any) -> None:
    await _handle(ack, body, client, context, action="send", doing="sending {ref}", work=_send)


async def approve_pressed(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any) -> None:
    # Core decides who may approve (supervisors, never their own alert) and audits a refusal through carry_out.
    await _handle(
        ack, body, client, context, action="approve", doing="approving {ref}", work=_approve, officers_only=False
    )


async def edit_pressed(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any) -> None:
    await _handle(ack, body, client, context, action="edit", doing="opening {ref} to edit", work=_edit)


async def discard_pressed(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any) -> None:
    await _handle(ack, body, client, context, action="discard", doing="discarding {ref}", work=_discard)


# A sent alert's buttons (its card, /alert list, its report): the same modals and report as the commands.
async def _open_update(p: _Pressed) -> None:
    await open_update(p.deps, p.client, p.officer, p.body["trigger_id"], p.reference)


async def _open_resolve(p: _Pressed) -> None:
    await open_resolve(p.deps, p.client, p.officer, p.body["trigger_id"], p.reference)


async def _open_cancel(p: _Pressed) -> None:
    await open_cancel(p.deps, p.client, p.officer, p.body["trigger_id"], p.reference)


async def _report(p: _Pressed) -> None:
    await post_report(p.deps, p.client, p.officer, p.reference)


async def update_pressed(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any) -> None:
    await _handle(
        ack, body, client, context, action="open update", doing="opening the update of {ref}", work=_open_update
    )


async def resolve_pressed(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any) -> None:
    await _handle(
        ack, body, client, context, action="open resolve", doing="opening the resolution of {ref}", work=_open_resolve
    )


async def cancel_pressed(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any) -> None:
    await _handle(
        ack, body, client, context, action="open cancel", doing="opening the cancellation of {ref}", work=_open_cancel
    )


async def report_pressed(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any) -> None:
    await _handle(ack, body, client, context, action="report", doing="reporting on {ref}", work=_report)
