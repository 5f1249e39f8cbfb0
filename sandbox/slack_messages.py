"""The channels' messages as the Slack stand-in keeps them: threads, edits and deletions, ephemeral messages.

Every message gets a ``ts`` (Unix seconds and microseconds, strictly
increasing, so unique in every channel); a reply names its parent's ts as
``thread_ts`` and the parent lists its replies. ``message_json`` shows a message
as Slack's API does, with the thread summary on a parent. ``MessageLog`` is not
thread-safe: the stand-in (``sandbox.slack``) holds its lock around every call.
"""

from __future__ import annotations

import time
from typing import Any

from sandbox.slack_records import EphemeralMessage, SlackMessage
from sandbox.slack_wire import SlackError
from sandbox.slack_workspace import APP_ID, BOT_ID, TEAM_ID, bot_profile


class MessageLog:
    """Every message in the workspace's channels, and every ephemeral one, oldest first and by (channel, ts)."""

    def __init__(self) -> None:
        self.messages: list[SlackMessage] = []
        self.ephemeral: list[EphemeralMessage] = []
        self._last_ts_us = 0
        self._by_ts: dict[tuple[str, str], SlackMessage] = {}
        self._ephemeral_by_ts: dict[tuple[str, str], EphemeralMessage] = {}

    def add(
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

    def add_ephemeral(
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

    def message(self, channel: str, ts: str) -> SlackMessage | None:
        return self._by_ts.get((channel, ts))

    def ephemeral_message(self, channel: str, message_ts: str) -> EphemeralMessage | None:
        return self._ephemeral_by_ts.get((channel, message_ts))

    def live_in(self, channel: str, thread_ts: str | None = None) -> list[SlackMessage]:
        """Live messages in a channel, oldest first: all of them, or one thread (its parent and replies)."""
        return [
            m
            for m in self.messages
            if m.channel == channel
            and not m.deleted
            and (thread_ts is None or m.ts == thread_ts or m.thread_ts == thread_ts)
        ]

    def thread(self, channel: str, ts: str) -> list[SlackMessage]:
        """The thread of the message at ``ts`` (its parent or a reply): the parent, then its live replies."""
        parent = self._by_ts.get((channel, ts))
        if parent is not None and parent.is_reply:
            parent = self._by_ts.get((channel, parent.thread_ts or ""))
        if parent is None or parent.deleted:
            raise SlackError("thread_not_found")
        return [parent, *(r for r in (self._by_ts[(channel, reply)] for reply in parent.replies) if not r.deleted)]

    def message_json(self, message: SlackMessage) -> dict[str, Any]:
        """A message as Slack's API shows it (thread summary included)."""
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

    def _next_ts(self) -> str:
        """A message ts: Unix seconds and microseconds, strictly increasing, so unique in every channel."""
        self._last_ts_us = max(int(time.time() * 1_000_000), self._last_ts_us + 1)
        return f"{self._last_ts_us // 1_000_000}.{self._last_ts_us % 1_000_000:06d}"
