"""Each Slack request handled once, however often Slack sends it.

Slack retries a request it thinks failed (``X-Slack-Retry-Num``), and bolt
does not de-duplicate, so a slow answer could raise an alert twice. Around
bolt's handling (in the route, since bolt's global middleware does not wrap
its listeners), the request's own identity (the ``trigger_id`` Slack issues
for each command, button press and submission; the ``event_id`` of an event)
goes through the inbound-once service (core/services/inbound_once.py) shared
by every web process; a request seen before is answered 200 and dropped. A
request whose handling failed (raised, or answered 5xx) is forgotten again, so
Slack's retry of it is handled.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from starlette.responses import Response

from core.services.inbound_once import ALREADY_HANDLED, InboundOnce

logger = logging.getLogger("lookout.slack")

SOURCE = "slack"
_INTERACTIVE = {"block_actions", "view_submission", "view_closed", "shortcut", "message_action"}


def parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    """The request as bolt reads it: a slash command's form, an interaction's ``payload``, or an event's JSON."""
    try:
        text = raw.decode("utf-8")
        if "application/json" in content_type:
            data = json.loads(text)
            return data if isinstance(data, dict) else {}
        form = {key: values[0] for key, values in parse_qs(text).items()}
        if "payload" in form:
            payload = json.loads(form["payload"])
            return payload if isinstance(payload, dict) else {}
        return form
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return {}


def request_key(body: dict[str, Any]) -> str | None:
    """What identifies this request among all Slack sends, or None for requests that need no guarding."""
    if body.get("command") and body.get("trigger_id"):
        return f"command:{body['trigger_id']}"
    kind = body.get("type")
    if kind in _INTERACTIVE:
        if body.get("trigger_id"):
            return f"{kind}:{body['trigger_id']}"
        user = (body.get("user") or {}).get("id", "")
        actions = body.get("actions") or [{}]
        view = body.get("view") or {}
        return f"{kind}:{user}:{actions[0].get('action_ts', '')}:{view.get('id', '')}:{view.get('hash', '')}"
    if kind == "event_callback" and body.get("event_id"):
        return f"event:{body['event_id']}"
    return None


async def handle_once(inbound: InboundOnce, key: str | None, handle: Callable[[], Awaitable[Response]]) -> Response:
    """Run ``handle`` unless the request ``key`` was handled (or is being handled) already."""
    if key is None:
        return await handle()
    response = await inbound.handle(SOURCE, key, handle, failed=lambda answer: answer.status_code >= 500)
    if response is ALREADY_HANDLED:
        logger.info("Slack sent a %s again; it was handled already", key.split(":", 1)[0])
        return Response(status_code=200)
    return response  # type: ignore[return-value]
