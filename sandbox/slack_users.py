"""Simulated Slack users: officers acting in Slack's client, as requests signed and sent to an app's Request URL.

``SimulatedSlackClient`` plays Slack towards the app: slash commands, button
presses, modal submissions and thread replies, signed with ``v0=`` HMAC-SHA256
as Slack signs them, each carrying a fresh ``trigger_id`` (valid 3 s, once) and
``response_url`` issued by the Slack stand-in (``sandbox.slack``), which also
shows what Slack would show after the app's answer.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from sandbox.slack import SlackStandIn
from sandbox.slack_blocks import elements_of
from sandbox.slack_records import Interaction
from sandbox.slack_workspace import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    OFFICERS_CHANNEL_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    VERIFICATION_TOKEN,
)


class SimulatedSlackClient:
    """Plays Slack towards an app's Request URL, with triggers and response URLs issued by ``stand_in``.

    Every request is signed with the stand-in's signing secret as Slack signs
    it; each method returns the app's HTTP answer, and the exchange is kept in
    ``stand_in.interactions``. Slack gives up on an app that has not answered
    within 3 s, so ``timeout`` defaults to that. ``transport`` lets a test
    drive an ASGI app in-process (``httpx.ASGITransport``).
    """

    def __init__(
        self,
        stand_in: SlackStandIn,
        request_url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 3.0,
    ) -> None:
        self._stand_in = stand_in
        self.request_url = request_url
        self._http = httpx.AsyncClient(transport=transport, timeout=timeout)
        self._event_numbers = itertools.count(1)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> SimulatedSlackClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # --- what a person does in Slack ---------------------------------------------------------

    async def slash_command(
        self, user_id: str, command: str, text: str = "", channel_id: str = OFFICERS_CHANNEL_ID
    ) -> httpx.Response:
        stand_in = self._stand_in
        fields = {
            "token": VERIFICATION_TOKEN,
            "team_id": TEAM_ID,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel_id,
            "channel_name": stand_in.channel_name(channel_id),
            "user_id": user_id,
            "user_name": stand_in._payload_user(user_id)["name"],
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": stand_in.issue_response_url("commands", user_id, channel_id),
            "trigger_id": stand_in.issue_trigger(user_id),
        }
        answer = await self._deliver(
            "slash_command", user_id, fields, urlencode(fields), "application/x-www-form-urlencoded"
        )
        stand_in._settle_command_answer(user_id, channel_id, answer)
        return answer

    async def block_action(
        self,
        user_id: str,
        action_id: str,
        value: str | None = None,
        *,
        channel_id: str | None = None,
        message_ts: str | None = None,
        view_id: str | None = None,
        block_id: str | None = None,
        action_type: str = "button",
        values: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> httpx.Response:
        """Press a button (or choose an option) on a message (``channel_id`` + ``message_ts``) or in a modal (``view_id``).

        The element is looked up by ``action_id`` in the message's or view's blocks, so the payload carries its
        real block_id, text and style; ``values`` is the modal's input state, as for ``view_submission``.
        """
        if view_id is not None:
            payload, blocks = self._in_view(user_id, view_id, values or {})
        elif channel_id is not None and message_ts is not None:
            payload, blocks = self._on_message(user_id, channel_id, message_ts, values or {})
        else:
            raise ValueError("a block action happens on a message (channel_id and message_ts) or in a view (view_id)")
        found_block, element = _find_element(blocks, action_id, block_id)
        payload["actions"] = [_action_json(action_id, block_id or found_block, value, element, action_type)]
        return await self._deliver_payload("block_actions", user_id, payload)

    async def view_submission(
        self,
        user_id: str,
        view_id: str,
        values: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        private_metadata: str | None = None,
        callback_id: str | None = None,
    ) -> httpx.Response:
        """Submit a modal; ``values`` is ``{block_id: {action_id: value}}``, shaped per element as Slack sends it.

        The app's answer is then applied as Slack would: a bare 200 closes the modal, ``response_action``
        "errors" keeps it open, "update" / "push" / "clear" change the user's modal stack.
        """
        view = self._view_with_state(view_id, values or {}, callback_id)
        if private_metadata is not None:
            view["private_metadata"] = private_metadata
        if callback_id is not None:
            view["callback_id"] = callback_id
        payload = {**self._envelope("view_submission", user_id), "view": view, "response_urls": []}
        answer = await self._deliver_payload("view_submission", user_id, payload)
        self._stand_in._settle_view_submission(user_id, view_id, answer)
        return answer

    async def message_event(
        self, user_id: str, channel_id: str, text: str, *, thread_ts: str | None = None
    ) -> httpx.Response:
        """A person posts in a channel (or replies in a thread): the message joins the channel, then the event goes out."""
        message = self._stand_in._record_person_message(user_id, channel_id, text, _rich_text_blocks(text), thread_ts)
        event: dict[str, Any] = {
            "client_msg_id": str(uuid.uuid4()),
            "type": "message",
            "text": text,
            "user": user_id,
            "ts": message.ts,
            "team": TEAM_ID,
            "blocks": message.blocks,
            "channel": message.channel,
            "event_ts": message.ts,
            "channel_type": "im" if message.channel.startswith("D") else "channel",
        }
        if thread_ts:
            parent = self._stand_in.message(message.channel, thread_ts)
            event.update(thread_ts=thread_ts, parent_user_id=parent.user if parent else BOT_USER_ID)
        body = {
            "token": VERIFICATION_TOKEN,
            "team_id": TEAM_ID,
            "context_team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{next(self._event_numbers):09d}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": TEAM_ID,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        return await self._deliver("event_callback", user_id, body, json.dumps(body), "application/json")

    # --- the wire ------------------------------------------------------------------------------

    async def post_signed(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        signing_secret: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """POST ``body`` as Slack would; an old ``timestamp`` or another ``signing_secret`` makes a request the app must refuse.

        ``headers`` adds e.g. ``X-Slack-Retry-Num`` / ``X-Slack-Retry-Reason`` to play Slack's retries.
        """
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        verifier = SignatureVerifier(signing_secret or self._stand_in.signing_secret)
        signed = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": verifier.generate_signature(timestamp=stamp, body=body) or "",
            **(headers or {}),
        }
        return await self._http.post(self.request_url, content=body.encode(), headers=signed)

    async def _deliver_payload(self, kind: str, user_id: str, payload: dict[str, Any]) -> httpx.Response:
        body = urlencode({"payload": json.dumps(payload)})
        return await self._deliver(kind, user_id, payload, body, "application/x-www-form-urlencoded")

    async def _deliver(
        self, kind: str, user_id: str, recorded: dict[str, Any], body: str, content_type: str
    ) -> httpx.Response:
        started = time.monotonic()
        answer = await self.post_signed(body, content_type)
        elapsed = time.monotonic() - started
        self._stand_in._record_interaction(
            Interaction(kind, user_id, recorded, answer.status_code, answer.text, elapsed, started)
        )
        return answer

    # --- payloads ---------------------------------------------------------------------------------

    def _envelope(self, kind: str, user_id: str) -> dict[str, Any]:
        return {
            "type": kind,
            "user": self._stand_in._payload_user(user_id),
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "trigger_id": self._stand_in.issue_trigger(user_id),
            "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def _view_with_state(
        self, view_id: str, values: Mapping[str, Mapping[str, Any]], callback_id: str | None
    ) -> dict[str, Any]:
        view = dict(self._stand_in.view(view_id) or _unknown_view(view_id, callback_id))
        blocks = view.get("blocks") or []
        files = {
            block_id: {
                action_id: {"type": "file_input", "files": [self._stand_in.file_object(f) for f in value]}
                if isinstance(value, list)
                and (_find_element(blocks, action_id, block_id)[1] or {}).get("type") == "file_input"
                else value
                for action_id, value in actions.items()
            }
            for block_id, actions in values.items()
        }
        view["state"] = {"values": _state_values(blocks, files)}
        return view

    def attach_file(self, user_id: str, content: bytes, filename: str) -> str:
        """The person picks a file in a modal's file input: Slack's client uploads it; submit its id in ``values``
        (``{"photo": {"value": [file_id]}}``) and the submission carries Slack's file object."""
        return self._stand_in.person_uploads(user_id, content, filename)

    def _in_view(
        self, user_id: str, view_id: str, values: Mapping[str, Mapping[str, Any]]
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        view = self._view_with_state(view_id, values, None)
        payload = {
            **self._envelope("block_actions", user_id),
            "container": {"type": "view", "view_id": view_id},
            "view": view,
            "state": view["state"],
        }
        return payload, view.get("blocks") or []

    def _on_message(
        self, user_id: str, channel_id: str, message_ts: str, values: Mapping[str, Mapping[str, Any]]
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Where the button was: the channel, the message (Slack leaves out an ephemeral one) and a response_url."""
        stand_in = self._stand_in
        ephemeral = stand_in.ephemeral_message(channel_id, message_ts)
        message = None if ephemeral else stand_in.message_payload(channel_id, message_ts)
        blocks = (ephemeral.blocks if ephemeral else (message or {}).get("blocks")) or []
        payload = {
            **self._envelope("block_actions", user_id),
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel_id,
                "is_ephemeral": ephemeral is not None,
            },
            "channel": {"id": channel_id, "name": stand_in.channel_name(channel_id)},
            "state": {"values": _state_values(blocks, values)},
            "response_url": stand_in.issue_response_url(
                "actions", user_id, channel_id, message_ts=message_ts, ephemeral=ephemeral is not None
            ),
        }
        if message is not None:
            payload["message"] = message
        return payload, blocks


# --- payload shapes ------------------------------------------------------------------------------


def _find_element(
    blocks: list[dict[str, Any]], action_id: str, block_id: str | None
) -> tuple[str, dict[str, Any] | None]:
    """The block and element carrying ``action_id`` (Slack names a block when the app did not)."""
    for index, block in enumerate(blocks):
        for _, element in elements_of(block):
            if element.get("action_id") == action_id and block_id in (None, block.get("block_id")):
                return str(block.get("block_id") or f"b{index}"), element
    return block_id or "b0", None


def _action_json(
    action_id: str, block_id: str, value: str | None, element: dict[str, Any] | None, action_type: str
) -> dict[str, Any]:
    kind = str((element or {}).get("type") or action_type)
    action: dict[str, Any] = {
        "type": kind,
        "action_id": action_id,
        "block_id": block_id,
        "action_ts": f"{time.time():.6f}",
    }
    if kind == "button":
        action["text"] = (element or {}).get("text") or {
            "type": "plain_text",
            "text": value or action_id,
            "emoji": True,
        }
        if value is not None:
            action["value"] = value
        if element and element.get("style"):
            action["style"] = element["style"]
    else:
        action.update(_state_entry(kind, value, element))  # a select reports its choice as input state does
    return action


def _state_values(blocks: list[dict[str, Any]], values: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """``{block_id: {action_id: value}}`` as Slack reports input state: shaped by each element's type."""
    state: dict[str, Any] = {}
    for block_id, actions in values.items():
        for action_id, value in actions.items():
            _, element = _find_element(blocks, action_id, block_id)
            entry = (
                value
                if isinstance(value, dict)
                else _state_entry(str((element or {}).get("type") or "plain_text_input"), value, element)
            )
            state.setdefault(block_id, {})[action_id] = entry
    return state


def _state_entry(kind: str, value: Any, element: dict[str, Any] | None) -> dict[str, Any]:
    if kind in {"static_select", "external_select", "radio_buttons"}:
        return {"type": kind, "selected_option": _option(value, element)}
    if kind in {"multi_static_select", "checkboxes"}:
        chosen = value if isinstance(value, list) else [value]
        return {"type": kind, "selected_options": [_option(v, element) for v in chosen]}
    single = {
        "datepicker": "selected_date",
        "timepicker": "selected_time",
        "datetimepicker": "selected_date_time",
        "users_select": "selected_user",
        "conversations_select": "selected_conversation",
        "channels_select": "selected_channel",
    }
    if kind in single:
        return {"type": kind, single[kind]: value}
    return {"type": kind, "value": value}


def _option(value: Any, element: dict[str, Any] | None) -> dict[str, Any]:
    """The option object Slack echoes back: the element's own option when it has one with this value."""
    options = list((element or {}).get("options") or [])
    for group in (element or {}).get("option_groups") or []:
        options.extend(group.get("options") or [])
    known = next((o for o in options if isinstance(o, dict) and o.get("value") == value), None)
    return known or {"text": {"type": "plain_text", "text": str(value), "emoji": True}, "value": value}


def _unknown_view(view_id: str, callback_id: str | None) -> dict[str, Any]:
    """A stand-in for a view the stand-in never opened, so tests can submit made-up modals."""
    return {
        "id": view_id,
        "team_id": TEAM_ID,
        "type": "modal",
        "blocks": [],
        "private_metadata": "",
        "callback_id": callback_id or "",
        "state": {"values": {}},
        "hash": f"{int(time.time())}.sandbox",
        "title": {"type": "plain_text", "text": "Modal"},
        "clear_on_close": False,
        "notify_on_close": False,
        "close": None,
        "submit": None,
        "previous_view_id": None,
        "root_view_id": view_id,
        "app_id": APP_ID,
        "external_id": "",
        "app_installed_team_id": TEAM_ID,
        "bot_id": BOT_ID,
    }


def _rich_text_blocks(text: str) -> list[dict[str, Any]]:
    """The blocks Slack's own client attaches to what a person types."""
    return [
        {
            "type": "rich_text",
            "block_id": "sbx",
            "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
        }
    ]
