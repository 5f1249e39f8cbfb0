"""A local Slack Web API: the methods Lookout calls, with Slack's answers and limits.

``GET|POST /api/<method>`` takes a JSON, form-encoded or multipart body plus the
query string (slack_sdk sends JSON for chat.* and views.*, and the query string
for the rest), the token as ``Authorization: Bearer …`` or a ``token`` field,
and answers ``{"ok": true, …}`` or ``{"ok": false, "error": "…"}`` as Slack
does: HTTP 200 for API errors, 429 with ``Retry-After`` when ``chat.postMessage``
goes past about one message a second in a channel, 503 for injected faults.

It keeps every channel's messages with their threads, ephemeral messages, the
modals opened, files uploaded (files upload v2: ``files.getUploadURLExternal``
hands back a loopback ``/upload/v1/…`` URL on the stand-in itself), and every
post to a ``response_url`` (``/commands/…`` and ``/actions/…``, five uses within
thirty minutes). ``/_sandbox/…`` serves that record as JSON for tests, the
console and benchmarks in other processes.

The workspace's people and channels are in ``sandbox.slack_workspace``, Slack's
Block Kit checks in ``sandbox.slack_blocks``; simulated officers
(``sandbox.slack_users``) act towards an app's Request URL with the
``trigger_id`` and ``response_url`` this stand-in issues.

Run alone: ``python -m sandbox.slack --port 8082``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import json
import math
import mimetypes
import random
import string
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from sandbox.faults import FaultInjector
from sandbox.server import BackgroundServer, ServedStandIn, public_base_url, route_path
from sandbox.slack_blocks import MAX_MESSAGE_BLOCKS, block_problems, view_problems
from sandbox.slack_workspace import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    SANDBOX_CHANNELS,
    SANDBOX_USERS,
    TEAM_DOMAIN,
    TEAM_ID,
    TEAM_NAME,
    SandboxUser,
    bot_profile,
    user_json,
)

# Fields Slack takes as JSON-encoded strings when they travel in a form or the query string.
_JSON_FIELDS = {"blocks", "attachments", "view", "files", "metadata"}
_SCOPES = "chat:write,chat:write.public,commands,files:read,files:write,users:read,channels:history"
MAX_TEXT = 40_000
MAX_VIEW_STACK = 3


@dataclass
class SlackLimits:
    post_per_channel_per_second: float | None = 1.0  # chat.postMessage, Slack's "special" tier; None: unlimited
    post_burst: int = 3  # Slack lets "short bursts" through before it answers 429
    trigger_ttl_seconds: float = 3.0
    response_url_uses: int = 5
    response_url_ttl_seconds: float = 30 * 60


@dataclass
class SlackFaults:
    latency_seconds: float = 0.0
    server_error_share: float = 0.0  # 0..1 of Web API calls answered 503
    archived_channels: set[str] = field(default_factory=set)  # posts there fail with is_archived


@dataclass
class SlackMessage:
    """A message in a channel: the bot's (chat.postMessage, file shares, response_url) or a simulated person's."""

    channel: str
    ts: str
    text: str  # as sent
    blocks: list[dict[str, Any]] | None  # as sent
    user: str
    params: dict[str, Any]
    at: float
    thread_ts: str | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)  # reply ts, when this message starts a thread
    edits: int = 0
    deleted: bool = False

    @property
    def from_bot(self) -> bool:
        return self.user == BOT_USER_ID

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts


@dataclass
class EphemeralMessage:
    """A message only ``user`` sees (chat.postEphemeral, a command's ack text, an ephemeral response_url post)."""

    channel: str
    user: str
    message_ts: str
    text: str
    blocks: list[dict[str, Any]] | None
    params: dict[str, Any]
    at: float
    thread_ts: str | None = None
    edits: int = 0
    deleted: bool = False


@dataclass
class ViewRecord:
    """One views.open / views.push / views.update (or a submission's response_action), as Slack answered it."""

    method: str
    user_id: str
    view: dict[str, Any]  # the whole view as Slack returns it
    at: float

    @property
    def id(self) -> str:
        return self.view["id"]


@dataclass
class UploadedFile:
    id: str
    filename: str
    length: int  # as declared to files.getUploadURLExternal
    upload_key: str
    alt_txt: str | None = None
    content: bytes | None = None  # None until the upload URL received the bytes
    title: str | None = None
    completed: bool = False
    initial_comment: str | None = None
    thread_ts: str | None = None
    shares: list[tuple[str, str]] = field(default_factory=list)  # (channel, message ts)
    created: int = field(default_factory=lambda: int(time.time()))
    owner: str = BOT_USER_ID  # who uploaded it: the bot, or a person (a modal's file input)


@dataclass
class ResponseUrlPost:
    url: str
    body: dict[str, Any]
    at: float
    accepted: bool
    error: str | None = None

    @property
    def response_type(self) -> str:
        return str(self.body.get("response_type") or "ephemeral")

    @property
    def replace_original(self) -> bool:
        return _truthy(self.body.get("replace_original"))

    @property
    def text(self) -> str | None:
        return self.body.get("text")

    @property
    def blocks(self) -> list[dict[str, Any]] | None:
        return self.body.get("blocks")


@dataclass
class Interaction:
    """A request the simulated Slack client made to the app, and the app's answer."""

    kind: str  # slash_command | block_actions | view_submission | event_callback
    user_id: str
    body: dict[str, Any]  # the form fields, or the JSON payload
    status: int
    answer: str
    elapsed: float
    at: float


@dataclass
class _Trigger:
    user_id: str
    issued: float
    used: bool = False


@dataclass
class _ResponseHook:
    kind: str  # commands | actions
    user_id: str
    channel_id: str
    message_ts: str | None
    ephemeral: bool
    created: float
    uses: int = 0


@dataclass
class _Call:
    params: dict[str, Any]
    base_url: str  # as the caller reached us, so URLs we hand out work from its side


class _SlackError(Exception):
    def __init__(self, error: str, *, status: int = 200, retry_after: int | None = None, **extra: Any) -> None:
        super().__init__(error)
        self.error, self.status, self.retry_after, self.extra = error, status, retry_after, extra


class SlackStandIn(ServedStandIn):
    def __init__(
        self,
        bot_token: str = "xoxb-sandbox",
        signing_secret: str = "sandbox-signing-secret",
        *,
        limits: SlackLimits | None = None,
        faults: SlackFaults | None = None,
        seed: int = 0,
    ) -> None:
        self.bot_token = bot_token
        self.signing_secret = signing_secret
        # The bot token's scopes (Slack says them in X-OAuth-Scopes); take one away to see the app without it.
        self.scopes: set[str] = set(_SCOPES.split(","))
        self.limits = limits or SlackLimits()
        self.faults = faults or SlackFaults()
        self.users: dict[str, SandboxUser] = {u.id: u for u in SANDBOX_USERS}
        self.channels: dict[str, str] = dict(SANDBOX_CHANNELS)
        self.messages: list[SlackMessage] = []
        self.ephemeral: list[EphemeralMessage] = []
        self.views: list[ViewRecord] = []
        self.files: dict[str, UploadedFile] = {}
        self.response_url_posts: list[ResponseUrlPost] = []
        self.interactions: list[Interaction] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.rate_limited = 0
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._last_ts_us = 0
        self._by_ts: dict[tuple[str, str], SlackMessage] = {}
        self._ephemeral_by_ts: dict[tuple[str, str], EphemeralMessage] = {}
        self._buckets: dict[str, tuple[float, float]] = {}  # channel -> (tokens, when)
        self._triggers: dict[str, _Trigger] = {}
        self._hooks: dict[str, _ResponseHook] = {}
        self._open_views: dict[str, dict[str, Any]] = {}
        self._view_owners: dict[str, str] = {}
        self._stacks: dict[str, list[str]] = {}  # user -> open modal ids, root first
        self._uploads: dict[str, str] = {}  # upload key -> file id
        self._hook_numbers = itertools.count(1_000_000_001)
        self.app = FaultInjector(
            Starlette(
                routes=[
                    Route("/api/{method}", self._dispatch, methods=["GET", "POST"]),
                    Route("/upload/v1/{key}", self._receive_upload, methods=["POST"]),
                    Route("/files-pri/{team_file}/{name}", self._download_private),
                    Route("/commands/{team}/{hook}/{secret}", self._response_url, methods=["POST"]),
                    Route("/actions/{team}/{hook}/{secret}", self._response_url, methods=["POST"]),
                    Route("/_sandbox/stats", self._stats),
                    Route("/_sandbox/channels", self._channels_json),
                    Route("/_sandbox/channels/{channel}/messages", self._channel_messages_json),
                    Route("/_sandbox/ephemeral", self._ephemeral_json),
                    Route("/_sandbox/views", self._views_json),
                    Route("/_sandbox/files", self._files_json),
                    Route("/_sandbox/files/{file_id}", self._file_content),
                    Route("/_sandbox/response_urls", self._response_urls_json),
                    Route("/_sandbox/interactions", self._interactions_json),
                    Route("/_sandbox/calls", self._calls_json),
                ]
            )
        )  # latency, resets and 5xx bursts on the wire: sandbox.faults
        self._server = BackgroundServer(self.app, "Slack stand-in")

    @property
    def api_url(self) -> str:
        """What to give slack_sdk as ``base_url`` (it wants the trailing slash)."""
        return f"{self.base_url}/api/"

    # --- the workspace -------------------------------------------------------------------

    def add_channel(self, channel_id: str, name: str) -> None:
        with self._lock:
            self.channels[channel_id] = name

    def add_user(self, user: SandboxUser) -> None:
        with self._lock:
            self.users[user.id] = user

    def issue_trigger(self, user_id: str) -> str:
        """A trigger_id as Slack puts in an interaction: usable once, for ``limits.trigger_ttl_seconds``."""
        with self._lock:
            return self._issue_trigger(user_id)

    def issue_response_url(
        self, kind: str, user_id: str, channel_id: str, *, message_ts: str | None = None, ephemeral: bool = False
    ) -> str:
        """A response_url on this stand-in: ``kind`` "commands" answers in the channel, "actions" can also
        replace or delete the message at ``message_ts`` (an ephemeral one when ``ephemeral``)."""
        if kind not in {"commands", "actions"}:
            raise ValueError(f"Slack's response URLs are for commands or actions, not {kind!r}")
        with self._lock:
            path = f"/{kind}/{TEAM_ID}/{next(self._hook_numbers)}/{self._random_token(24)}"
            self._hooks[path] = _ResponseHook(kind, user_id, channel_id, message_ts, ephemeral, time.monotonic())
        return f"{self.base_url}{path}"

    def close_top_view(self, user_id: str) -> None:
        """The person closes the modal on top of their stack (Slack's Close, or Back on a pushed view)."""
        with self._lock:
            stack = self._stacks.get(user_id, [])
            if stack:
                self._close_views(user_id, stack[-1])

    def channel_name(self, channel_id: str) -> str:
        """The name Slack puts next to a channel id in payloads ("privategroup" for one it cannot name)."""
        with self._lock:
            return self.channels.get(channel_id, "privategroup")

    # --- what tests read -----------------------------------------------------------------

    def messages_in(self, channel: str, *, thread_ts: str | None = None) -> list[SlackMessage]:
        """Live messages in a channel, oldest first: all of them, or one thread (its parent and replies)."""
        with self._lock:
            return [
                m
                for m in self.messages
                if m.channel == channel
                and not m.deleted
                and (thread_ts is None or m.ts == thread_ts or m.thread_ts == thread_ts)
            ]

    def texts_in(self, channel: str, *, thread_ts: str | None = None) -> list[str]:
        return [m.text for m in self.messages_in(channel, thread_ts=thread_ts)]

    def message(self, channel: str, ts: str) -> SlackMessage | None:
        with self._lock:
            return self._by_ts.get((channel, ts))

    def ephemeral_to(self, user_id: str, *, channel: str | None = None) -> list[EphemeralMessage]:
        with self._lock:
            return [e for e in self.ephemeral if e.user == user_id and not e.deleted and channel in (None, e.channel)]

    def open_views(self, user_id: str) -> list[dict[str, Any]]:
        """The user's modal stack, root first, as Slack currently shows it."""
        with self._lock:
            return [self._open_views[v] for v in self._stacks.get(user_id, [])]

    def view(self, view_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self._open_views.get(view_id)

    def ephemeral_message(self, channel: str, message_ts: str) -> EphemeralMessage | None:
        with self._lock:
            return self._ephemeral_by_ts.get((channel, message_ts))

    def message_payload(self, channel: str, ts: str) -> dict[str, Any] | None:
        """A message as Slack's API shows it (thread summary included), or None."""
        with self._lock:
            message = self._by_ts.get((channel, ts))
            return None if message is None else self._message_json(message)

    def sent_count(self) -> int:
        with self._lock:
            return sum(1 for m in self.messages if m.from_bot)

    # --- the Web API door ----------------------------------------------------------------

    async def _dispatch(self, request: Request) -> Response:
        method = request.path_params["method"]
        handler = _METHODS.get(method)
        if handler is None:
            return _error(_SlackError("unknown_method", req_method=method))
        try:
            params = await _params(request)
        except _SlackError as exc:
            return _error(exc)
        token = _bearer_token(request) or params.pop("token", None)
        if self.faults.latency_seconds:
            await asyncio.sleep(self.faults.latency_seconds)
        with self._lock:
            self.calls.append((method, params))
            if self.faults.server_error_share and self._rng.random() < self.faults.server_error_share:
                return _error(_SlackError("service_unavailable", status=503))
            try:
                self._authenticate(token)
                result = handler(self, _Call(params, public_base_url(request)))
            except _SlackError as exc:
                if exc.status == 429:
                    self.rate_limited += 1
                return _error(exc)
        return JSONResponse({"ok": True, **result}, headers={"x-oauth-scopes": ",".join(sorted(self.scopes))})

    def _authenticate(self, token: str | None) -> None:
        if not token:
            raise _SlackError("not_authed")
        if token != self.bot_token:
            raise _SlackError("invalid_auth")

    # --- methods (called with the lock held) ------------------------------------------------

    def _auth_test(self, call: _Call) -> dict[str, Any]:
        return {
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": TEAM_NAME,
            "user": "lookout",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, call: _Call) -> dict[str, Any]:
        params = call.params
        channel = self._postable_channel(params.get("channel"))
        wait = self._throttle_post(channel, time.monotonic())
        if wait:
            raise _SlackError("ratelimited", status=429, retry_after=wait)
        text, blocks = _checked_content(params)
        thread_ts = _optional_str(params.get("thread_ts"))
        message = self._add_message(channel, text, blocks, BOT_USER_ID, params, thread_ts=thread_ts)
        return {"channel": channel, "ts": message.ts, "message": self._message_json(message)}

    def _chat_update(self, call: _Call) -> dict[str, Any]:
        params = call.params
        message = self._existing_message(params, "cant_update_message")
        if "text" not in params and "blocks" not in params:
            raise _SlackError("no_text")
        text, blocks = _checked_content(
            {"text": params.get("text", message.text), "blocks": params.get("blocks", message.blocks)}
        )
        message.text, message.blocks = text, blocks  # an empty list of blocks removes them, as in Slack
        message.edits += 1
        return {
            "channel": message.channel,
            "ts": message.ts,
            "text": message.text,
            "message": self._message_json(message),
        }

    def _chat_delete(self, call: _Call) -> dict[str, Any]:
        message = self._existing_message(call.params, "cant_delete_message")
        message.deleted = True
        return {"channel": message.channel, "ts": message.ts}

    def _chat_post_ephemeral(self, call: _Call) -> dict[str, Any]:
        params = call.params
        channel = self._postable_channel(params.get("channel"))
        user = str(params.get("user", ""))
        if user not in self.users or self.users[user].is_bot:
            raise _SlackError("user_not_in_channel")
        text, blocks = _checked_content(params)
        ephemeral = self._add_ephemeral(channel, user, text, blocks, params, _optional_str(params.get("thread_ts")))
        return {"message_ts": ephemeral.message_ts}

    def _conversations_replies(self, call: _Call) -> dict[str, Any]:
        params = call.params
        channel = self._known_channel(params.get("channel"))
        parent = self._by_ts.get((channel, str(params.get("ts", ""))))
        if parent is not None and parent.is_reply:
            parent = self._by_ts.get((channel, parent.thread_ts or ""))
        if parent is None or parent.deleted:
            raise _SlackError("thread_not_found")
        thread = [parent, *(r for r in (self._by_ts[(channel, ts)] for ts in parent.replies) if not r.deleted)]
        start = _cursor_index(params.get("cursor"))
        limit = max(1, min(_int(params.get("limit"), 1000), 1000))
        page = thread[start : start + limit]
        more = start + limit < len(thread)
        return {
            "messages": [self._message_json(m) for m in page],
            "has_more": more,
            "response_metadata": {"next_cursor": _cursor(start + limit) if more else ""},
        }

    def _users_info(self, call: _Call) -> dict[str, Any]:
        user = self.users.get(str(call.params.get("user", "")))
        if user is None:
            raise _SlackError("user_not_found")
        return {"user": user_json(user)}

    def _views_open(self, call: _Call) -> dict[str, Any]:
        user_id = self._exchange_trigger(call.params)
        sent = _checked_view(call.params.get("view"))
        view = self._new_view(sent, user_id, previous_view_id=None)
        self._stacks[user_id] = [view["id"]]
        self.views.append(ViewRecord("views.open", user_id, view, time.monotonic()))
        return {"view": view}

    def _views_push(self, call: _Call) -> dict[str, Any]:
        user_id = self._exchange_trigger(call.params)
        sent = _checked_view(call.params.get("view"))
        return {"view": self._push_view(user_id, sent, "views.push")}

    def _views_update(self, call: _Call) -> dict[str, Any]:
        params = call.params
        view_id = self._view_id_for(params)
        current = self._open_views[view_id]
        if params.get("hash") and params["hash"] != current["hash"]:
            raise _SlackError("hash_conflict")
        sent = _checked_view(params.get("view"))
        view = self._replace_view(view_id, sent)
        self.views.append(ViewRecord("views.update", self._owner_of(view_id), view, time.monotonic()))
        return {"view": view}

    def _files_get_upload_url_external(self, call: _Call) -> dict[str, Any]:
        params = call.params
        filename = str(params.get("filename") or "")
        length = _int(params.get("length"), 0)
        if not filename or length < 1:
            raise _SlackError(
                "invalid_arguments", response_metadata={"messages": ["[ERROR] filename and length are required"]}
            )
        file_id = "F" + self._random_id(10)
        key = self._random_token(32)
        self.files[file_id] = UploadedFile(file_id, filename, length, key, _optional_str(params.get("alt_txt")))
        self._uploads[key] = file_id
        return {"upload_url": f"{call.base_url}/upload/v1/{key}", "file_id": file_id}

    def _files_info(self, call: _Call) -> dict[str, Any]:
        """``files.info`` (scope files:read): a file the app may see, in Slack's file object."""
        if "files:read" not in self.scopes:
            raise _SlackError("missing_scope", needed="files:read", provided=",".join(sorted(self.scopes)))
        uploaded = self.files.get(str(call.params.get("file") or ""))
        if uploaded is None or not uploaded.completed or uploaded.content is None:
            raise _SlackError("file_not_found")
        return {
            "file": self._file_json(uploaded, call.base_url),
            "comments": [],
            "response_metadata": {"next_cursor": ""},
        }

    def person_uploads(self, user_id: str, content: bytes, filename: str) -> str:
        """A person attaches a file in a modal's file input (Slack's client uploads it): its id, not yet shared."""
        with self._lock:
            file_id = "F" + self._random_id(10)
            self.files[file_id] = UploadedFile(
                file_id, filename, len(content), self._random_token(32), content=content, completed=True, owner=user_id
            )
        return file_id

    def file_object(self, file_id: str) -> dict[str, Any]:
        """A file as a view submission's ``file_input`` state carries it."""
        with self._lock:
            return self._file_json(self.files[file_id], self.base_url)

    def _files_complete_upload_external(self, call: _Call) -> dict[str, Any]:
        params = call.params
        wanted = params.get("files")
        if not isinstance(wanted, list) or not wanted:
            raise _SlackError(
                "invalid_arguments", response_metadata={"messages": ["[ERROR] files must be a JSON array"]}
            )
        files = [self._uploaded(item) for item in wanted]
        channels = self._share_targets(params)
        thread_ts = _optional_str(params.get("thread_ts"))
        comment = _optional_str(params.get("initial_comment"))
        for uploaded, item in zip(files, wanted, strict=True):
            uploaded.title = str(item.get("title") or uploaded.filename)
            uploaded.completed, uploaded.thread_ts, uploaded.initial_comment = True, thread_ts, comment
        for channel in channels:
            self._share_files(channel, files, comment, thread_ts, params, call.base_url)
        return {"files": [self._file_json(f, call.base_url) for f in files]}

    # --- helpers (lock held) ----------------------------------------------------------------

    def _postable_channel(self, value: Any) -> str:
        channel = self._known_channel(value)
        if channel in self.faults.archived_channels:
            raise _SlackError("is_archived")
        return channel

    def _known_channel(self, value: Any) -> str:
        """A channel id from an id, a ``#name`` or a user id (a DM with the bot), as Slack accepts them."""
        wanted = str(value or "").strip()
        if wanted in self.channels:
            return wanted
        by_name = next((cid for cid, name in self.channels.items() if name == wanted.lstrip("#")), None)
        if by_name is not None:
            return by_name
        if wanted in self.users and not self.users[wanted].is_bot:
            dm = "D" + wanted[1:]
            self.channels.setdefault(dm, wanted)
            return dm
        raise _SlackError("channel_not_found")

    def _throttle_post(self, channel: str, now: float) -> int:
        """Whole seconds to wait if this post would empty the channel's token bucket, else 0."""
        rate = self.limits.post_per_channel_per_second
        if rate is None:
            return 0
        burst = max(1, self.limits.post_burst)
        tokens, since = self._buckets.get(channel, (float(burst), now))
        tokens = min(float(burst), tokens + (now - since) * rate)
        if tokens < 1.0:
            self._buckets[channel] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / rate))
        self._buckets[channel] = (tokens - 1.0, now)
        return 0

    def _next_ts(self) -> str:
        """A message ts: Unix seconds and microseconds, strictly increasing, so unique in every channel."""
        self._last_ts_us = max(int(time.time() * 1_000_000), self._last_ts_us + 1)
        return f"{self._last_ts_us // 1_000_000}.{self._last_ts_us % 1_000_000:06d}"

    def _add_message(
        self,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]] | None,
        user: str,
        params: dict[str, Any],
        *,
        thread_ts: str | None = None,
        files: list[dict[str, Any]] | None = None,
    ) -> SlackMessage:
        message = SlackMessage(
            channel, self._next_ts(), text, blocks, user, params, time.monotonic(), thread_ts, files or []
        )
        self.messages.append(message)
        self._by_ts[(channel, message.ts)] = message
        parent = self._by_ts.get((channel, thread_ts)) if thread_ts else None
        if parent is not None and parent is not message:
            parent.replies.append(message.ts)
        return message

    def _add_ephemeral(
        self,
        channel: str,
        user: str,
        text: str,
        blocks: list[dict[str, Any]] | None,
        params: dict[str, Any],
        thread_ts: str | None = None,
    ) -> EphemeralMessage:
        ephemeral = EphemeralMessage(channel, user, self._next_ts(), text, blocks, params, time.monotonic(), thread_ts)
        self.ephemeral.append(ephemeral)
        self._ephemeral_by_ts[(channel, ephemeral.message_ts)] = ephemeral
        return ephemeral

    def _existing_message(self, params: dict[str, Any], not_ours: str) -> SlackMessage:
        channel = self._known_channel(params.get("channel"))
        message = self._by_ts.get((channel, str(params.get("ts", ""))))
        if message is None or message.deleted:
            raise _SlackError("message_not_found")
        if not message.from_bot:
            raise _SlackError(not_ours)  # a bot token may only change the bot's own messages
        return message

    def _message_json(self, message: SlackMessage) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "message",
            "text": message.text,
            "user": message.user,
            "ts": message.ts,
            "team": TEAM_ID,
        }
        if message.from_bot:
            out.update(bot_id=BOT_ID, app_id=APP_ID, bot_profile=bot_profile())
        if message.blocks is not None:
            out["blocks"] = message.blocks
        if message.files:
            out.update(files=message.files, upload=True, display_as_bot=False)
        if message.edits:
            out["edited"] = {"user": message.user, "ts": message.ts}
        if message.thread_ts:
            out["thread_ts"] = message.thread_ts
        if message.is_reply:
            parent = self._by_ts.get((message.channel, message.thread_ts or ""))
            out["parent_user_id"] = parent.user if parent else message.user
        if message.replies:
            out.update(self._thread_summary(message))
        return out

    def _thread_summary(self, parent: SlackMessage) -> dict[str, Any]:
        replies = [self._by_ts[(parent.channel, ts)] for ts in parent.replies]
        live = [r for r in replies if not r.deleted]
        users = list(dict.fromkeys(r.user for r in live))
        return {
            "reply_count": len(live),
            "reply_users_count": len(users),
            "reply_users": users,
            "latest_reply": live[-1].ts if live else parent.ts,
            "is_locked": False,
            "subscribed": False,
        }

    def _issue_trigger(self, user_id: str) -> str:
        trigger_id = f"{int(time.time())}{self._rng.randrange(1000):03d}.{self._rng.randrange(10**9, 10**10)}.{self._random_hex(32)}"
        self._triggers[trigger_id] = _Trigger(user_id, time.monotonic())
        return trigger_id

    def _exchange_trigger(self, params: dict[str, Any]) -> str:
        """The user a trigger_id was issued for, spending it as Slack does (once, within the TTL)."""
        trigger_id = str(params.get("trigger_id") or params.get("interactivity_pointer") or "")
        trigger = self._triggers.get(trigger_id)
        if trigger is None:
            raise _SlackError("invalid_arguments", response_metadata={"messages": ["invalid `trigger_id`"]})
        if trigger.used:
            raise _SlackError("exchanged_trigger_id")
        if time.monotonic() - trigger.issued > self.limits.trigger_ttl_seconds:
            raise _SlackError("expired_trigger_id")
        trigger.used = True
        return trigger.user_id

    def _new_view(
        self, sent: dict[str, Any], user_id: str, *, previous_view_id: str | None, root_view_id: str | None = None
    ) -> dict[str, Any]:
        view_id = "V" + self._random_id(10)
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
            raise _SlackError("push_limit_reached")
        root = stack[0] if stack else None
        view = self._new_view(sent, user_id, previous_view_id=stack[-1] if stack else None, root_view_id=root)
        stack.append(view["id"])
        self.views.append(ViewRecord(method, user_id, view, time.monotonic()))
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
            raise _SlackError("not_found")
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
        return f"{int(time.time())}.{self._random_id(8, string.ascii_letters + string.digits)}"

    def _uploaded(self, item: Any) -> UploadedFile:
        file_id = item.get("id") if isinstance(item, dict) else None
        uploaded = self.files.get(str(file_id))
        if uploaded is None or uploaded.content is None:
            raise _SlackError("file_not_found")
        return uploaded

    def _share_targets(self, params: dict[str, Any]) -> list[str]:
        wanted = [str(params["channel_id"])] if params.get("channel_id") else []
        wanted += [c for c in str(params.get("channels") or "").split(",") if c]
        return [self._postable_channel(c) for c in dict.fromkeys(wanted)]

    def _share_files(
        self,
        channel: str,
        files: list[UploadedFile],
        comment: str | None,
        thread_ts: str | None,
        params: dict[str, Any],
        base_url: str,
    ) -> None:
        message = self._add_message(channel, comment or "", None, BOT_USER_ID, params, thread_ts=thread_ts)
        for uploaded in files:
            uploaded.shares.append((channel, message.ts))
        message.files = [self._file_json(f, base_url) for f in files]

    def _file_json(self, uploaded: UploadedFile, base_url: str) -> dict[str, Any]:
        mimetype = mimetypes.guess_type(uploaded.filename)[0] or "application/octet-stream"
        extension = uploaded.filename.rsplit(".", 1)[-1].lower() if "." in uploaded.filename else "binary"
        private = f"{base_url}/files-pri/{TEAM_ID}-{uploaded.id}/{uploaded.filename}"
        out: dict[str, Any] = {
            "id": uploaded.id,
            "created": uploaded.created,
            "timestamp": uploaded.created,
            "name": uploaded.filename,
            "title": uploaded.title or uploaded.filename,
            "mimetype": mimetype,
            "filetype": extension,
            "pretty_type": extension.upper(),
            "user": uploaded.owner,
            "user_team": TEAM_ID,
            "editable": False,
            "size": len(uploaded.content or b""),
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": bool(uploaded.shares),
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": private,
            "url_private_download": private,
            "permalink": f"https://{TEAM_DOMAIN}.slack.com/files/{BOT_USER_ID}/{uploaded.id}/{uploaded.filename}",
            "channels": list(dict.fromkeys(c for c, _ in uploaded.shares)),
            "groups": [],
            "ims": [],
            "shares": self._shares_json(uploaded),
            "comments_count": 0,
            "has_rich_preview": False,
            "file_access": "visible",
        }
        if uploaded.alt_txt:
            out["alt_txt"] = uploaded.alt_txt
        return out

    def _shares_json(self, uploaded: UploadedFile) -> dict[str, Any]:
        public: dict[str, list[dict[str, Any]]] = {}
        for channel, ts in uploaded.shares:
            share = {
                "reply_users": [],
                "reply_users_count": 0,
                "reply_count": 0,
                "ts": ts,
                "channel_name": self.channels.get(channel, channel),
                "team_id": TEAM_ID,
                "share_user_id": BOT_USER_ID,
            }
            if uploaded.thread_ts:
                share["thread_ts"] = uploaded.thread_ts
            public.setdefault(channel, []).append(share)
        return {"public": public} if public else {}

    def _random_id(self, length: int, alphabet: str = string.ascii_uppercase + string.digits) -> str:
        return "".join(self._rng.choice(alphabet) for _ in range(length))

    def _random_hex(self, length: int) -> str:
        return "".join(self._rng.choice("0123456789abcdef") for _ in range(length))

    def _random_token(self, length: int) -> str:
        return self._random_id(length, string.ascii_letters + string.digits)

    # --- the upload and download doors -----------------------------------------------------

    async def _receive_upload(self, request: Request) -> Response:
        """The upload URL: raw bytes (what slack_sdk sends) or a multipart file part (what curl -F sends)."""
        content = await _upload_bytes(request)
        with self._lock:
            file_id = self._uploads.get(request.path_params["key"])
            if file_id is None:
                return PlainTextResponse("invalid upload url", status_code=404)
            self.files[file_id].content = content
        return PlainTextResponse(f"OK - {len(content)}")

    async def _download_private(self, request: Request) -> Response:
        if _bearer_token(request) != self.bot_token:
            return Response(status_code=403)
        file_id = request.path_params["team_file"].removeprefix(f"{TEAM_ID}-")
        return self._file_bytes(file_id)

    async def _file_content(self, request: Request) -> Response:
        return self._file_bytes(request.path_params["file_id"])

    def _file_bytes(self, file_id: str) -> Response:
        with self._lock:
            uploaded = self.files.get(file_id)
        if uploaded is None or uploaded.content is None:
            return Response(status_code=404)
        media_type = mimetypes.guess_type(uploaded.filename)[0] or "application/octet-stream"
        return Response(uploaded.content, media_type=media_type)

    # --- response_url ------------------------------------------------------------------------

    async def _response_url(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"{}")
        except json.JSONDecodeError:
            body = None
        with self._lock:
            hook = self._hooks.get(route_path(request))  # keyed below the mount point, as issued
            problem = self._response_url_problem(hook, body)
            self.response_url_posts.append(
                ResponseUrlPost(
                    str(request.url), body if isinstance(body, dict) else {}, time.monotonic(), problem is None, problem
                )
            )
            if problem is not None:
                status = 400 if problem == "invalid_payload" else 404
                return PlainTextResponse(problem, status_code=status)
            assert hook is not None and isinstance(body, dict)
            hook.uses += 1
            self._apply_response(hook, body)
        return JSONResponse({"ok": True})

    def _response_url_problem(self, hook: _ResponseHook | None, body: Any) -> str | None:
        if hook is None:
            return "no_service"
        if time.monotonic() - hook.created > self.limits.response_url_ttl_seconds:
            return "expired_url"
        if hook.uses >= self.limits.response_url_uses:
            return "used_url"
        if not isinstance(body, dict):
            return "invalid_payload"
        return None

    def _apply_response(self, hook: _ResponseHook, body: dict[str, Any]) -> None:
        """What Slack shows after a response_url post: the original replaced or deleted, or a new message."""
        text, blocks = str(body.get("text") or ""), body.get("blocks") or None
        if hook.message_ts and _truthy(body.get("delete_original")):
            self._delete_original(hook)
        elif hook.message_ts and _truthy(body.get("replace_original")):
            self._replace_original(hook, text, blocks)
        elif body.get("response_type") == "in_channel":
            self._add_message(
                hook.channel_id, text, blocks, BOT_USER_ID, body, thread_ts=_optional_str(body.get("thread_ts"))
            )
        else:
            self._add_ephemeral(hook.channel_id, hook.user_id, text, blocks, body)

    def _original(self, hook: _ResponseHook) -> SlackMessage | EphemeralMessage | None:
        key = (hook.channel_id, hook.message_ts or "")
        return self._ephemeral_by_ts.get(key) if hook.ephemeral else self._by_ts.get(key)

    def _delete_original(self, hook: _ResponseHook) -> None:
        original = self._original(hook)
        if original is not None:
            original.deleted = True

    def _replace_original(self, hook: _ResponseHook, text: str, blocks: list[dict[str, Any]] | None) -> None:
        original = self._original(hook)
        if original is not None:
            original.text, original.blocks = text, blocks
            original.edits += 1

    # --- what the simulated client asks of the stand-in --------------------------------------------

    def _payload_user(self, user_id: str) -> dict[str, Any]:
        """The person as interaction payloads name them (someone not in the sandbox gets their id as name)."""
        with self._lock:
            user = self.users.get(user_id)
        name = user.name if user else user_id.lower()
        return {"id": user_id, "username": name, "name": name, "team_id": TEAM_ID}

    def _record_person_message(
        self, user_id: str, channel: str, text: str, blocks: list[dict[str, Any]], thread_ts: str | None
    ) -> SlackMessage:
        with self._lock:
            try:
                channel = self._known_channel(channel)
            except _SlackError:
                raise ValueError(f"no channel {channel!r} in the sandbox workspace (add_channel first)") from None
            return self._add_message(channel, text, blocks, user_id, {"text": text}, thread_ts=thread_ts)

    def _record_interaction(self, interaction: Interaction) -> None:
        with self._lock:
            self.interactions.append(interaction)

    def _settle_command_answer(self, user_id: str, channel_id: str, answer: httpx.Response) -> None:
        """Slack shows a slash command's ack body: JSON per its response_type, plain text as an ephemeral message."""
        if answer.status_code != 200 or not answer.content:
            return
        body = _json_or_none(answer)
        if body is None:
            body = {"text": answer.text}
        if not isinstance(body, dict) or not (body.get("text") or body.get("blocks")):
            return
        with self._lock:
            text, blocks = str(body.get("text") or ""), body.get("blocks") or None
            if body.get("response_type") == "in_channel":
                self._add_message(channel_id, text, blocks, BOT_USER_ID, body)
            else:
                self._add_ephemeral(channel_id, user_id, text, blocks, body)

    def _settle_view_submission(self, user_id: str, view_id: str, answer: httpx.Response) -> None:
        """Apply the app's ``response_action`` as Slack does; a bare 200 closes the modal, errors keep it open."""
        if answer.status_code != 200:
            return
        body = _json_or_none(answer)
        action = body.get("response_action") if isinstance(body, dict) else None
        with self._lock:
            try:
                self._apply_response_action(user_id, view_id, action, body)
            except _SlackError:
                pass  # Slack shows the person an error and leaves the modal as it was

    def _apply_response_action(self, user_id: str, view_id: str, action: Any, body: Any) -> None:
        if action == "errors":
            return
        if action == "update" and view_id in self._open_views:
            view = self._replace_view(view_id, _checked_view(body.get("view")))
            self.views.append(ViewRecord("response_action:update", user_id, view, time.monotonic()))
        elif action == "push":
            self._push_view(user_id, _checked_view(body.get("view")), "response_action:push")
        else:
            self._close_views(user_id, view_id, all_of_them=action == "clear")

    # --- inspection routes (JSON for other processes) ----------------------------------------------

    async def _stats(self, request: Request) -> JSONResponse:
        with self._lock:
            bot_messages = [m for m in self.messages if m.from_bot]
            same = Counter((m.channel, m.thread_ts, m.text, json.dumps(m.blocks, sort_keys=True)) for m in bot_messages)
            return JSONResponse(
                {
                    "sent": len(bot_messages),
                    "rate_limited": self.rate_limited,
                    "channels": len({m.channel for m in bot_messages}),
                    "duplicates": sum(n - 1 for n in same.values() if n > 1),
                    "ephemeral": len(self.ephemeral),
                    "views": len(self.views),
                    "files": sum(1 for f in self.files.values() if f.completed),
                    "response_url_posts": len(self.response_url_posts),
                    "interactions": len(self.interactions),
                    "first_at": bot_messages[0].at if bot_messages else None,
                    "last_at": bot_messages[-1].at if bot_messages else None,
                }
            )

    async def _channels_json(self, request: Request) -> JSONResponse:
        with self._lock:
            counts = Counter(m.channel for m in self.messages if not m.deleted)
            return JSONResponse(
                [{"id": cid, "name": name, "messages": counts[cid]} for cid, name in self.channels.items()]
            )

    async def _channel_messages_json(self, request: Request) -> JSONResponse:
        channel, thread_ts = request.path_params["channel"], request.query_params.get("thread_ts")
        with self._lock:
            chosen = [
                m
                for m in self.messages
                if m.channel == channel
                and not m.deleted
                and (thread_ts is None or m.ts == thread_ts or m.thread_ts == thread_ts)
            ]
            return JSONResponse([self._message_json(m) for m in chosen])

    async def _ephemeral_json(self, request: Request) -> JSONResponse:
        user = request.query_params.get("user")
        with self._lock:
            return JSONResponse(
                [
                    {
                        "channel": e.channel,
                        "user": e.user,
                        "message_ts": e.message_ts,
                        "text": e.text,
                        "blocks": e.blocks,
                        "thread_ts": e.thread_ts,
                        "edits": e.edits,
                    }
                    for e in self.ephemeral
                    if not e.deleted and user in (None, e.user)
                ]
            )

    async def _views_json(self, request: Request) -> JSONResponse:
        with self._lock:
            return JSONResponse(
                {
                    "history": [{"method": r.method, "user_id": r.user_id, "view": r.view} for r in self.views],
                    "open": {user: stack for user, stack in self._stacks.items() if stack},
                }
            )

    async def _files_json(self, request: Request) -> JSONResponse:
        with self._lock:
            return JSONResponse(
                [
                    {
                        "id": f.id,
                        "filename": f.filename,
                        "title": f.title,
                        "length": f.length,
                        "size": None if f.content is None else len(f.content),
                        "completed": f.completed,
                        "initial_comment": f.initial_comment,
                        "thread_ts": f.thread_ts,
                        "shares": [{"channel": c, "ts": ts} for c, ts in f.shares],
                        "content_url": f"/_sandbox/files/{f.id}",
                    }
                    for f in self.files.values()
                ]
            )

    async def _response_urls_json(self, request: Request) -> JSONResponse:
        with self._lock:
            return JSONResponse(
                [
                    {"url": p.url, "body": p.body, "accepted": p.accepted, "error": p.error}
                    for p in self.response_url_posts
                ]
            )

    async def _interactions_json(self, request: Request) -> JSONResponse:
        with self._lock:
            return JSONResponse(
                [
                    {
                        "kind": i.kind,
                        "user_id": i.user_id,
                        "body": i.body,
                        "status": i.status,
                        "answer": i.answer,
                        "elapsed": i.elapsed,
                    }
                    for i in self.interactions
                ]
            )

    async def _calls_json(self, request: Request) -> JSONResponse:
        method = request.query_params.get("method")
        with self._lock:
            return JSONResponse([{"method": m, "params": p} for m, p in self.calls if method in (None, m)])


# The methods Lookout uses, by Slack's name.
_METHODS = {
    "auth.test": SlackStandIn._auth_test,
    "chat.postMessage": SlackStandIn._chat_post_message,
    "chat.update": SlackStandIn._chat_update,
    "chat.delete": SlackStandIn._chat_delete,
    "chat.postEphemeral": SlackStandIn._chat_post_ephemeral,
    "conversations.replies": SlackStandIn._conversations_replies,
    "users.info": SlackStandIn._users_info,
    "views.open": SlackStandIn._views_open,
    "views.push": SlackStandIn._views_push,
    "views.update": SlackStandIn._views_update,
    "files.getUploadURLExternal": SlackStandIn._files_get_upload_url_external,
    "files.completeUploadExternal": SlackStandIn._files_complete_upload_external,
    "files.info": SlackStandIn._files_info,
}


# --- checking what apps send ------------------------------------------------------------------------


def _checked_content(params: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]] | None]:
    text = params.get("text")
    text = "" if text is None else str(text)
    blocks = params.get("blocks")
    if blocks in (None, "", []):
        blocks = None
    if blocks is None and not text and not params.get("attachments"):
        raise _SlackError("no_text")
    if len(text) > MAX_TEXT:
        raise _SlackError("msg_too_long")
    if blocks is not None:
        problems = block_problems(blocks, "/blocks", MAX_MESSAGE_BLOCKS)
        if problems:
            raise _SlackError(
                "invalid_blocks", errors=problems, response_metadata={"messages": [f"[ERROR] {p}" for p in problems]}
            )
    return text, blocks


def _checked_view(view: Any) -> dict[str, Any]:
    problems = view_problems(view)
    if problems:
        raise _SlackError("invalid_arguments", response_metadata={"messages": [f"[ERROR] {p}" for p in problems]})
    return dict(view)


# --- the wire -----------------------------------------------------------------------------------------


async def _params(request: Request) -> dict[str, Any]:
    """The method's arguments from the query string and a JSON, form-encoded or multipart body."""
    params: dict[str, Any] = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    if request.method == "POST":
        if "json" in content_type:
            try:
                data = json.loads(await request.body() or b"{}")
            except json.JSONDecodeError:
                raise _SlackError("invalid_json") from None
            if not isinstance(data, dict):
                raise _SlackError("invalid_json")
            params.update(data)
        elif "multipart/form-data" in content_type:
            form = await request.form()
            params.update((k, v) for k, v in form.multi_items() if isinstance(v, str))
        else:
            body = await request.body()
            params.update(parse_qsl(body.decode("utf-8", "replace")) if body else [])
    for name in _JSON_FIELDS & params.keys():
        if isinstance(params[name], str) and params[name]:
            try:
                params[name] = json.loads(params[name])
            except json.JSONDecodeError:
                raise _SlackError(
                    "invalid_arguments", response_metadata={"messages": [f"[ERROR] {name} is not valid JSON"]}
                ) from None
    return params


async def _upload_bytes(request: Request) -> bytes:
    if "multipart/form-data" in request.headers.get("content-type", ""):
        form = await request.form()
        part = next((v for _, v in form.multi_items() if isinstance(v, UploadFile)), None)
        return await part.read() if part is not None else b""
    return await request.body()


def _bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def _error(exc: _SlackError) -> JSONResponse:
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None
    return JSONResponse({"ok": False, "error": exc.error, **exc.extra}, status_code=exc.status, headers=headers)


def _json_or_none(answer: httpx.Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return None


def _optional_str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _cursor(index: int) -> str:
    """A page cursor, base64 like Slack's so that clients treat it as opaque."""
    return base64.b64encode(f"next_index:{index}".encode()).decode()


def _cursor_index(cursor: Any) -> int:
    try:
        text = base64.b64decode(str(cursor or ""), validate=True).decode()
    except ValueError:
        return 0
    return _int(text.removeprefix("next_index:"), 0) if text.startswith("next_index:") else 0


def main() -> None:
    parser = argparse.ArgumentParser(description="A local Slack Web API stand-in.")
    parser.add_argument("--port", type=int, default=8082)
    parser.add_argument("--token", default="xoxb-sandbox")
    parser.add_argument("--signing-secret", default="sandbox-signing-secret")
    parser.add_argument(
        "--rate", type=float, default=1.0, help="chat.postMessage per second per channel; 0 = unlimited"
    )
    parser.add_argument("--burst", type=int, default=3, help="posts a channel may burst before 429")
    args = parser.parse_args()
    import uvicorn

    limits = SlackLimits(post_per_channel_per_second=args.rate or None, post_burst=args.burst)
    stand_in = SlackStandIn(args.token, args.signing_secret, limits=limits)
    uvicorn.run(stand_in.app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
