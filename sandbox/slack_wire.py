"""The Slack stand-in's wire: how a Web API call arrives, how Slack answers an error, and what it checks.

``request_params`` reads a method's arguments as Slack does (the query string
plus a JSON, form-encoded or multipart body, with the fields Slack takes as
JSON-encoded strings decoded); ``SlackError`` is an ``{"ok": false, "error": …}``
answer on its way out, which ``error_response`` writes. ``checked_content`` and
``checked_view`` turn the Block Kit problems ``sandbox.slack_blocks`` finds into
Slack's errors. The rest are the small readings of values every method shares:
optional strings, Slack's truthy flags, page cursors, and ids drawn as Slack's look.
"""

from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse

from sandbox.slack_blocks import MAX_MESSAGE_BLOCKS, block_problems, view_problems

# Fields Slack takes as JSON-encoded strings when they travel in a form or the query string.
_JSON_FIELDS = {"blocks", "attachments", "view", "files", "metadata"}
MAX_TEXT = 40_000


class SlackError(Exception):
    def __init__(self, error: str, *, status: int = 200, retry_after: int | None = None, **extra: Any) -> None:
        super().__init__(error)
        self.error, self.status, self.retry_after, self.extra = error, status, retry_after, extra


def error_response(exc: SlackError) -> JSONResponse:
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None
    return JSONResponse({"ok": False, "error": exc.error, **exc.extra}, status_code=exc.status, headers=headers)


# --- checking what apps send ------------------------------------------------------------------------


def checked_content(params: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]] | None]:
    text = params.get("text")
    text = "" if text is None else str(text)
    blocks = params.get("blocks")
    if blocks in (None, "", []):
        blocks = None
    if blocks is None and not text and not params.get("attachments"):
        raise SlackError("no_text")
    if len(text) > MAX_TEXT:
        raise SlackError("msg_too_long")
    if blocks is not None:
        problems = block_problems(blocks, "/blocks", MAX_MESSAGE_BLOCKS)
        if problems:
            raise SlackError(
                "invalid_blocks", errors=problems, response_metadata={"messages": [f"[ERROR] {p}" for p in problems]}
            )
    return text, blocks


def checked_view(view: Any) -> dict[str, Any]:
    problems = view_problems(view)
    if problems:
        raise SlackError("invalid_arguments", response_metadata={"messages": [f"[ERROR] {p}" for p in problems]})
    return dict(view)


# --- the wire -----------------------------------------------------------------------------------------


async def request_params(request: Request) -> dict[str, Any]:
    """The method's arguments from the query string and a JSON, form-encoded or multipart body."""
    params: dict[str, Any] = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    if request.method == "POST":
        if "json" in content_type:
            try:
                data = json.loads(await request.body() or b"{}")
            except json.JSONDecodeError:
                raise SlackError("invalid_json") from None
            if not isinstance(data, dict):
                raise SlackError("invalid_json")
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
                raise SlackError(
                    "invalid_arguments", response_metadata={"messages": [f"[ERROR] {name} is not valid JSON"]}
                ) from None
    return params


async def upload_bytes(request: Request) -> bytes:
    if "multipart/form-data" in request.headers.get("content-type", ""):
        form = await request.form()
        part = next((v for _, v in form.multi_items() if isinstance(v, UploadFile)), None)
        return await part.read() if part is not None else b""
    return await request.body()


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def json_or_none(answer: httpx.Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return None


def optional_str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def int_or(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def cursor(index: int) -> str:
    """A page cursor, base64 like Slack's so that clients treat it as opaque."""
    return base64.b64encode(f"next_index:{index}".encode()).decode()


def cursor_index(cursor: Any) -> int:
    try:
        text = base64.b64decode(str(cursor or ""), validate=True).decode()
    except ValueError:
        return 0
    return int_or(text.removeprefix("next_index:"), 0) if text.startswith("next_index:") else 0


# --- ids, drawn from the stand-in's seeded generator ---------------------------------------------------


def random_id(rng: random.Random, length: int, alphabet: str = string.ascii_uppercase + string.digits) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


def random_hex(rng: random.Random, length: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(length))


def random_token(rng: random.Random, length: int) -> str:
    return random_id(rng, length, string.ascii_letters + string.digits)
