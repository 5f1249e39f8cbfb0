"""Response URLs as the Slack stand-in issues them, and what Slack shows after a post to one.

A slash command's ``response_url`` (``/commands/…``) answers in its channel; a
block action's (``/actions/…``) can also replace or delete the message the
button was on, ephemeral or not. Each takes ``limits.response_url_uses`` posts
(five) within ``limits.response_url_ttl_seconds`` (thirty minutes), as Slack's
do. Every post is recorded, refused or not. ``ResponseUrls`` is not
thread-safe: the stand-in (``sandbox.slack``) holds its lock around every call.
"""

from __future__ import annotations

import itertools
import random
import time
from dataclasses import dataclass
from typing import Any

from sandbox.slack_messages import MessageLog
from sandbox.slack_records import EphemeralMessage, ResponseUrlPost, SlackLimits, SlackMessage
from sandbox.slack_wire import optional_str, random_token, truthy
from sandbox.slack_workspace import BOT_USER_ID, TEAM_ID


@dataclass
class _ResponseHook:
    kind: str  # commands | actions
    user_id: str
    channel_id: str
    message_ts: str | None
    ephemeral: bool
    created: float
    uses: int = 0


class ResponseUrls:
    """The response URLs issued (by path below the stand-in's base URL) and every post made to one."""

    def __init__(self, rng: random.Random, log: MessageLog) -> None:
        self.posts: list[ResponseUrlPost] = []
        self._rng = rng  # the stand-in's, so that a seed draws the same URLs
        self._log = log  # the channels' messages a post adds to, replaces or deletes
        self._hooks: dict[str, _ResponseHook] = {}
        self._hook_numbers = itertools.count(1_000_000_001)

    def issue(self, kind: str, user_id: str, channel_id: str, message_ts: str | None, ephemeral: bool) -> str:
        """A new response URL's path (``kind`` is "commands" or "actions")."""
        path = f"/{kind}/{TEAM_ID}/{next(self._hook_numbers)}/{random_token(self._rng, 24)}"
        self._hooks[path] = _ResponseHook(kind, user_id, channel_id, message_ts, ephemeral, time.monotonic())
        return path

    def receive(self, path: str, url: str, body: Any, limits: SlackLimits) -> str | None:
        """A post to the response URL at ``path``, applied as Slack applies it; why it was refused, or None."""
        hook = self._hooks.get(path)
        problem = self._problem(hook, body, limits)
        self.posts.append(
            ResponseUrlPost(url, body if isinstance(body, dict) else {}, time.monotonic(), problem is None, problem)
        )
        if problem is not None:
            return problem
        assert hook is not None and isinstance(body, dict)
        hook.uses += 1
        self._apply(hook, body)
        return None

    def _problem(self, hook: _ResponseHook | None, body: Any, limits: SlackLimits) -> str | None:
        if hook is None:
            return "no_service"
        if time.monotonic() - hook.created > limits.response_url_ttl_seconds:
            return "expired_url"
        if hook.uses >= limits.response_url_uses:
            return "used_url"
        if not isinstance(body, dict):
            return "invalid_payload"
        return None

    def _apply(self, hook: _ResponseHook, body: dict[str, Any]) -> None:
        """What Slack shows after a response_url post: the original replaced or deleted, or a new message."""
        text, blocks = str(body.get("text") or ""), body.get("blocks") or None
        if hook.message_ts and truthy(body.get("delete_original")):
            self._delete_original(hook)
        elif hook.message_ts and truthy(body.get("replace_original")):
            self._replace_original(hook, text, blocks)
        elif body.get("response_type") == "in_channel":
            self._log.add(
                hook.channel_id, text, blocks, BOT_USER_ID, body, thread_ts=optional_str(body.get("thread_ts"))
            )
        else:
            self._log.add_ephemeral(hook.channel_id, hook.user_id, text, blocks, body)

    def _original(self, hook: _ResponseHook) -> SlackMessage | EphemeralMessage | None:
        channel, ts = hook.channel_id, hook.message_ts or ""
        return self._log.ephemeral_message(channel, ts) if hook.ephemeral else self._log.message(channel, ts)

    def _delete_original(self, hook: _ResponseHook) -> None:
        original = self._original(hook)
        if original is not None:
            original.deleted = True

    def _replace_original(self, hook: _ResponseHook, text: str, blocks: list[dict[str, Any]] | None) -> None:
        original = self._original(hook)
        if original is not None:
            original.text, original.blocks = text, blocks
            original.edits += 1
