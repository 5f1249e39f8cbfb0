"""The update, cancel and resolve modals submitted.

The text is checked while Slack waits, so mistakes appear on their fields;
the update or cancellation itself (which queues a message to everyone the
alert reached) runs after the answer, and its status message follows in the
channel, kept current like the original's.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack_officer.alert_cards import post_update_for_approval, redraw_status, start_status
from bots.slack_officer.blocks.follow_up import (
    MESSAGE,
    REASON,
    read_message,
    read_reason,
    read_update,
    update_errors,
)
from bots.slack_officer.deps import OfficerDeps, deps_of
from bots.slack_officer.replies import Officer, carry_out
from bots.slack_officer.views.compose import metadata_of
from core.errors import InvalidInput, NotAllowed
from core.model import AlertState
from core.services.alerts import MAX_CONTACT, MAX_HEADLINE, SendResult, clean_text

logger = logging.getLogger("lookout.slack")
MAX_UPDATE_MESSAGE = 3000
MAX_REASON = 500
MAX_RESOLUTION = 1000


async def update_submitted(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient, context: Any
) -> None:
    deps = deps_of(context)
    metadata = metadata_of(view)
    officer = Officer(body["user"]["id"], metadata.get("channel"))
    reference = str(metadata.get("ref") or "")
    if not await _allowed(ack, deps, officer, "update", reference, MESSAGE):
        return
    values = read_update(view["state"]["values"])
    errors: dict[str, str] = {}
    for name, limit in (("headline", MAX_HEADLINE), ("message", MAX_UPDATE_MESSAGE), ("contact", MAX_CONTACT)):
        try:
            clean_text(values[name], name, limit)
        except InvalidInput as exc:
            errors.update(exc.errors)
    if errors:
        await ack(response_action="errors", errors=update_errors(errors))
        return
    await ack()

    async def work() -> None:
        result = await deps.alerts.update(
            reference, officer.user, message=values["message"], headline=values["headline"], contact=values["contact"]
        )
        if result.alert.state is AlertState.DRAFT:  # the original needed approval, so its update does too
            await post_update_for_approval(deps, client, officer, result.alert.id)  # type: ignore[arg-type]
            return
        await start_status(deps, client, officer, result.alert.id, channel=officer.channel)  # type: ignore[arg-type]

    deps.tasks.spawn(
        carry_out(deps, client, officer, action="update", subject=reference, doing=f"updating {reference}", work=work),
        name=f"update {reference}",
    )


async def cancel_submitted(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient, context: Any
) -> None:
    await _closing_submitted(
        ack,
        body,
        view,
        client,
        context,
        action="cancel",
        doing="cancelling",
        field=REASON,
        read=read_reason,
        limit=MAX_REASON,
        close=lambda deps, reference, officer, reason: deps.alerts.cancel(reference, officer, reason=reason),
    )


async def resolve_submitted(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient, context: Any
) -> None:
    await _closing_submitted(
        ack,
        body,
        view,
        client,
        context,
        action="resolve",
        doing="resolving",
        field=MESSAGE,
        read=read_message,
        limit=MAX_RESOLUTION,
        close=lambda deps, reference, officer, message: deps.alerts.resolve(reference, officer, message=message),
    )


async def _closing_submitted(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: Any,
    *,
    action: str,
    doing: str,
    field: str,
    read: Callable[[dict[str, Any]], str],
    limit: int,
    close: Callable[[OfficerDeps, str, str, str], Awaitable[SendResult]],
) -> None:
    """A cancellation or a resolution: the officer's words (optional, ``field``) checked while Slack waits, then the
    alert closed after the answer and its status message started in the channel."""
    deps = deps_of(context)
    metadata = metadata_of(view)
    officer = Officer(body["user"]["id"], metadata.get("channel"))
    reference = str(metadata.get("ref") or "")
    if not await _allowed(ack, deps, officer, action, reference, field):
        return
    words = read(view["state"]["values"])
    if words.strip():
        try:
            clean_text(words, field, limit)
        except InvalidInput as exc:
            await ack(response_action="errors", errors={field: exc.errors[field]})
            return
    await ack()

    async def work() -> None:
        result = await close(deps, reference, officer.user, words)
        await start_status(deps, client, officer, result.alert.id, channel=officer.channel)  # type: ignore[arg-type]
        await redraw_status(deps, client, result.alert.original_id)  # type: ignore[arg-type]

    deps.tasks.spawn(
        carry_out(deps, client, officer, action=action, subject=reference, doing=f"{doing} {reference}", work=work),
        name=f"{action} {reference}",
    )


async def _allowed(ack: AsyncAck, deps: OfficerDeps, officer: Officer, action: str, reference: str, block: str) -> bool:
    try:
        deps.roles.require_officer(officer.user)
    except NotAllowed as exc:
        await ack(response_action="errors", errors={block: str(exc)})
        deps.tasks.spawn(deps.audit.refused(officer.user, action, reference, reason=str(exc)), name="audit refusal")
        return False
    return True
