"""Slack's modals as the stand-in keeps them: trigger_ids, each person's stack of open views, and every view call.

``views.open`` spends a ``trigger_id`` (usable once, within the stand-in's
``limits.trigger_ttl_seconds``) and starts the person's stack; ``views.push``
adds to it, three deep at most; ``views.update`` replaces a view found by id or
``external_id``, refusing a stale ``hash``. A view submission's
``response_action`` (``errors``, ``update``, ``push``, ``clear``, or none) is
applied as Slack applies it. ``SlackViews`` is not thread-safe: the stand-in
(``sandbox.slack``) holds its lock around every call.
"""

from __future__ import annotations

import random
import string
import time
from dataclasses import dataclass
from typing import Any

from sandbox.slack_records import ViewRecord
from sandbox.slack_wire import SlackError, checked_view, random_hex, random_id
from sandbox.slack_workspace import APP_ID, BOT_ID, TEAM_ID

MAX_VIEW_STACK = 3


@dataclass
class _Trigger:
    user_id: str
    issued: float
    used: bool = False


class SlackViews:
    """The modals of one workspace: who has which open, the triggers issued, and every views.* answer."""

    def __init__(self, rng: random.Random) -> None:
        self.records: list[ViewRecord] = []  # every views.* call and response_action, oldest first
        self._rng = rng  # the stand-in's, so that a seed draws the same ids
        self._triggers: dict[str, _Trigger] = {}
        self._open_views: dict[str, dict[str, Any]] = {}
        self._view_owners: dict[str, str] = {}
        self._stacks: dict[str, list[str]] = {}  # user -> open modal ids, root first

    # --- the Web API methods ----------------------------------------------------------------

    def views_open(self, params: dict[str, Any], trigger_ttl_seconds: float) -> dict[str, Any]:
        user_id = self._exchange_trigger(params, trigger_ttl_seconds)
        sent = checked_view(params.get("view"))
        view = self._new_view(sent, user_id, previous_view_id=None)
        self._stacks[user_id] = [view["id"]]
        self.records.append(ViewRecord("views.open", user_id, view, time.monotonic()))
        return {"view": view}

    def views_push(self, params: dict[str, Any], trigger_ttl_seconds: float) -> dict[str, Any]:
        user_id = self._exchange_trigger(params, trigger_ttl_seconds)
        sent = checked_view(params.get("view"))
        return {"view": self._push_view(user_id, sent, "views.push")}

    def views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        view_id = self._view_id_for(params)
        current = self._open_views[view_id]
        if params.get("hash") and params["hash"] != current["hash"]:
            raise SlackError("hash_conflict")
        sent = checked_view(params.get("view"))
        view = self._replace_view(view_id, sent)
        self.records.append(ViewRecord("views.update", self._owner_of(view_id), view, time.monotonic()))
        return {"view": view}

    # --- what people do, and what tests read --------------------------------------------------

    def issue_trigger(self, user_id: str) -> str:
        trigger_id = f"{int(time.time())}{self._rng.randrange(1000):03d}.{self._rng.randrange(10**9, 10**10)}.{random_hex(self._rng, 32)}"
        self._triggers[trigger_id] = _Trigger(user_id, time.monotonic())
        return trigger_id

    def close_top_view(self, user_id: str) -> None:
        stack = self._stacks.get(user_id, [])
        if stack:
            self._close_views(user_id, stack[-1])

    def open_views(self, user_id: str) -> list[dict[str, Any]]:
        return [self._open_views[v] for v in self._stacks.get(user_id, [])]

    def view(self, view_id: str) -> dict[str, Any] | None:
        return self._open_views.get(view_id)

    def open_stacks(self) -> dict[str, list[str]]:
        """Every person with a modal open: their stack of view ids, root first."""
        return {user: stack for user, stack in self._stacks.items() if stack}

    def apply_response_action(self, user_id: str, view_id: str, action: Any, body: Any) -> None:
        if action == "errors":
            return
        if action == "update" and view_id in self._open_views:
            view = self._replace_view(view_id, checked_view(body.get("view")))
            self.records.append(ViewRecord("response_action:update", user_id, view, time.monotonic()))
        elif action == "push":
            self._push_view(user_id, checked_view(body.get("view")), "response_action:push")
        else:
            self._close_views(user_id, view_id, all_of_them=action == "clear")

    # --- helpers ------------------------------------------------------------------------------

    def _exchange_trigger(self, params: dict[str, Any], ttl_seconds: float) -> str:
        """The user a trigger_id was issued for, spending it as Slack does (once, within the TTL)."""
        trigger_id = str(params.get("trigger_id") or params.get("interactivity_pointer") or "")
        trigger = self._triggers.get(trigger_id)
        if trigger is None:
            raise SlackError("invalid_arguments", response_metadata={"messages": ["invalid `trigger_id`"]})
        if trigger.used:
            raise SlackError("exchanged_trigger_id")
        if time.monotonic() - trigger.issued > ttl_seconds:
            raise SlackError("expired_trigger_id")
        trigger.used = True
        return trigger.user_id

    def _new_view(
        self, sent: dict[str, Any], user_id: str, *, previous_view_id: str | None, root_view_id: str | None = None
    ) -> dict[str, Any]:
        view_id = "V" + random_id(self._rng, 10)
        view = {
            "type": "modal",
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "clear_on_close": False,
            "notify_on_close": False,
            "close": None,
            "submit": None,
            **sent,
            "id": view_id,
            "team_id": TEAM_ID,
            "state": {"values": {}},
            "hash": self._view_hash(),
            "previous_view_id": previous_view_id,
            "root_view_id": root_view_id or view_id,
            "app_id": APP_ID,
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
        }
        self._open_views[view_id] = view
        self._view_owners[view_id] = user_id
        return view

    def _push_view(self, user_id: str, sent: dict[str, Any], method: str) -> dict[str, Any]:
        stack = self._stacks.setdefault(user_id, [])
        if len(stack) >= MAX_VIEW_STACK:
            raise SlackError("push_limit_reached")
        root = stack[0] if stack else None
        view = self._new_view(sent, user_id, previous_view_id=stack[-1] if stack else None, root_view_id=root)
        stack.append(view["id"])
        self.records.append(ViewRecord(method, user_id, view, time.monotonic()))
        return view

    def _replace_view(self, view_id: str, sent: dict[str, Any]) -> dict[str, Any]:
        current = self._open_views[view_id]
        kept = {
            k: current[k]
            for k in ("id", "team_id", "previous_view_id", "root_view_id", "app_id", "app_installed_team_id", "bot_id")
        }
        view = {
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            **sent,
            **kept,
            "state": {"values": {}},
            "hash": self._view_hash(),
        }
        self._open_views[view_id] = view
        return view

    def _view_id_for(self, params: dict[str, Any]) -> str:
        view_id = params.get("view_id")
        if not view_id and params.get("external_id"):
            view_id = next(
                (v for v, body in self._open_views.items() if body.get("external_id") == params["external_id"]), None
            )
        if not view_id or view_id not in self._open_views:
            raise SlackError("not_found")
        return str(view_id)

    def _owner_of(self, view_id: str) -> str:
        return self._view_owners.get(view_id, "")

    def _close_views(self, user_id: str, view_id: str, *, all_of_them: bool = False) -> None:
        stack = self._stacks.get(user_id, [])
        closing = list(stack) if all_of_them else [view_id]
        for closed in closing:
            if closed in stack:
                stack.remove(closed)
            self._open_views.pop(closed, None)

    def _view_hash(self) -> str:
        return f"{int(time.time())}.{random_id(self._rng, 8, string.ascii_letters + string.digits)}"
