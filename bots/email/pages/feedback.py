"""Whether an alert was useful, from the "Useful" / "Not useful" links in its email (``/subscribe/feedback``).

Mail systems open links to check them (link scanners, previews), so opening a link records nothing: the page
asks once more, with one button, and only that POST records the answer, through ``FeedbackService.record`` like
a tap in Telegram or WhatsApp (one answer per resident per alert; a second replaces the first). The link is
signed for the address, the alert and the answer; a forged, altered or expired link, or one for an alert never
sent to that address, is told so politely and changes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from bots.email.links import BadLink, ExpiredLink, Purpose
from bots.email.pages.site import Site, read_form, token_of
from bots.email.pages.tip import SHOWN_STATES, AlertShown
from core.conversation.feedback import NOT_SENT, THANKS_NOT_USEFUL, THANKS_USEFUL
from core.errors import InvalidInput
from core.model import Address, Channel
from core.services.feedback import NotSentToYou

logger = logging.getLogger("lookout.email.pages")


def register(router: APIRouter, site: Site) -> None:
    @router.get("/subscribe/feedback")
    async def feedback_page(request: Request) -> HTMLResponse:
        token = token_of(request)
        try:
            address, alert_id, useful = _feedback_link(site.signer.read(Purpose.FEEDBACK, token))
        except BadLink as problem:
            return _link_problem(site, problem)
        alert = await _alert(site, alert_id)
        return site.page("feedback.html", token=token, email=address.id, useful=useful, alert=alert)

    @router.post("/subscribe/feedback")
    async def record_feedback(request: Request) -> HTMLResponse:
        form = await read_form(request)
        try:
            address, alert_id, useful = _feedback_link(site.signer.read(Purpose.FEEDBACK, token_of(request, form)))
        except BadLink as problem:
            return _link_problem(site, problem)
        assert site.feedback is not None
        try:
            await site.feedback.record(address, alert_id, useful)
        except NotSentToYou:
            return site.page(
                "link_problem.html", status=404, heading="We can't take this answer", message=NOT_SENT, next_step=""
            )
        # The conversation's own words (core/conversation/feedback.py), so every channel thanks alike.
        return site.page("feedback_sent.html", thanks=THANKS_USEFUL if useful else THANKS_NOT_USEFUL)


async def _alert(site: Site, alert_id: int) -> AlertShown | None:
    async with site.uow(read_only=True) as work:
        alert = await work.alerts.get(alert_id)
    if alert is None or alert.state not in SHOWN_STATES:
        return None
    return AlertShown(alert.reference or "", alert.headline)


def _feedback_link(payload: dict[str, Any]) -> tuple[Address, int, bool]:
    try:
        address = Address(Channel.EMAIL, str(payload["email"]))
        alert_id, useful = payload["alert"], payload["useful"]
    except (KeyError, InvalidInput):
        raise BadLink() from None
    if not isinstance(alert_id, int) or isinstance(alert_id, bool) or not isinstance(useful, bool):
        raise BadLink()
    return address, alert_id, useful


def _link_problem(site: Site, problem: BadLink) -> HTMLResponse:
    expired = isinstance(problem, ExpiredLink)
    return site.page(
        "link_problem.html",
        status=410 if expired else 400,
        heading="This link has expired" if expired else "This link doesn't work",
        message=("Links to say whether an alert was useful work for 30 days." if expired else str(problem))
        + " Nothing was changed.",
        next_step="",
    )
