"""How every page leaves the app: rendered from ``templates/pages/``, with the security headers.

The pages carry signed links in their URLs, so no page may leak its address:
``Referrer-Policy: no-referrer`` keeps it out of other sites' logs, and the
access log is told to hide the ``t`` parameter (``HideLinkTokens``).
"""
from __future__ import annotations

import logging
import re
from typing import Any

from fastapi.responses import HTMLResponse, Response

from bots.email.templates import render

STYLESHEET_PATH = "/subscribe/static/pages.css"

SECURITY_HEADERS = {
    # No scripts at all, styles only from our own stylesheet, forms only back to this site, never in a frame.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Permissions-Policy": "geolocation=(), camera=(), microphone=()",
    # Pages show someone's address and choices: no shared cache may keep them.
    "Cache-Control": "no-store",
}


def page(template: str, site_values: dict[str, Any], *, status: int = 200, **values: Any) -> HTMLResponse:
    html = render(f"pages/{template}", **site_values, **values)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def secured(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


_TOKEN_PARAMETER = re.compile(r"([?&]t=)[^&\s\"]+")


class HideLinkTokens(logging.Filter):
    """Replaces the signed token in logged request lines (uvicorn's access log) with ``***``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, str) and "t=" in a for a in record.args):
            record.args = tuple(_TOKEN_PARAMETER.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str) and "t=" in record.msg:
            record.msg = _TOKEN_PARAMETER.sub(r"\1***", record.msg)
        return True


def hide_tokens_in_access_log() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, HideLinkTokens) for f in access.filters):
        access.addFilter(HideLinkTokens())
