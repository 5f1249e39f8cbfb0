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

This module holds the stand-in itself: its routes, the Web API door (auth,
injected faults, dispatch), the chat.*, conversations.replies and users.info
methods, channels and the post rate, and what the simulated client asks of it.
Beside it: its settings and records (``sandbox.slack_records``), the channels'
messages and threads (``sandbox.slack_messages``), modals
(``sandbox.slack_views``), files (``sandbox.slack_files``), response URLs
(``sandbox.slack_response_urls``), the ``/_sandbox`` JSON
(``sandbox.slack_console``), and how calls are read, checked and refused
(``sandbox.slack_wire``). The workspace's people and channels are in
``sandbox.slack_workspace``, Slack's Block Kit checks in ``sandbox.slack_blocks``;
simulated officers (``sandbox.slack_users``) act towards an app's Request URL
with the ``trigger_id`` and ``response_url`` this stand-in issues.

Run alone: ``python -m sandbox.slack --port 8082``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from sandbox.faults import FaultInjector
from sandbox.server import BackgroundServer, ServedStandIn, public_base_url, route_path
from sandbox.slack_console import SlackConsole
from sandbox.slack_files import SlackFiles, file_response
from sandbox.slack_messages import MessageLog
from sandbox.slack_records import (
    EphemeralMessage,
    Interaction,
    SlackFaults,
    SlackLimits,
    SlackMessage,
)
from sandbox.slack_response_urls import ResponseUrls
from sandbox.slack_views import SlackViews
from sandbox.slack_wire import (
    SlackError,
    bearer_token,
    checked_content,
    cursor,
    cursor_index,
    error_response,
    int_or,
    json_or_none,
    optional_str,
    request_params,
    upload_bytes,
)
from sandbox.slack_workspace import (
    BOT_ID,
    BOT_USER_ID,
    SANDBOX_CHANNELS,
    SANDBOX_USERS,
    TEAM_DOMAIN,
    TEAM_ID,
    TEAM_NAME,
    SandboxUser,
    user_json,
)

_SCOPES = "chat:write,chat:write.public,commands,files:read,files:write,users:read,channels:history"


@dataclass
class _Call:
    params: dict[str, Any]
    base_url: str  # as the caller reached us, so URLs we hand out work from its side


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
        self.interactions: list[Interaction] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.rate_limited = 0
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._buckets: dict[str, tuple[float, float]] = {}  # channel -> (tokens, when)
        self._log = MessageLog()
        self._response_urls = ResponseUrls(self._rng, self._log)
        self._modals = SlackViews(self._rng)
        self._files = SlackFiles(self._rng, self.channels, self._log)
        # What tests and the console read, kept by the objects above (which add to them and never replace them).
        self.messages, self.ephemeral = self._log.messages, self._log.ephemeral
        self.response_url_posts = self._response_urls.posts
        self.views = self._modals.records
        self.files = self._files.files
        console = SlackConsole(self)
        self.app = FaultInjector(
            Starlette(
                routes=[
                    Route("/api/{method}", self._dispatch, methods=["GET", "POST"]),
                    Route("/upload/v1/{key}", self._receive_upload, methods=["POST"]),
                    Route("/files-pri/{team_file}/{name}", self._download_private),
                    Route("/commands/{team}/{hook}/{secret}", self._response_url, methods=["POST"]),
                    Route("/actions/{team}/{hook}/{secret}", self._response_url, methods=["POST"]),
                    Route("/_sandbox/stats", console.stats),
                    Route("/_sandbox/channels", console.channels_json),
                    Route("/_sandbox/channels/{channel}/messages", console.channel_messages_json),
                    Route("/_sandbox/ephemeral", console.ephemeral_json),
                    Route("/_sandbox/views", console.views_json),
                    Route("/_sandbox/files", console.files_json),
                    Route("/_sandbox/files/{file_id}", self._file_content),
                    Route("/_sandbox/response_urls", console.response_urls_json),
                    Route("/_sandbox/interactions", console.interactions_json),
                    Route("/_sandbox/calls", console.calls_json),
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
            return self._modals.issue_trigger(user_id)

    def issue_response_url(
        self, kind: str, user_id: str, channel_id: str, *, message_ts: str | None = None, ephemeral: bool = False
    ) -> str:
        """A response_url on this stand-in: ``kind`` "commands" answers in the channel, "actions" can also
        replace or delete the message at ``message_ts`` (an ephemeral one when ``ephemeral``)."""
        if kind not in {"commands", "actions"}:
            raise ValueError(f"Slack's response URLs are for commands or actions, not {kind!r}")
        with self._lock:
            path = self._response_urls.issue(kind, user_id, channel_id, message_ts, ephemeral)
        return f"{self.base_url}{path}"

    def close_top_view(self, user_id: str) -> None:
        """The person closes the modal on top of their stack (Slack's Close, or Back on a pushed view)."""
        with self._lock:
            self._modals.close_top_view(user_id)

    def channel_name(self, channel_id: str) -> str:
        """The name Slack puts next to a channel id in payloads ("privategroup" for one it cannot name)."""
        with self._lock:
            return self.channels.get(channel_id, "privategroup")

    # --- what tests read -----------------------------------------------------------------

    def messages_in(self, channel: str, *, thread_ts: str | None = None) -> list[SlackMessage]:
        """Live messages in a channel, oldest first: all of them, or one thread (its parent and replies)."""
        with self._lock:
            return self._log.live_in(channel, thread_ts)

    def texts_in(self, channel: str, *, thread_ts: str | None = None) -> list[str]:
        return [m.text for m in self.messages_in(channel, thread_ts=thread_ts)]

    def message(self, channel: str, ts: str) -> SlackMessage | None:
        with self._lock:
            return self._log.message(channel, ts)

    def ephemeral_to(self, user_id: str, *, channel: str | None = None) -> list[EphemeralMessage]:
        with self._lock:
            return [e for e in self.ephemeral if e.user == user_id and not e.deleted and channel in (None, e.channel)]

    def open_views(self, user_id: str) -> list[dict[str, Any]]:
        """The user's modal stack, root first, as Slack currently shows it."""
        with self._lock:
            return self._modals.open_views(user_id)

    def view(self, view_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self._modals.view(view_id)

    def ephemeral_message(self, channel: str, message_ts: str) -> EphemeralMessage | None:
        with self._lock:
            return self._log.ephemeral_message(channel, message_ts)

    def message_payload(self, channel: str, ts: str) -> dict[str, Any] | None:
        """A message as Slack's API shows it (thread summary included), or None."""
        with self._lock:
            message = self._log.message(channel, ts)
            return None if message is None else self._log.message_json(message)

    def sent_count(self) -> int:
        with self._lock:
            return sum(1 for m in self.messages if m.from_bot)

    # --- the Web API door ----------------------------------------------------------------

    async def _dispatch(self, request: Request) -> Response:
        method = request.path_params["method"]
        handler = _METHODS.get(method)
        if handler is None:
            return error_response(SlackError("unknown_method", req_method=method))
        try:
            params = await request_params(request)
        except SlackError as exc:
            return error_response(exc)
        token = bearer_token(request) or params.pop("token", None)
        if self.faults.latency_seconds:
            await asyncio.sleep(self.faults.latency_seconds)
        with self._lock:
            self.calls.append((method, params))
            if self.faults.server_error_share and self._rng.random() < self.faults.server_error_share:
                return error_response(SlackError("service_unavailable", status=503))
            try:
                self._authenticate(token)
                result = handler(self, _Call(params, public_base_url(request)))
            except SlackError as exc:
                if exc.status == 429:
                    self.rate_limited += 1
                return error_response(exc)
        return JSONResponse({"ok": True, **result}, headers={"x-oauth-scopes": ",".join(sorted(self.scopes))})

    def _authenticate(self, token: str | None) -> None:
        if not token:
            raise SlackError("not_authed")
        if token != self.bot_token:
            raise SlackError("invalid_auth")

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
            raise SlackError("ratelimited", status=429, retry_after=wait)
        text, blocks = checked_content(params)
        thread_ts = optional_str(params.get("thread_ts"))
        message = self._log.add(channel, text, blocks, BOT_USER_ID, params, thread_ts=thread_ts)
        return {"channel": channel, "ts": message.ts, "message": self._log.message_json(message)}

    def _chat_update(self, call: _Call) -> dict[str, Any]:
        params = call.params
        message = self._existing_message(params, "cant_update_message")
        if "text" not in params and "blocks" not in params:
            raise SlackError("no_text")
        text, blocks = checked_content(
            {"text": params.get("text", message.text), "blocks": params.get("blocks", message.blocks)}
        )
        message.text, message.blocks = text, blocks  # an empty list of blocks removes them, as in Slack
        message.edits += 1
        return {
            "channel": message.channel,
            "ts": message.ts,
            "text": message.text,
            "message": self._log.message_json(message),
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
            raise SlackError("user_not_in_channel")
        text, blocks = checked_content(params)
        ephemeral = self._log.add_ephemeral(channel, user, text, blocks, params, optional_str(params.get("thread_ts")))
        return {"message_ts": ephemeral.message_ts}

    def _conversations_replies(self, call: _Call) -> dict[str, Any]:
        params = call.params
        channel = self._known_channel(params.get("channel"))
        thread = self._log.thread(channel, str(params.get("ts", "")))
        start = cursor_index(params.get("cursor"))
        limit = max(1, min(int_or(params.get("limit"), 1000), 1000))
        page = thread[start : start + limit]
        more = start + limit < len(thread)
        return {
            "messages": [self._log.message_json(m) for m in page],
            "has_more": more,
            "response_metadata": {"next_cursor": cursor(start + limit) if more else ""},
        }

    def _users_info(self, call: _Call) -> dict[str, Any]:
        user = self.users.get(str(call.params.get("user", "")))
        if user is None:
            raise SlackError("user_not_found")
        return {"user": user_json(user)}

    def _views_open(self, call: _Call) -> dict[str, Any]:
        return self._modals.views_open(call.params, self.limits.trigger_ttl_seconds)

    def _views_push(self, call: _Call) -> dict[str, Any]:
        return self._modals.views_push(call.params, self.limits.trigger_ttl_seconds)

    def _views_update(self, call: _Call) -> dict[str, Any]:
        return self._modals.views_update(call.params)

    def _files_get_upload_url_external(self, call: _Call) -> dict[str, Any]:
        return self._files.upload_url(call.params, call.base_url)

    def _files_info(self, call: _Call) -> dict[str, Any]:
        """``files.info`` (scope files:read): a file the app may see, in Slack's file object."""
        if "files:read" not in self.scopes:
            raise SlackError("missing_scope", needed="files:read", provided=",".join(sorted(self.scopes)))
        return self._files.info(call.params, call.base_url)

    def person_uploads(self, user_id: str, content: bytes, filename: str) -> str:
        """A person attaches a file in a modal's file input (Slack's client uploads it): its id, not yet shared."""
        with self._lock:
            return self._files.person_uploads(user_id, content, filename)

    def file_object(self, file_id: str) -> dict[str, Any]:
        """A file as a view submission's ``file_input`` state carries it."""
        with self._lock:
            return self._files.file_json(self.files[file_id], self.base_url)

    def _files_complete_upload_external(self, call: _Call) -> dict[str, Any]:
        return self._files.complete_upload(call.params, call.base_url, self._postable_channel)

    # --- helpers (lock held) ----------------------------------------------------------------

    def _postable_channel(self, value: Any) -> str:
        channel = self._known_channel(value)
        if channel in self.faults.archived_channels:
            raise SlackError("is_archived")
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
        raise SlackError("channel_not_found")

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

    def _existing_message(self, params: dict[str, Any], not_ours: str) -> SlackMessage:
        channel = self._known_channel(params.get("channel"))
        message = self._log.message(channel, str(params.get("ts", "")))
        if message is None or message.deleted:
            raise SlackError("message_not_found")
        if not message.from_bot:
            raise SlackError(not_ours)  # a bot token may only change the bot's own messages
        return message

    # --- the upload and download doors -----------------------------------------------------

    async def _receive_upload(self, request: Request) -> Response:
        """The upload URL: raw bytes (what slack_sdk sends) or a multipart file part (what curl -F sends)."""
        content = await upload_bytes(request)
        with self._lock:
            if not self._files.receive(request.path_params["key"], content):
                return PlainTextResponse("invalid upload url", status_code=404)
        return PlainTextResponse(f"OK - {len(content)}")

    async def _download_private(self, request: Request) -> Response:
        if bearer_token(request) != self.bot_token:
            return Response(status_code=403)
        file_id = request.path_params["team_file"].removeprefix(f"{TEAM_ID}-")
        return self._file_bytes(file_id)

    async def _file_content(self, request: Request) -> Response:
        return self._file_bytes(request.path_params["file_id"])

    def _file_bytes(self, file_id: str) -> Response:
        with self._lock:
            uploaded = self.files.get(file_id)
        return file_response(uploaded)

    # --- response_url ------------------------------------------------------------------------

    async def _response_url(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"{}")
        except json.JSONDecodeError:
            body = None
        path = route_path(request)  # response URLs are keyed below the mount point, as issued
        with self._lock:
            problem = self._response_urls.receive(path, str(request.url), body, self.limits)
        if problem is not None:
            status = 400 if problem == "invalid_payload" else 404
            return PlainTextResponse(problem, status_code=status)
        return JSONResponse({"ok": True})

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
            except SlackError:
                raise ValueError(f"no channel {channel!r} in the sandbox workspace (add_channel first)") from None
            return self._log.add(channel, text, blocks, user_id, {"text": text}, thread_ts=thread_ts)

    def _record_interaction(self, interaction: Interaction) -> None:
        with self._lock:
            self.interactions.append(interaction)

    def _settle_command_answer(self, user_id: str, channel_id: str, answer: httpx.Response) -> None:
        """Slack shows a slash command's ack body: JSON per its response_type, plain text as an ephemeral message."""
        if answer.status_code != 200 or not answer.content:
            return
        body = json_or_none(answer)
        if body is None:
            body = {"text": answer.text}
        if not isinstance(body, dict) or not (body.get("text") or body.get("blocks")):
            return
        with self._lock:
            text, blocks = str(body.get("text") or ""), body.get("blocks") or None
            if body.get("response_type") == "in_channel":
                self._log.add(channel_id, text, blocks, BOT_USER_ID, body)
            else:
                self._log.add_ephemeral(channel_id, user_id, text, blocks, body)

    def _settle_view_submission(self, user_id: str, view_id: str, answer: httpx.Response) -> None:
        """Apply the app's ``response_action`` as Slack does; a bare 200 closes the modal, errors keep it open."""
        if answer.status_code != 200:
            return
        body = json_or_none(answer)
        action = body.get("response_action") if isinstance(body, dict) else None
        with self._lock:
            try:
                self._modals.apply_response_action(user_id, view_id, action, body)
            except SlackError:
                pass  # Slack shows the person an error and leaves the modal as it was


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
