"""``/alert`` (the compose modal), ``/alert list|update A-…|cancel A-…|report A-…|stats|help``.

Slack wants the command answered within 3 s and a modal opened within 3 s
of the trigger: each branch acknowledges first and does the rest (database
reads, views.open, response_url posts) in the background.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack_officer.blocks.common import esc, section
from bots.slack_officer.blocks.compose import compose_modal
from bots.slack_officer.blocks.listing import (
    LIST_LIMIT,
    alert_list,
    help_message,
    stats_message,
)
from bots.slack_officer.deps import OfficerDeps, deps_of
from bots.slack_officer.follow_ups import open_cancel, open_resolve, open_update, post_report
from bots.slack_officer.replies import Officer, carry_out
from core.errors import NotAllowed

logger = logging.getLogger("lookout.slack")

COMMAND = "/alert"


async def alert_command(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond, context: Any
) -> None:
    deps = deps_of(context)
    officer = Officer(body["user_id"], body.get("channel_id"))
    verb, _, rest = (body.get("text") or "").strip().partition(" ")
    verb, rest = verb.lower(), rest.strip()
    if verb in ("help", "?"):
        text, blocks = help_message(deps.force, officer=deps.roles.is_officer(officer.user))
        await ack(text=text, blocks=blocks)
        return
    try:
        deps.roles.require_officer(officer.user)
    except NotAllowed as exc:
        await ack(text=str(exc))
        deps.tasks.spawn(
            deps.audit.refused(officer.user, f"/alert {verb or 'new'}".strip(), rest, reason=str(exc)),
            name="audit refusal",
        )
        return
    trigger = body["trigger_id"]
    if verb in ("", "new"):
        await ack()
        deps.tasks.spawn(_open_compose(deps, client, officer, trigger), name="open compose modal")
    elif verb == "list":
        await ack()
        deps.tasks.spawn(_list(deps, client, officer, respond), name="alert list")
    elif verb == "stats":
        await ack()
        deps.tasks.spawn(_stats(deps, client, officer, respond), name="alert stats")
    elif verb in ("update", "cancel", "resolve") and rest:
        await ack()
        opener = {"update": _open_update, "cancel": _open_cancel, "resolve": _open_resolve}[verb]
        deps.tasks.spawn(opener(deps, client, officer, trigger, rest.split()[0].upper()), name=f"open {verb} modal")
    elif verb == "report" and rest:
        await ack()
        deps.tasks.spawn(_report(deps, client, officer, rest.split()[0].upper()), name="alert report")
    elif verb in ("update", "cancel", "resolve", "report"):
        await ack(text=f"Which alert? For example `/alert {verb} A-2026-000123` (`/alert list` shows recent ones).")
    else:
        text, blocks = help_message(deps.force, officer=True)
        shown = esc(verb[:40]).replace("`", "'")
        await ack(
            text=f"Sorry, I don't know `/alert {shown}`. " + text,
            blocks=[section(f"Sorry, I don't know `/alert {shown}`."), *blocks],
        )


async def _open_compose(deps: OfficerDeps, client: AsyncWebClient, officer: Officer, trigger: str) -> None:
    async def work() -> None:
        await client.views_open(
            trigger_id=trigger, view=compose_modal(deps.force, metadata={"channel": officer.channel})
        )

    await carry_out(deps, client, officer, action="open compose", subject="", doing="opening the alert form", work=work)


async def _list(deps: OfficerDeps, client: AsyncWebClient, officer: Officer, respond: AsyncRespond) -> None:
    async def work() -> None:
        text, blocks = alert_list(await deps.alerts.recent(LIST_LIMIT), deps.force)
        await respond(text=text, blocks=blocks, response_type="ephemeral")

    await carry_out(deps, client, officer, action="list", subject="", doing="listing alerts", work=work)


async def _stats(deps: OfficerDeps, client: AsyncWebClient, officer: Officer, respond: AsyncRespond) -> None:
    async def work() -> None:
        text, blocks = stats_message(await deps.stats.summary(), deps.force)
        await respond(text=text, blocks=blocks, response_type="ephemeral")

    await carry_out(deps, client, officer, action="stats", subject="", doing="counting", work=work)


async def _open_update(
    deps: OfficerDeps, client: AsyncWebClient, officer: Officer, trigger: str, reference: str
) -> None:
    await carry_out(
        deps,
        client,
        officer,
        action="open update",
        subject=reference,
        doing=f"opening the update of {reference}",
        work=lambda: open_update(deps, client, officer, trigger, reference),
    )


async def _open_resolve(
    deps: OfficerDeps, client: AsyncWebClient, officer: Officer, trigger: str, reference: str
) -> None:
    await carry_out(
        deps,
        client,
        officer,
        action="open resolve",
        subject=reference,
        doing=f"opening the resolution of {reference}",
        work=lambda: open_resolve(deps, client, officer, trigger, reference),
    )


async def _open_cancel(
    deps: OfficerDeps, client: AsyncWebClient, officer: Officer, trigger: str, reference: str
) -> None:
    await carry_out(
        deps,
        client,
        officer,
        action="open cancel",
        subject=reference,
        doing=f"opening the cancellation of {reference}",
        work=lambda: open_cancel(deps, client, officer, trigger, reference),
    )


async def _report(deps: OfficerDeps, client: AsyncWebClient, officer: Officer, reference: str) -> None:
    await carry_out(
        deps,
        client,
        officer,
        action="report",
        subject=reference,
        doing=f"reporting on {reference}",
        work=lambda: post_report(deps, client, officer, reference),
    )
