"""The compose modal's "Start from a template": choosing one redraws the form filled in from the force's template.

The select is an input with ``dispatch_action``, so Slack sends the choice at
once; the modal is redrawn with ``views.update`` (its ``hash`` guards against a
modal that changed meanwhile). What the officer had typed that the template does
not say (incident number, where, expiry, contact) is kept.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack_officer.blocks.compose import apply_template, compose_modal, read_form
from bots.slack_officer.deps import deps_of
from bots.slack_officer.replies import Officer, carry_out, refuse
from bots.slack_officer.views.compose import compose_title, metadata_of
from core.errors import NotAllowed

logger = logging.getLogger("lookout.slack")


async def template_chosen(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any) -> None:
    await ack()
    deps = deps_of(context)
    view = body.get("view") or {}
    metadata = metadata_of(view)
    officer = Officer(str((body.get("user") or {}).get("id", "")), metadata.get("channel"))
    chosen = (body.get("actions") or [{}])[0].get("selected_option")
    key = str(chosen.get("value") or "") if isinstance(chosen, dict) else ""
    template = deps.force.templates.get(key)
    if template is None or not view.get("id"):
        logger.warning(
            "a template choice %r on view %r matched no template of the force; ignored", key[:40], view.get("id")
        )
        return
    try:
        deps.roles.require_officer(officer.user)
    except NotAllowed as exc:
        deps.tasks.spawn(refuse(deps, client, officer, "template", key, str(exc)), name="refusal")
        return
    state = view.get("state")
    values = state.get("values") if isinstance(state, dict) else None
    form = read_form(values if isinstance(values, dict) else {})
    filled = apply_template(form, key, template)
    redrawn = compose_modal(deps.force, metadata=metadata, form=form, title=compose_title(metadata), filled=filled)

    async def work() -> None:
        try:
            await client.views_update(view_id=view["id"], hash=view.get("hash"), view=redrawn)
        except SlackApiError as exc:
            if exc.response.get("error") not in ("hash_conflict", "not_found"):
                raise
            # The officer changed or closed the form meanwhile: their newer choice stands.
            logger.info(
                "the compose form %s changed before the %s template was filled in; left as it is", view["id"], key
            )

    deps.tasks.spawn(
        carry_out(
            deps,
            client,
            officer,
            action="template",
            subject=key,
            doing="filling in the form from the template",
            work=work,
        ),
        name=f"template {key}",
    )
