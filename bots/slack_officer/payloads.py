"""The shapes of Slack's requests that bolt and Lookout's listeners rely on.

A correctly signed request can still be malformed (a Slack change, a bug in a
proxy, a forged request with a leaked secret). Anything that does not have the
fields every listener reads is answered 400 here, before bolt, rather than
failing inside a listener with a 500.
"""

from __future__ import annotations

from typing import Any

from bots.inbound_json import holds_lone_surrogates

_INTERACTIONS = ("block_actions", "view_submission", "view_closed", "shortcut", "message_action", "block_suggestion")


def problem_with(body: dict[str, Any]) -> str | None:
    """What is wrong with the request's shape, or None if listeners can read it."""
    if holds_lone_surrogates(body):  # bolt would hand the listeners text no database or platform can encode
        return "text that is not valid Unicode (a lone surrogate)"
    if "command" in body:
        return _command_problem(body)
    kind = body.get("type")
    if kind in _INTERACTIONS:
        return _interaction_problem(body)
    if kind == "url_verification":
        return None if isinstance(body.get("challenge"), str) else "url_verification without a challenge"
    if kind == "event_callback":
        return None if isinstance(body.get("event"), dict) else "event_callback without an event"
    return "not a slash command, an interaction or an event"


def _command_problem(body: dict[str, Any]) -> str | None:
    for field in ("command", "user_id", "trigger_id"):
        if not isinstance(body.get(field), str) or not body[field]:
            return f"slash command without {field}"
    if not body["command"].startswith("/"):
        return "slash command name does not start with /"
    return None


def _interaction_problem(body: dict[str, Any]) -> str | None:
    user = body.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str) or not user["id"]:
        return "interaction without a user"
    if "view" in body and not isinstance(body["view"], dict):  # bolt reads any view it is given, even a null one
        return "interaction whose view is not an object"
    for field in ("container", "channel", "message", "team"):
        if field in body and body[field] is not None and not isinstance(body[field], dict):
            return f"interaction whose {field} is not an object"
    actions = body.get("actions")
    if actions is not None and not (
        isinstance(actions, list) and all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions)
    ):
        return "interaction with malformed actions"
    if body["type"] in ("view_submission", "view_closed"):
        view = body.get("view")
        # bolt reads the view's type and callback_id to route it: without them it raises instead of answering.
        if not isinstance(view, dict) or not all(
            isinstance(view.get(key), str) and view[key] for key in ("type", "callback_id")
        ):
            return "view interaction without a view type and callback_id"
    if body["type"] == "block_actions" and not actions:
        return "block_actions without actions"
    return None
