"""Changing a subscription from a manage link (``/subscribe/manage``), and asking for a fresh one.

Each change is a small form of its own posting back here with the token; a
saved change redirects to the page again (so a reload does not repeat it)
with a note of what was saved. An expired link offers to email a fresh one;
that form answers the same whether or not the address is signed up, so it
cannot be used to find out who is.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from bots.email.links import BadLink, ExpiredLink, Purpose
from bots.email.pages.forms import (
    Problems,
    chosen_sector,
    chosen_topics,
    collect,
    email_address,
    place_label,
    place_query,
    topics_anchor,
)
from bots.email.pages.places import Found, find_place, place_options
from bots.email.pages.responses import secured
from bots.email.pages.site import Site, client_of, read_form, token_of
from core.errors import InvalidInput, NotFound
from core.model import Address, Channel, Resident
from core.services.subscriptions import PAUSED_INDEFINITELY, NewPlace

SAVED = {
    "topics": "Your topics are saved.",
    "sector": "Your business sector is saved.",
    "add_place": "The place is added.",
    "remove_place": "The place is removed.",
    "pause": "Your alerts are paused. They start again when you press Resume.",
    "resume": "Your alerts are on again.",
}


def register(router: APIRouter, site: Site) -> None:
    @router.get("/subscribe/manage")
    async def manage_page(request: Request) -> Response:
        token = token_of(request)
        try:
            address = _address_of(site.signer.read(Purpose.MANAGE, token))
        except BadLink as problem:
            return _expired_or_bad(site, problem)
        try:
            resident = await site.subscriptions.get(address)
        except NotFound:
            return _not_signed_up(site)
        done = request.query_params.get("done", "")
        return await _page(site, token or "", resident, notice=SAVED.get(done))

    @router.post("/subscribe/manage")
    async def manage(request: Request) -> Response:
        form = await read_form(request)
        token = token_of(request, form)
        try:
            address = _address_of(site.signer.read(Purpose.MANAGE, token))
        except BadLink as problem:
            return _expired_or_bad(site, problem)
        assert token is not None
        action = form.get("action")
        try:
            resident = await site.subscriptions.get(address)
            problems, found = await _change(site, address, resident, str(action or ""), form)
            if problems or found.choices:
                resident = await site.subscriptions.get(address)
                return await _page(
                    site, token, resident, problems=problems, found=found, form=form, status=400 if problems else 200
                )
        except NotFound:
            return _not_signed_up(site)
        return secured(
            RedirectResponse(f"/subscribe/manage?{urlencode({'t': token, 'done': action})}", status_code=303)
        )

    @router.get("/subscribe/manage/link")
    async def ask_for_link_form() -> HTMLResponse:
        return site.page("manage_link.html", email="", heading="Get a link to change your alerts", message=None)

    @router.post("/subscribe/manage/link")
    async def ask_for_link(request: Request) -> HTMLResponse:
        typed = str((await read_form(request)).get("email") or "")[:600]
        try:
            address = email_address(typed)
        except InvalidInput as error:
            problems = Problems()
            collect(problems, error)
            return site.page(
                "manage_link.html",
                status=400,
                email=typed,
                problems=problems,
                heading="Get a link to change your alerts",
                message=None,
            )
        slot = await site.ledger.take_mail_slot(address.id, client_of(request))
        if slot is not None:
            site.links.request(address, slot)  # signed up or not is looked at later, outside the request
        # The same answer, in the same time, whatever happened: the form tells nobody whether an address is signed up.
        return site.page("manage_link_sent.html", email=address.id)


async def _change(
    site: Site, address: Address, resident: Resident, action: str, form: FormData
) -> tuple[Problems, Found]:
    """Make one change; the problems to show (nothing changed), or places to choose from."""
    problems = Problems()
    subscriptions = site.subscriptions
    try:
        if action == "topics":
            await subscriptions.set_topics(address, chosen_topics(form, site.force))
        elif action == "sector":
            await subscriptions.set_sector(address, chosen_sector(form, site.force))
        elif action == "add_place":
            found = await find_place(
                site.geocoder,
                site.force,
                place_query(str(form.get("where") or "")),
                chosen=str(form.get("place") or ""),
                searched=str(form.get("searched") or ""),
            )
            if found.spot is None:
                if form.get("searched") == found.searched:
                    problems.add(
                        "place", "Choose one of the places listed, or type a fuller address or postcode.", "place-0"
                    )
                return problems, found
            label = place_label(str(form.get("label") or ""))
            await subscriptions.add_place(address, NewPlace(label, found.spot.lat, found.spot.lon))
        elif action == "remove_place":
            index = str(form.get("index") or "")
            if len(resident.places) <= 1:
                problems.add("places", "This is your only place. To stop all alerts, unsubscribe instead.", "places")
            elif not index.isdigit():
                problems.add("places", "That place isn't in your list any more.", "places")
            else:
                await subscriptions.remove_place(address, int(index))
        elif action == "pause":
            await subscriptions.pause(address, None)
        elif action == "resume":
            await subscriptions.resume(address)
        else:
            problems.add("action", "Choose what to change using one of the buttons on this page.", "main")
    except InvalidInput as error:
        collect(problems, error, {"topics": topics_anchor(site.force), "place": "place-0", "places": "places"})
    return problems, Found()


async def _page(
    site: Site,
    token: str,
    resident: Resident,
    *,
    notice: str | None = None,
    problems: Problems | None = None,
    found: Found | None = None,
    form: FormData | None = None,
    status: int = 200,
) -> HTMLResponse:
    email = resident.address.id
    export = await site.subscriptions.export(resident.address)
    found = found or Found()
    adding: dict[str, Any] = {
        "where": str(form.get("where") or "") if form is not None and form.get("action") == "add_place" else "",
        "label": str(form.get("label") or "home") if form is not None else "home",
    }
    return site.page(
        "manage.html",
        status=status,
        token=token,
        email=email,
        resident=resident,
        notice=notice,
        problems=problems or Problems(),
        choices=found.choices,
        searched=found.searched,
        adding=adding,
        place_options=place_options(found.choices),
        chosen_topics=sorted(resident.topics),
        paused=resident.paused_until is not None,
        paused_until_resumed=resident.paused_until == PAUSED_INDEFINITELY,
        my_data=json.dumps(export, indent=2, ensure_ascii=False),
        unsubscribe_url=site.signer.unsubscribe_url(email),
    )


def _address_of(payload: dict[str, Any]) -> Address:
    try:
        return Address(Channel.EMAIL, str(payload["email"]))
    except (KeyError, InvalidInput):
        raise BadLink() from None


def _expired_or_bad(site: Site, problem: BadLink) -> HTMLResponse:
    expired = isinstance(problem, ExpiredLink)
    return site.page(
        "manage_link.html",
        status=410 if expired else 400,
        email="",
        heading="This link has expired" if expired else "This link doesn't work",
        message=(
            "Links to change your alerts work for 30 days. Nothing has been changed. "
            "Enter your email address and we'll send you a fresh link."
            if expired
            else str(problem) + " Nothing has been changed. Enter your email address and we'll send you a fresh link."
        ),
    )


def _not_signed_up(site: Site) -> HTMLResponse:
    return site.page(
        "link_problem.html",
        status=404,
        heading="You're not signed up",
        message="This address doesn't get alerts from us (any more), and we hold nothing about it.",
        next_step="signup",
    )
