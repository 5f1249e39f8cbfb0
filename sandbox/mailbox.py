"""The sandbox's mailbox: what the SMTP sink received, over HTTP, for the console and for anyone poking around.

    GET /mail/api/messages          every message, newest first (JSON: id, to, from, subject, headers, text, html)
    GET /mail/messages/{id}.html    one message's HTML part, for the console's preview frame
    GET /mail/messages/{id}.eml     one message as it came over the wire

An email's HTML is someone else's markup: it is served under a CSP ``sandbox``
(no scripts, no forms, an origin of its own, nothing loaded from anywhere),
and with ``<base target="_blank">`` so its links open in a new tab — where
the app's /subscribe pages run normally — rather than inside the frame.
"""

from __future__ import annotations

import re

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.smtp import SmtpSink

PREVIEW_POLICY = (
    "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; style-src 'unsafe-inline'; "
    "img-src data:; form-action 'none'"
)
_NO_CACHE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
_HEAD = re.compile(r"<head(\s[^>]*)?>", re.IGNORECASE)
_NEW_TAB = '<base target="_blank">'


class Mailbox:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink
        self.app = Starlette(
            routes=[
                Route("/api/messages", self._messages),
                Route("/messages/{number:int}.html", self._html),
                Route("/messages/{number:int}.eml", self._source),
            ]
        )

    async def _messages(self, request: Request) -> Response:
        return JSONResponse({"messages": self.sink.summary(), "refused": self.sink.refused}, headers=_NO_CACHE)

    async def _html(self, request: Request) -> Response:
        mail = self.sink.message(request.path_params["number"])
        if mail is None:
            return JSONResponse({"error": "no such message"}, status_code=404)
        html = mail.body("html") or "<p>This message has no HTML part.</p>"
        return Response(
            opening_links_in_new_tabs(html),
            media_type="text/html",
            headers={**_NO_CACHE, "Content-Security-Policy": PREVIEW_POLICY},
        )

    async def _source(self, request: Request) -> Response:
        mail = self.sink.message(request.path_params["number"])
        if mail is None:
            return JSONResponse({"error": "no such message"}, status_code=404)
        return Response(mail.raw, media_type="text/plain; charset=utf-8", headers=_NO_CACHE)


def opening_links_in_new_tabs(html: str) -> str:
    """``html`` with ``<base target="_blank">`` first in its head (or first of all, when it has none)."""
    found = _HEAD.search(html)
    if found is None:
        return _NEW_TAB + html
    return html[: found.end()] + _NEW_TAB + html[found.end() :]
