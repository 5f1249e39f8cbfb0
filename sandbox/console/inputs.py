"""Reading what the console page sends, and the console's error answers.

Every console endpoint takes one JSON object. A field that is missing, of the
wrong type or out of range is a ``BadInput`` (400) naming the field; an action
the platform cannot take yet (no webhook registered, no app URL) is
``NotReady`` (409); an app that does not answer is ``AppUnreachable`` (502).
Nothing the page sends can turn into a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

MAX_BODY_BYTES = 8 * 1024 * 1024  # a photo from the page, base64-encoded
MAX_PHOTO_BYTES = 5 * 1024 * 1024


class ConsoleError(Exception):
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.message}, status_code=self.status)


class BadInput(ConsoleError):
    status = 400


class NotReady(ConsoleError):
    status = 409


class AppUnreachable(ConsoleError):
    status = 502


async def json_object(request: Request) -> dict[str, Any]:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BadInput(f"the request body is over {MAX_BODY_BYTES // (1024 * 1024)} MB")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise BadInput(f"the request body is over {MAX_BODY_BYTES // (1024 * 1024)} MB")
    try:
        data = json.loads(body or b"null")
    except (ValueError, RecursionError):  # ValueError: bad JSON, bad UTF-8, or a number of thousands of digits
        raise BadInput("the request body must be JSON") from None
    if not isinstance(data, dict):
        raise BadInput("the request body must be a JSON object")
    return data


def optional_text(body: dict[str, Any], name: str, *, max_length: int = 4096) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadInput(f"{name}: must be a string")
    if len(value) > max_length:
        raise BadInput(f"{name}: at most {max_length} characters")
    return value


def required_text(body: dict[str, Any], name: str, *, max_length: int = 4096) -> str:
    value = optional_text(body, name, max_length=max_length)
    if value is None or not value.strip():
        raise BadInput(f"{name}: required")
    return value


def optional_integer(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    text = str(value).strip()
    if isinstance(value, bool) or not isinstance(value, int | str) or len(text) > 18 or not text.lstrip("-").isdigit():
        raise BadInput(f"{name}: must be a whole number")
    return int(text)


def required_integer(body: dict[str, Any], name: str) -> int:
    value = optional_integer(body, name)
    if value is None:
        raise BadInput(f"{name}: required")
    return value


def coordinates(body: dict[str, Any]) -> tuple[float, float]:
    """``latitude`` and ``longitude`` as numbers (or numeric strings from a form), on the globe."""
    return _number(body, "latitude", 90.0), _number(body, "longitude", 180.0)


def _number(body: dict[str, Any], name: str, bound: float) -> float:
    value = body.get(name)
    if isinstance(value, bool) or value is None:
        raise BadInput(f"{name}: required, a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadInput(f"{name}: must be a number") from None
    if not math.isfinite(number) or abs(number) > bound:
        raise BadInput(f"{name}: must be between -{bound:g} and {bound:g}")
    return number


def image_bytes(body: dict[str, Any], name: str = "data") -> bytes:
    """A picture sent as base64 (a data: URL's prefix is allowed)."""
    encoded = required_text(body, name, max_length=MAX_BODY_BYTES)
    if encoded.startswith("data:"):
        encoded = encoded.partition(",")[2]
    try:
        content = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise BadInput(f"{name}: must be base64") from None
    if not content:
        raise BadInput(f"{name}: the picture is empty")
    if len(content) > MAX_PHOTO_BYTES:
        raise BadInput(f"{name}: at most {MAX_PHOTO_BYTES // (1024 * 1024)} MB")
    return content
