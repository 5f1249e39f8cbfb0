"""The Slack stand-in's record as JSON, for the console, tests and benchmarks in other processes.

Read-only routes under ``/_sandbox``: counts (``stats``), channels and their
messages as Slack's API shows them, ephemeral messages, the views history and
who has a modal open, files, response_url posts, the simulated client's
interactions and every Web API call. Each reads the stand-in's records under
its lock; the routes themselves are in the stand-in's table (``sandbox.slack``).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse

if TYPE_CHECKING:
    from sandbox.slack import SlackStandIn


class SlackConsole:
    """The ``/_sandbox`` JSON routes of one stand-in."""

    def __init__(self, slack: SlackStandIn) -> None:
        self._slack = slack

    async def stats(self, request: Request) -> JSONResponse:
        slack = self._slack
        with slack._lock:
            bot_messages = [m for m in slack.messages if m.from_bot]
            same = Counter((m.channel, m.thread_ts, m.text, json.dumps(m.blocks, sort_keys=True)) for m in bot_messages)
            return JSONResponse(
                {
                    "sent": len(bot_messages),
                    "rate_limited": slack.rate_limited,
                    "channels": len({m.channel for m in bot_messages}),
                    "duplicates": sum(n - 1 for n in same.values() if n > 1),
                    "ephemeral": len(slack.ephemeral),
                    "views": len(slack.views),
                    "files": sum(1 for f in slack.files.values() if f.completed),
                    "response_url_posts": len(slack.response_url_posts),
                    "interactions": len(slack.interactions),
                    "first_at": bot_messages[0].at if bot_messages else None,
                    "last_at": bot_messages[-1].at if bot_messages else None,
                }
            )

    async def channels_json(self, request: Request) -> JSONResponse:
        slack = self._slack
        with slack._lock:
            counts = Counter(m.channel for m in slack.messages if not m.deleted)
            return JSONResponse(
                [{"id": cid, "name": name, "messages": counts[cid]} for cid, name in slack.channels.items()]
            )

    async def channel_messages_json(self, request: Request) -> JSONResponse:
        slack = self._slack
        channel, thread_ts = request.path_params["channel"], request.query_params.get("thread_ts")
        with slack._lock:
            chosen = slack._log.live_in(channel, thread_ts)
            return JSONResponse([slack._log.message_json(m) for m in chosen])

    async def ephemeral_json(self, request: Request) -> JSONResponse:
        slack = self._slack
        user = request.query_params.get("user")
        with slack._lock:
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
                    for e in slack.ephemeral
                    if not e.deleted and user in (None, e.user)
                ]
            )

    async def views_json(self, request: Request) -> JSONResponse:
        slack = self._slack
        with slack._lock:
            return JSONResponse(
                {
                    "history": [{"method": r.method, "user_id": r.user_id, "view": r.view} for r in slack.views],
                    "open": slack._modals.open_stacks(),
                }
            )

    async def files_json(self, request: Request) -> JSONResponse:
        slack = self._slack
        with slack._lock:
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
                    for f in slack.files.values()
                ]
            )

    async def response_urls_json(self, request: Request) -> JSONResponse:
        slack = self._slack
        with slack._lock:
            return JSONResponse(
                [
                    {"url": p.url, "body": p.body, "accepted": p.accepted, "error": p.error}
                    for p in slack.response_url_posts
                ]
            )

    async def interactions_json(self, request: Request) -> JSONResponse:
        slack = self._slack
        with slack._lock:
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
                    for i in slack.interactions
                ]
            )

    async def calls_json(self, request: Request) -> JSONResponse:
        slack = self._slack
        method = request.query_params.get("method")
        with slack._lock:
            return JSONResponse([{"method": m, "params": p} for m, p in slack.calls if method in (None, m)])
