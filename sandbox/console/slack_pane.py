"""The console's Slack pane: officers acting through Slack's Request URL, and the workspace as Slack shows it.

Slash commands, button presses and selections, modal submissions and channel
messages go to the app's ``/slack/events`` signed with ``v0=`` HMAC, sent by
``SimulatedSlackClient``; what the app does (messages, threads, ephemeral
messages, modals, files) is read from the Slack stand-in's records.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal, overload

import httpx

from sandbox.console.inputs import AppUnreachable, BadInput, NotReady
from sandbox.slack import SlackStandIn
from sandbox.slack_records import EphemeralMessage, SlackMessage
from sandbox.slack_users import SimulatedSlackClient

MAX_MESSAGES = 200  # per channel, newest kept: the demo's tips channel can grow long
MAX_VALUE = 3000
MAX_CHOICES = 100
_COMMAND = re.compile(r"^/[a-z0-9_-]{1,31}$")
_ID = re.compile(r"^[A-Za-z0-9._:-]{1,255}$")
# How Slack reports an input the person left empty, by element type.
_EMPTY_STATE: dict[str, tuple[str, Any]] = {
    "plain_text_input": ("value", None),
    "static_select": ("selected_option", None),
    "external_select": ("selected_option", None),
    "radio_buttons": ("selected_option", None),
    "multi_static_select": ("selected_options", []),
    "checkboxes": ("selected_options", []),
    "datepicker": ("selected_date", None),
    "timepicker": ("selected_time", None),
    "file_input": ("files", []),
    "users_select": ("selected_user", None),
    "conversations_select": ("selected_conversation", None),
    "channels_select": ("selected_channel", None),
    "number_input": ("value", None),
    "email_text_input": ("value", None),
    "url_text_input": ("value", None),
}


class SlackPane:
    def __init__(self, stand_in: SlackStandIn, request_url: Callable[[], str | None]) -> None:
        self.stand_in = stand_in
        self._request_url = request_url

    # --- what an officer does -----------------------------------------------------------------

    async def command(self, user_id: str, command: str, text: str, channel_id: str) -> dict[str, Any]:
        self._person(user_id)
        self._channel(channel_id)
        if not _COMMAND.match(command):
            raise BadInput("command: a slash command is a / and a word, like /alert")
        return await self._call(lambda slack: slack.slash_command(user_id, command, text, channel_id))

    async def message(self, user_id: str, channel_id: str, text: str, thread_ts: str | None) -> dict[str, Any]:
        self._person(user_id)
        self._channel(channel_id)
        if thread_ts is not None and self.stand_in.message(channel_id, thread_ts) is None:
            raise BadInput(f"thread_ts: there is no message {thread_ts} in that channel")
        return await self._call(lambda slack: slack.message_event(user_id, channel_id, text, thread_ts=thread_ts))

    async def action(self, user_id: str, action: Mapping[str, Any]) -> dict[str, Any]:
        """A button press or a choice, on a message (``channel`` + ``message_ts``) or in a modal (``view_id``)."""
        self._person(user_id)
        action_id = _identifier(action, "action_id")
        block_id = _identifier(action, "block_id", required=False)
        kind = _identifier(action, "type", required=False) or "button"
        value = _value(action.get("value"), "value")
        view_id = _identifier(action, "view_id", required=False)
        if view_id is not None:
            view = self._open_view(user_id, view_id)
            values = _state(action.get("values"), view.get("blocks") or [])
            return await self._call(
                lambda slack: slack.block_action(
                    user_id, action_id, value, view_id=view_id, block_id=block_id, action_type=kind, values=values
                )
            )
        channel_id = self._channel(_identifier(action, "channel"))
        message_ts = _identifier(action, "message_ts")
        if (
            self.stand_in.message(channel_id, message_ts) is None
            and self.stand_in.ephemeral_message(channel_id, message_ts) is None
        ):
            raise BadInput(f"message_ts: there is no message {message_ts} in that channel")
        return await self._call(
            lambda slack: slack.block_action(
                user_id,
                action_id,
                value,
                channel_id=channel_id,
                message_ts=message_ts,
                block_id=block_id,
                action_type=kind,
            )
        )

    async def submit(self, user_id: str, view_id: str, raw_values: Any) -> dict[str, Any]:
        self._person(user_id)
        view = self._open_view(user_id, view_id)
        values = _state(raw_values, view.get("blocks") or [])
        outcome = await self._call(lambda slack: slack.view_submission(user_id, view_id, values))
        body = outcome.pop("json", None)
        if isinstance(body, dict) and body.get("response_action") == "errors" and isinstance(body.get("errors"), dict):
            outcome["errors"] = {str(k): str(v) for k, v in body["errors"].items()}
        return outcome

    def attach(self, user_id: str, content: bytes, name: str) -> dict[str, Any]:
        """A file picked in a modal's file input: Slack's client uploads it as the person; its id comes back."""
        self._person(user_id)
        return {"file_id": self.stand_in.person_uploads(user_id, content, name)}

    def close(self, user_id: str) -> dict[str, Any]:
        self._person(user_id)
        self.stand_in.close_top_view(user_id)
        return {"ok": True}

    async def _call(self, act: Callable[[SimulatedSlackClient], Any]) -> dict[str, Any]:
        url = self._request_url()
        if not url:
            raise NotReady(
                "the sandbox has no app URL, so there is no Slack Request URL to call (start it with --app-url)"
            )
        try:
            async with SimulatedSlackClient(self.stand_in, url) as slack:
                answer: httpx.Response = await act(slack)
        except httpx.TimeoutException:
            raise AppUnreachable(
                f"the app did not answer within 3 s, so Slack gives up (operation_timeout) ({url})"
            ) from None
        except httpx.HTTPError as exc:
            raise AppUnreachable(f"the app's Request URL did not answer: {type(exc).__name__} ({url})") from None
        try:
            body = answer.json()
        except ValueError:
            body = None
        return {"status": answer.status_code, "ok": answer.is_success, "answer": answer.text[:2000], "json": body}

    def _person(self, user_id: str) -> None:
        user = self.stand_in.users.get(user_id)
        if user is None or user.is_bot:
            raise BadInput(f"user: {user_id!r} is not a person in the sandbox workspace")

    def _channel(self, channel_id: str) -> str:
        if channel_id not in self.stand_in.channels:
            raise BadInput(f"channel: {channel_id!r} is not a channel in the sandbox workspace")
        return channel_id

    def _open_view(self, user_id: str, view_id: str) -> dict[str, Any]:
        view = next((v for v in self.stand_in.open_views(user_id) if v.get("id") == view_id), None)
        if view is None:
            raise BadInput(f"view_id: {view_id!r} is not open for this person")
        return view

    # --- what the page shows ---------------------------------------------------------------------

    def snapshot(self, user_id: str, channel_id: str) -> dict[str, Any]:
        stand_in = self.stand_in
        people = [u for u in stand_in.users.values() if not u.is_bot]
        names = {u.id: u.real_name for u in stand_in.users.values()}
        if user_id not in {u.id for u in people}:
            user_id = people[0].id
        if channel_id not in stand_in.channels:
            channel_id = next(iter(stand_in.channels))
        messages = stand_in.messages_in(channel_id)
        replies: dict[str, list[dict[str, Any]]] = {}
        for message in messages:
            if message.is_reply:
                replies.setdefault(message.thread_ts or "", []).append(_message_json(message, names))
        ephemeral = [_ephemeral_json(e) for e in stand_in.ephemeral_to(user_id, channel=channel_id)]
        for item in ephemeral:
            if item["thread_ts"]:
                replies.setdefault(item["thread_ts"], []).append(item)
        top = [
            {**_message_json(m, names), "replies": sorted(replies.get(m.ts, []), key=lambda r: float(r["ts"]))}
            for m in messages
            if not m.is_reply
        ][-MAX_MESSAGES:]
        top += [item for item in ephemeral if not item["thread_ts"]]
        top.sort(key=lambda item: float(item["ts"]))
        views = stand_in.open_views(user_id)
        counts: dict[str, int] = {}
        for message in list(stand_in.messages):
            if not message.deleted:
                counts[message.channel] = counts.get(message.channel, 0) + 1
        return {
            "user": user_id,
            "people": [{"id": u.id, "name": u.name, "real_name": u.real_name, "title": u.title} for u in people],
            "channels": [
                {"id": cid, "name": name, "count": counts.get(cid, 0)} for cid, name in dict(stand_in.channels).items()
            ],
            "channel": channel_id,
            "messages": top,
            "modal": views[-1] if views else None,
            "modal_depth": len(views),
            "interactions": [
                {"kind": i.kind, "status": i.status, "elapsed": round(i.elapsed, 3)}
                for i in list(stand_in.interactions)
                if i.user_id == user_id
            ][-5:],
            "request_url": self._request_url() or "",
        }


def _message_json(message: SlackMessage, names: Mapping[str, str]) -> dict[str, Any]:
    return {
        "ts": message.ts,
        "user": message.user,
        "user_name": names.get(message.user, message.user),
        "bot": message.from_bot,
        "text": message.text,
        "blocks": message.blocks,
        "thread_ts": message.thread_ts,
        "edited": message.edits > 0,
        "ephemeral": False,
        "files": [
            {
                "id": f.get("id"),
                "name": f.get("name"),
                "title": f.get("title"),
                "image": str(f.get("mimetype", "")).startswith("image/"),
                "url": f"/_console/api/slack/files/{f.get('id')}",
            }
            for f in message.files
        ],
    }


def _ephemeral_json(message: EphemeralMessage) -> dict[str, Any]:
    return {
        "ts": message.message_ts,
        "user": "",
        "user_name": "Lookout",
        "bot": True,
        "text": message.text,
        "blocks": message.blocks,
        "thread_ts": message.thread_ts,
        "edited": message.edits > 0,
        "ephemeral": True,
        "files": [],
        "replies": [],
    }


@overload
def _identifier(data: Mapping[str, Any], name: str, *, required: Literal[True] = ...) -> str: ...
@overload
def _identifier(data: Mapping[str, Any], name: str, *, required: Literal[False]) -> str | None: ...
def _identifier(data: Mapping[str, Any], name: str, *, required: bool = True) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise BadInput(f"{name}: required")
        return None
    if not isinstance(value, str) or not _ID.match(value):
        raise BadInput(f"{name}: must be an id of letters, digits and . _ : -")
    return value


def _value(value: Any, where: str) -> Any:
    """A choice as the page sends it: a string, a list of strings (multi-selects, checkboxes), or nothing."""
    if value is None or isinstance(value, str):
        if isinstance(value, str) and len(value) > MAX_VALUE:
            raise BadInput(f"{where}: at most {MAX_VALUE} characters")
        return value
    if (
        isinstance(value, list)
        and len(value) <= MAX_CHOICES
        and all(isinstance(v, str) and len(v) <= MAX_VALUE for v in value)
    ):
        return value
    raise BadInput(f"{where}: must be a string, a list of strings, or null")


def _state(raw: Any, blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The modal's input state from ``{block_id: {action_id: value}}``; empty inputs as Slack reports them."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise BadInput("values: must be an object of {block_id: {action_id: value}}")
    kinds = dict(_element_kinds(blocks))
    state: dict[str, dict[str, Any]] = {}
    for block_id, actions in raw.items():
        if not isinstance(block_id, str) or not isinstance(actions, dict):
            raise BadInput("values: must be an object of {block_id: {action_id: value}}")
        for action_id, value in actions.items():
            checked = _value(value, f"values.{block_id}.{action_id}")
            kind = kinds.get((block_id, str(action_id)), "plain_text_input")
            if checked is None or (checked == "" and kind in _EMPTY_STATE):
                key, empty = _EMPTY_STATE.get(kind, ("value", None))
                checked = {"type": kind, key: empty}
            state.setdefault(block_id, {})[str(action_id)] = checked
    return state


def _element_kinds(blocks: list[dict[str, Any]]) -> Iterator[tuple[tuple[str, str], str]]:
    """((block_id, action_id), element type) for every interactive element, with Slack's made-up block ids."""
    for index, block in enumerate(blocks):
        if not isinstance(block, dict):
            continue
        block_id = str(block.get("block_id") or f"b{index}")
        elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
        elements += [block[key] for key in ("element", "accessory") if isinstance(block.get(key), dict)]
        for element in elements:
            if isinstance(element, dict) and element.get("action_id"):
                yield (block_id, str(element["action_id"])), str(element.get("type") or "")
