"""Signing up: the form (``/subscribe``), the confirmation email, and confirming (``/subscribe/confirm``).

Nothing is stored until the confirmation link is followed and its button
pressed: the form's choices travel inside the signed confirmation link
(places only as the centre of their cell). The button is there because mail
scanners open every link in a message with GET; the subscription is made on
POST, once per link. Where SMS is on, the person may choose text messages
instead: a code is texted to their mobile number and typed on a second page
(``text_code.py``).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData

from bots.email.links import BadLink, ExpiredLink, Purpose
from bots.email.mailer import MailError
from bots.email.pages.forms import (
    Problems,
    SignUp,
    chosen_sector,
    chosen_topics,
    collect,
    email_address,
    mobile_number,
    place_label,
    place_query,
    topics_anchor,
)
from bots.email.pages.ledger import CONFIRMED, MAIL_SENT, MAILS_PER_HOUR
from bots.email.pages.mail import choices_in_words
from bots.email.pages.places import Found, find_place, place_options
from bots.email.pages.site import Site, client_of, read_form, token_of
from bots.email.pages.text_code import CodeNotSent, code_page, read_pending, send_code
from core.errors import InvalidInput, NotAllowed
from core.model import Address, Channel
from core.services.subscriptions import NewPlace

logger = logging.getLogger("lookout.email.pages")

SEND_FAILED = "Sorry, we couldn't send the email just now. Nothing has been kept. Please try again in a few minutes."


def register(router: APIRouter, site: Site) -> None:
    @router.get("/subscribe")
    async def sign_up_form() -> HTMLResponse:
        return _form(site, SignUp())

    @router.post("/subscribe")
    async def sign_up(request: Request) -> HTMLResponse:
        form = await read_form(request)
        return await _sign_up(site, SignUp.read(form), form, client_of(request))

    @router.get("/subscribe/confirm")
    async def confirm_page(request: Request) -> HTMLResponse:
        token = token_of(request)
        try:
            payload = site.signer.read(Purpose.CONFIRM, token)
            address = _sign_up_of(payload)[0]
        except BadLink as problem:
            return _link_problem(site, problem)
        return site.page("confirm.html", token=token, email=address.id, choices=choices_in_words(site.force, payload))

    @router.post("/subscribe/confirm")
    async def confirm(request: Request) -> HTMLResponse:
        token = token_of(request, await read_form(request))
        try:
            payload = site.signer.read(Purpose.CONFIRM, token)
            address, places, topics, sector = _sign_up_of(payload)
        except BadLink as problem:
            return _link_problem(site, problem)
        assert token is not None  # read() refuses a missing token
        done: dict[str, Any] = {
            "email": address.id,
            "choices": choices_in_words(site.force, payload),
            "manage_url": site.signer.manage_url(address.id),
            "unsubscribe_url": site.signer.unsubscribe_url(address.id),
        }
        key = await site.ledger.begin(CONFIRMED, token)
        if key is None:
            return site.page("confirmed.html", already=True, **done)
        try:
            await site.subscriptions.subscribe(address, age_confirmed=True, places=places, topics=topics, sector=sector)
        except (InvalidInput, NotAllowed) as refused:
            # The force's topics or sectors changed since the link was made: nothing was stored.
            await site.ledger.undo(CONFIRMED, key)
            return site.page(
                "link_problem.html",
                status=409,
                heading="We couldn't start your alerts",
                message=_refusal_text(refused),
                next_step="signup",
            )
        except BaseException:
            await site.ledger.undo(CONFIRMED, key)
            raise
        await site.ledger.finish(CONFIRMED, key)
        logger.info("an email resident confirmed their sign-up")
        return site.page("confirmed.html", already=False, **done)


async def _sign_up(site: Site, typed: SignUp, form: FormData, client: str) -> HTMLResponse:
    force = site.force
    problems = Problems()
    address: Address | None = None
    found = Found()
    by_text = typed.channel == "sms" and site.texts is not None
    try:
        address = mobile_number(typed.mobile) if by_text else email_address(typed.email)
    except InvalidInput as error:
        collect(problems, error)
    try:
        found = await find_place(
            site.geocoder, force, place_query(typed.where), chosen=typed.place, searched=typed.searched
        )
        if found.choices and typed.searched == found.searched:
            problems.add("place", "Choose one of the places listed, or type a fuller address or postcode.", "place-0")
    except InvalidInput as error:
        collect(problems, error, {"place": "place-0"})
    topics: tuple[str, ...] = ()
    try:
        topics = chosen_topics(form, force)
    except InvalidInput as error:
        collect(problems, error, {"topics": topics_anchor(force)})
    sector: str | None = None
    try:
        sector = chosen_sector(form, force)
    except InvalidInput as error:
        collect(problems, error)
    if not typed.age_confirmed:
        problems.add(
            "age",
            f"Confirm that you are {force.settings.minimum_age} or older. "
            "If you are younger, you can't sign up, and nothing you typed has been kept.",
            "age-yes",
        )
    if problems or found.spot is None or address is None:
        return _form(site, typed, problems=problems, found=found, status=400 if problems else 200)

    spot = found.spot
    payload = {
        "places": [{"label": place_label(typed.label), "lat": spot.lat, "lon": spot.lon}],
        "topics": list(topics),
        "sector": sector,
        "age": True,
    }
    if by_text:
        try:
            token = await send_code(site, address, payload, client)
        except CodeNotSent as failure:
            problems.add("mobile", str(failure))
            return _form(site, typed, problems=problems, found=found, status=failure.status)
        return code_page(site, token, read_pending(site, token))
    payload = {"email": address.id, **payload}
    slot = await site.ledger.take_mail_slot(address.id, client)
    if slot is None:
        problems.add(
            "email",
            f"We've sent as many emails as we can (at most {MAILS_PER_HOUR} an hour to one address). Please "
            "look for the link in your inbox (and spam folder), or try again in an hour.",
        )
        return _form(site, typed, problems=problems, found=found, status=429)
    try:
        await site.mail.confirmation(address.id, payload)
    except MailError as failure:
        await site.ledger.undo(MAIL_SENT, slot)
        logger.warning(
            "a sign-up's confirmation email was not sent: %s", "refused" if failure.permanent else "relay unavailable"
        )
        problems.add("email", SEND_FAILED)
        return _form(site, typed, problems=problems, found=found, status=503)
    await site.ledger.finish(MAIL_SENT, slot)
    logger.info("a sign-up's confirmation email was sent")
    return site.page("check_email.html", email=address.id)


def _form(
    site: Site, typed: SignUp, *, problems: Problems | None = None, found: Found | None = None, status: int = 200
) -> HTMLResponse:
    found = found or Found()
    return site.page(
        "subscribe.html",
        status=status,
        form=typed,
        problems=problems or Problems(),
        choices=found.choices,
        searched=found.searched,
        place_options=place_options(found.choices),
    )


def _sign_up_of(payload: dict[str, Any]) -> tuple[Address, list[NewPlace], list[str], str | None]:
    """The subscription a confirmation link carries; ``BadLink`` if it does not hold one."""
    try:
        address = Address(Channel.EMAIL, str(payload["email"]))
        places = [NewPlace(str(p["label"]), float(p["lat"]), float(p["lon"])) for p in payload["places"]]
        topics = [str(t) for t in payload["topics"]]
        sector = str(payload["sector"]) if payload.get("sector") else None
    except (KeyError, TypeError, ValueError, InvalidInput):
        raise BadLink() from None
    if payload.get("age") is not True or not places:
        raise BadLink()
    return address, places, topics, sector


def _link_problem(site: Site, problem: BadLink) -> HTMLResponse:
    expired = isinstance(problem, ExpiredLink)
    return site.page(
        "link_problem.html",
        status=410 if expired else 400,
        heading="This confirmation link has expired" if expired else "This confirmation link doesn't work",
        message=(
            "Confirmation links work for 24 hours. Nothing was kept from your sign-up, so please sign up again."
            if expired
            else str(problem) + " Nothing has been changed. You can sign up again."
        ),
        next_step="signup",
    )


def _refusal_text(error: InvalidInput | NotAllowed) -> str:
    if isinstance(error, InvalidInput):
        return "Some of the choices in this link are no longer offered. Nothing was kept; please sign up again."
    return str(error)
