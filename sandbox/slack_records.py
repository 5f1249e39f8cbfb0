"""What the Slack stand-in keeps and is configured with: its records, as tests and the console read them.

``SlackLimits`` and ``SlackFaults`` are a stand-in's settings (``SlackStandIn(limits=…,
faults=…)``, replaceable at any time). The rest is what it recorded: channel
messages with their threads (``SlackMessage``), ephemeral messages, every
views.* call as Slack answered it, files uploaded, posts to response URLs, and
the simulated client's requests to the app (``Interaction``). The stand-in
(``sandbox.slack``) creates and changes them under its lock.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from sandbox.slack_wire import truthy
from sandbox.slack_workspace import BOT_USER_ID


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
        return truthy(self.body.get("replace_original"))

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
