"""How every page leaves the app: rendered from ``templates/pages/``, with the security headers.

The pages carry signed links in their URLs, so no page may leak its address:
``Referrer-Policy: no-referrer`` keeps it out of other sites' logs, and the
logs' redaction (``runtime.logs``) hides the ``t`` parameter in the access log.
"""

from __future__ import annotations

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
