"""``GET /alerts/{reference}/{token}``: the whole alert as officers wrote it, the area in words, incident number
and contact, and an appeal's photo; nothing about any resident. Only sent alerts whose status the force publishes
(as the CAP feed); a wrong token or anything else is the same 404.

``GET /alert-photos/{reference}/{token}.jpg``: an appeal's photo, for the page, WhatsApp (Meta fetches it by its
link) and CAP readers. The token is the photo's own random one; once the alert is resolved or the
photo purged, it is the same 404."""

from __future__ import annotations

import hmac

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, select_autoescape

from core.alert_pages import PAGE_PREFIX, token_ok
from core.alert_photos import PHOTO_PREFIX, photo_path
from core.cap import is_public
from core.force import ForceConfig
from core.ports import UnitOfWorkFactory
from core.rendering import KIND_LABELS, status_label

_PAGE = Environment(autoescape=select_autoescape(default=True, default_for_string=True)).from_string(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{{ title }}</title></head>
<body><main>
<p>{{ force }}</p>
<h1>{{ title }}</h1>
{% for paragraph in paragraphs %}<p>{{ paragraph }}</p>
{% endfor %}<dl>
<dt>Area</dt><dd>{{ area }}</dd>
<dt>Incident number</dt><dd>{{ incident }}</dd>
<dt>Contact</dt><dd>{{ contact }}</dd>
<dt>Reference</dt><dd>{{ reference }}</dd>
</dl>
{% if photo %}<p><img src="{{ photo }}" alt="The photo of this appeal" style="max-width:100%"></p>{% endif %}
<p>In an emergency call 999.</p>
</main></body></html>
"""
)
PHOTO_NOT_FOUND = Response(b"No such photo.", status_code=404, media_type="text/plain")
NOT_FOUND = HTMLResponse("<!doctype html><title>Not found</title><p>No such alert.</p>", status_code=404)


def add_alert_pages(app: FastAPI, *, uow: UnitOfWorkFactory, force: ForceConfig, key: bytes | None) -> None:
    @app.get(PAGE_PREFIX + "/{reference}/{token}", include_in_schema=False)
    async def alert_page(reference: str, token: str) -> HTMLResponse:
        if key is None or len(reference) > 40 or not token_ok(key, reference, token):
            return NOT_FOUND
        async with uow(read_only=True) as work:
            alert = await work.alerts.get_by_reference(reference)
            photo = await work.photos.of_alert(alert.id) if alert is not None and alert.id is not None else None
        if alert is None or alert.sent_at is None or not is_public(force, alert):
            return NOT_FOUND
        shown = photo is not None and photo.withdrawn_at is None and photo.data is not None
        return HTMLResponse(
            _PAGE.render(
                force=force.name,
                title=f"{status_label(alert)}{KIND_LABELS[alert.type]}: {alert.headline}",
                paragraphs=[p for p in alert.message.split("\n") if p.strip()],
                area=alert.area_description,
                incident=alert.incident_number,
                contact=alert.contact,
                reference=alert.reference,
                photo=photo_path(reference, photo.token) if shown and photo else None,
            )
        )

    @app.get(PHOTO_PREFIX + "/{reference}/{name}", include_in_schema=False)
    async def alert_photo(reference: str, name: str) -> Response:
        token, dot, kind = name.rpartition(".")
        if not dot or kind != "jpg" or len(reference) > 40 or len(token) > 40:
            return PHOTO_NOT_FOUND
        async with uow(read_only=True) as work:
            alert = await work.alerts.get_by_reference(reference)
            photo = await work.photos.of_alert(alert.id) if alert is not None and alert.id is not None else None
        if (
            alert is None
            or alert.sent_at is None
            or photo is None
            or photo.data is None
            or photo.withdrawn_at is not None
            or not hmac.compare_digest(photo.token.encode(), token.encode("utf-8", "surrogateescape"))
        ):
            return PHOTO_NOT_FOUND
        # Not cached anywhere: a resolved appeal's photo must stop being served at once.
        return Response(photo.data, media_type=photo.content_type, headers={"Cache-Control": "no-store"})
