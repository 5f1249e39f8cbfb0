"""Leaving (``/subscribe/unsubscribe``): one button on the page, or one click in the mail app.

Mail apps that show their own "Unsubscribe" POST ``List-Unsubscribe=One-Click``
to the link in the ``List-Unsubscribe`` header (RFC 8058), with no page and no
person to press anything; that POST unsubscribes as the button does. Either
way everything held about the address is erased, and doing it twice is the
same as doing it once. Unsubscribe links never expire.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from bots.email.links import BadLink, Purpose
from bots.email.pages.responses import secured
from bots.email.pages.site import Site, read_form, token_of
from core.errors import InvalidInput
from core.model import Address, Channel

logger = logging.getLogger("lookout.email.pages")


def register(router: APIRouter, site: Site) -> None:
    @router.get("/subscribe/unsubscribe")
    async def unsubscribe_page(request: Request) -> HTMLResponse:
        token = token_of(request)
        try:
            address = _address_of(site.signer.read(Purpose.UNSUBSCRIBE, token))
        except BadLink as problem:
            return _bad_link(site, problem)
        return site.page("unsubscribe.html", token=token, email=address.id)

    @router.post("/subscribe/unsubscribe")
    async def unsubscribe(request: Request) -> Response:
        form = await read_form(request)
        one_click = form.get("List-Unsubscribe") == "One-Click"
        try:
            address = _address_of(site.signer.read(Purpose.UNSUBSCRIBE, token_of(request, form)))
        except BadLink as problem:
            if one_click:
                return secured(PlainTextResponse(str(problem), status_code=400))
            return _bad_link(site, problem)
        if await site.subscriptions.erase(address):
            logger.info("an email resident unsubscribed (%s)", "one-click" if one_click else "from the page")
        if one_click:
            return secured(PlainTextResponse("Unsubscribed. Everything we held about this address has been deleted."))
        return site.page("unsubscribed.html", email=address.id)


def _address_of(payload: dict) -> Address:
    try:
        return Address(Channel.EMAIL, str(payload["email"]))
    except (KeyError, InvalidInput):
        raise BadLink() from None


def _bad_link(site: Site, problem: BadLink) -> HTMLResponse:
    return site.page(
        "manage_link.html",
        status=400,
        email="",
        heading="This unsubscribe link doesn't work",
        message=f"{problem} Nothing has been changed. Enter your email address and we'll send you a link "
        "with which you can unsubscribe.",
    )
