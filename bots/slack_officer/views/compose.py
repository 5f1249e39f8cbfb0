"""The compose modal submitted: check every field, save the draft, then post its preview.

Mistakes go back inline on their fields (``response_action: errors``) within
Slack's 3 s. Looking up a postcode, address or street may take longer (the
geocoder allows one request a second): if it has not answered within the
budget, the modal says it is looking, the lookup carries on after the answer,
and the form comes back with the problems marked, or the preview appears.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack_officer.alert_cards import post_preview, replace_draft
from bots.slack_officer.blocks.compose import (
    HEADLINE,
    ComposeForm,
    block_errors,
    compose_modal,
    read_form,
)
from bots.slack_officer.blocks.follow_up import notice_modal
from bots.slack_officer.compose import checked_request
from bots.slack_officer.deps import OfficerDeps, deps_of
from bots.slack_officer.photos import photo_for
from bots.slack_officer.replies import SORRY, Officer, carry_out
from core.errors import InvalidInput, LookoutError, NotAllowed
from core.model import Alert
from core.services.alerts import AlertRequest

logger = logging.getLogger("lookout.slack")


def metadata_of(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def compose_title(metadata: dict[str, Any]) -> str:
    replaced = metadata.get("replaces")
    return f"Edit {replaced['ref']}" if isinstance(replaced, dict) and replaced.get("ref") else "New alert"


async def compose_submitted(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient, context: Any
) -> None:
    deps = deps_of(context)
    metadata = metadata_of(view)
    officer = Officer(body["user"]["id"], metadata.get("channel"))
    try:
        deps.roles.require_officer(officer.user)
    except NotAllowed as exc:
        await ack(response_action="errors", errors={HEADLINE: str(exc)})
        deps.tasks.spawn(deps.audit.refused(officer.user, "draft", "", reason=str(exc)), name="audit refusal")
        return
    form = read_form(view["state"]["values"])
    form.severity = str(metadata.get("severity") or "")
    lookup = asyncio.ensure_future(_checked_with_photo(deps, client, form, officer, metadata))
    try:
        request = await asyncio.wait_for(asyncio.shield(lookup), deps.ack_budget)
    except TimeoutError:
        await ack(
            response_action="update",
            view=notice_modal(
                compose_title(metadata),
                ":mag: Looking up the place… The preview will appear in the channel in a moment; "
                "if something needs correcting, the form comes back here with it marked.",
            ),
        )
        deps.tasks.spawn(
            _after_slow_lookup(deps, client, officer, lookup, view["id"], form, metadata), name="compose lookup"
        )
        return
    except InvalidInput as exc:
        await ack(response_action="errors", errors=block_errors(exc.errors, deps.force))
        return
    except Exception:
        logger.exception("checking the compose form of %s failed", officer.user)
        await ack(response_action="errors", errors={HEADLINE: SORRY.format(doing="checking the form")})
        return
    try:
        draft = await deps.alerts.draft(request, officer.user)
    except InvalidInput as exc:
        await ack(response_action="errors", errors=block_errors(exc.errors, deps.force))
        return
    except LookoutError as exc:
        await ack(response_action="errors", errors={HEADLINE: str(exc)})
        return
    except Exception:
        logger.exception("saving the draft of %s failed", officer.user)
        await ack(response_action="errors", errors={HEADLINE: SORRY.format(doing="saving the draft")})
        return
    await ack()  # closes the modal; the preview follows in the channel
    deps.tasks.spawn(_preview(deps, client, officer, draft, metadata), name=f"preview {draft.reference}")


async def _checked_with_photo(
    deps: OfficerDeps, client: AsyncWebClient, form: ComposeForm, officer: Officer, metadata: dict[str, Any]
) -> AlertRequest:
    """The request with its photo: the place lookup and the photo's download run side by side, and every
    mistake in either comes back at once."""
    replaced = metadata.get("replaces")
    replaces = replaced.get("id") if isinstance(replaced, dict) and isinstance(replaced.get("id"), int) else None
    request, photo = await asyncio.gather(
        checked_request(
            form, alerts=deps.alerts, force=deps.force, geocoder=deps.geocoder, author=officer.user, now=deps.clock()
        ),
        photo_for(client, form.photo_files, alerts=deps.alerts, replaces=replaces),
        return_exceptions=True,
    )
    errors: dict[str, str] = {}
    for outcome in (request, photo):
        if isinstance(outcome, InvalidInput):
            errors.update(outcome.errors)
        elif isinstance(outcome, BaseException):
            raise outcome
    if errors:
        raise InvalidInput(errors)
    assert isinstance(request, AlertRequest)
    request.photo = photo  # type: ignore[assignment]
    return request


async def _preview(
    deps: OfficerDeps, client: AsyncWebClient, officer: Officer, draft: Alert, metadata: dict[str, Any]
) -> None:
    async def work() -> None:
        await post_preview(deps, client, officer, draft.id)  # type: ignore[arg-type]
        replaced = metadata.get("replaces")
        if isinstance(replaced, dict) and replaced.get("id"):
            await replace_draft(deps, client, officer, replaced, draft.reference or "")

    await carry_out(
        deps,
        client,
        officer,
        action="preview",
        subject=draft.reference or "",
        doing=f"preparing the preview of {draft.reference}",
        work=work,
    )


async def _after_slow_lookup(
    deps: OfficerDeps,
    client: AsyncWebClient,
    officer: Officer,
    lookup: asyncio.Future[AlertRequest],
    view_id: str,
    form: ComposeForm,
    metadata: dict[str, Any],
) -> None:
    """The lookup finished after Slack had its answer: show the form again with the problems, or go on to the preview."""

    async def show_form(problems: dict[str, str]) -> None:
        view = compose_modal(deps.force, metadata=metadata, form=form, title=compose_title(metadata), problems=problems)
        await client.views_update(view_id=view_id, view=view)

    async def work() -> None:
        try:
            request = await lookup
        except InvalidInput as exc:
            await show_form(block_errors(exc.errors, deps.force))
            return
        except Exception:
            # Put the officer's form back before carry_out logs this and apologises: nothing typed is lost.
            await show_form({HEADLINE: SORRY.format(doing="looking up the place")})
            raise
        draft = await deps.alerts.draft(request, officer.user)
        await client.views_update(
            view_id=view_id,
            view=notice_modal(
                compose_title(metadata),
                f":white_check_mark: *{draft.reference}* is saved as a draft; its preview is in the channel.",
            ),
        )
        await _preview(deps, client, officer, draft, metadata)

    await carry_out(deps, client, officer, action="draft", subject="", doing="looking up the place", work=work)
