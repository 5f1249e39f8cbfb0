"""Signing up by text message: a code sent to the number, typed on a second page (``/subscribe/code``).

Offered beside email when SMS is on. As with email, nothing about the person
is stored before the number is proved theirs: the sign-up (the number, the
place as the centre of its cell, topics, sector) travels in a signed token in
the page, with a random nonce, the time the code stops working and a keyed hash
of the code (HMAC-SHA256 with a key from ``LOOKOUT_LINK_SECRET``, so the token
shows nothing of the code to whoever holds it). The server keeps only what
checking needs, in the inbound-once log under keyed hashes of the nonce: the
tries made (at most ``CODE_TRIES``, right or wrong) and that the code was used.

A right code within ``CODE_LIFETIME`` (by the site's clock) subscribes the
number as an SMS resident, exactly as joining by text does, and a welcome text
says how to get help or stop. The texts go through the SMS channel's delivery
adapter, which the composition root hands to the pages (``Host.adapters``),
and count against the same hourly caps as the pages' emails (``ledger.py``).

    POST /subscribe            channel=sms: check the form, text a code, show the code page
    POST /subscribe/code       t, code: the code typed; right → subscribed
    POST /subscribe/code/new   t: a new code for the same sign-up (the caps apply)
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from bots.email.links import BadLink, ExpiredLink, Purpose
from bots.email.pages.forms import Problems, mobile_in_words
from bots.email.pages.ledger import CODE_CONFIRMED, CODE_TRIED, MAIL_SENT, MAILS_PER_HOUR
from bots.email.pages.mail import choices_in_words
from bots.email.pages.site import Site, client_of, read_form, token_of
from core.errors import InvalidInput, NotAllowed
from core.model import Address, Channel
from core.outbound import OutboundMessage
from core.services.subscriptions import NewPlace

logger = logging.getLogger("lookout.email.pages")

CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=10)
CODE_TRIES = 5


class CodeNotSent(Exception):
    """The code was not texted; ``str(error)`` is fit to show beside the number, ``status`` is the page's."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Pending:
    """A sign-up by text waiting for its code, as its token carries it."""

    address: Address
    places: list[NewPlace]
    topics: list[str]
    sector: str | None
    nonce: str
    digest: str
    expires: datetime
    payload: dict[str, Any]


def _code_key(site: Site) -> bytes:
    return hmac.new(site.signer.secret.encode(), b"lookout-text-code", hashlib.sha256).digest()


def code_digest(site: Site, nonce: str, code: str) -> str:
    return hmac.new(_code_key(site), f"{nonce}:{code}".encode(), hashlib.sha256).hexdigest()


def code_text(force_name: str, code: str) -> str:
    minutes = int(CODE_LIFETIME.total_seconds() // 60)
    return (
        f"{code} is your code to start {force_name} alerts by text. It works for {minutes} minutes. "
        "If you didn't ask for it, ignore this text."
    )


def welcome_text(force_name: str) -> str:
    return (
        f"You're signed up for {force_name} alerts by text. Reply TOPICS or PLACES to change them, "
        "HELP for help, STOP to end."
    )


async def send_code(site: Site, address: Address, sign_up: dict[str, Any], client: str) -> str:
    """Text a new code to ``address`` for ``sign_up`` (its places, topics, sector, age); the token for the code page.
    ``CodeNotSent`` when the hour's allowance is spent or the provider did not take the text (nothing is counted)."""
    sender = site.texts
    assert sender is not None, "SMS is off"
    slot = await site.ledger.take_mail_slot(address.id, client)
    if slot is None:
        raise CodeNotSent(
            f"We've sent as many codes as we can (at most {MAILS_PER_HOUR} texts an hour to one number). "
            "Please look for the text we sent, or try again in an hour.",
            429,
        )
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    nonce = secrets.token_urlsafe(16)
    expires = site.clock() + CODE_LIFETIME
    try:
        result = await sender.send(address, OutboundMessage(text=code_text(site.force.name, code)))
    except BaseException:
        await site.ledger.undo(MAIL_SENT, slot)
        raise
    if not result.ok:
        await site.ledger.undo(MAIL_SENT, slot)
        logger.warning(
            "a sign-up's code was not texted: %s", "refused" if result.permanent_reason else "provider unavailable"
        )
        if result.permanent_reason:
            raise CodeNotSent(
                "We couldn't send a text to this number. Check it's a mobile number that can get texts. "
                "If you once replied STOP to our texts, text START to us first. Nothing has been kept.",
                400,
            )
        raise CodeNotSent(
            "Sorry, we couldn't send the text just now. Nothing has been kept. Please try again in a few minutes.", 503
        )
    await site.ledger.finish(MAIL_SENT, slot)
    logger.info("a sign-up's code was texted")
    payload = {
        **sign_up,
        "sms": address.id,
        "n": nonce,
        "h": code_digest(site, nonce, code),
        "exp": expires.timestamp(),
    }
    return site.signer.token(Purpose.TEXT_CODE, payload)


def read_pending(site: Site, token: str | None) -> Pending:
    """The sign-up a code page's token carries; ``BadLink``/``ExpiredLink`` when it does not hold one."""
    payload = site.signer.read(Purpose.TEXT_CODE, token)
    try:
        address = Address(Channel.SMS, str(payload["sms"]))
        places = [NewPlace(str(p["label"]), float(p["lat"]), float(p["lon"])) for p in payload["places"]]
        topics = [str(t) for t in payload["topics"]]
        sector = str(payload["sector"]) if payload.get("sector") else None
        nonce, digest = str(payload["n"]), str(payload["h"])
        expires = datetime.fromtimestamp(float(payload["exp"]), tz=site.clock().tzinfo)
    except (KeyError, TypeError, ValueError, OverflowError, InvalidInput):
        raise BadLink() from None
    if payload.get("age") is not True or not places:
        raise BadLink()
    return Pending(address, places, topics, sector, nonce, digest, expires, payload)


def sign_up_of(pending: Pending) -> dict[str, Any]:
    """The sign-up alone (no code), to text a new code for."""
    return {key: pending.payload[key] for key in ("places", "topics", "sector", "age")}


def code_page(
    site: Site, token: str, pending: Pending, *, problems: Problems | None = None, status: int = 200, code: str = ""
) -> HTMLResponse:
    return site.page(
        "check_texts.html",
        status=status,
        token=token,
        number=mobile_in_words(pending.address.id),
        problems=problems or Problems(),
        code=code,
        minutes=int(CODE_LIFETIME.total_seconds() // 60),
        per_hour=MAILS_PER_HOUR,
        code_digits=CODE_DIGITS,
    )


def register(router: APIRouter, site: Site) -> None:
    @router.post("/subscribe/code")
    async def enter_code(request: Request) -> HTMLResponse:
        form = await read_form(request)
        token = token_of(request, form)
        try:
            pending = read_pending(site, token)
        except BadLink as problem:
            return _token_problem(site, problem)
        assert token is not None
        typed = form.get("code")
        code = "".join(typed.split()) if isinstance(typed, str) else ""
        problems = Problems()
        if site.clock() >= pending.expires:
            problems.add(
                "code",
                f"This code has expired: codes work for {int(CODE_LIFETIME.total_seconds() // 60)} minutes. "
                "Press 'Send me a new code'.",
            )
            return code_page(site, token, pending, problems=problems, status=410)
        if not (code.isascii() and code.isdigit() and len(code) == CODE_DIGITS):
            problems.add("code", f"Enter the {CODE_DIGITS}-digit code from the text we sent, like 123456.")
            return code_page(site, token, pending, problems=problems, status=400, code=code[:20])
        tried = await site.ledger.take_try(CODE_TRIED, pending.nonce, CODE_TRIES)
        if tried is None:
            problems.add("code", "This code has been tried too many times. Press 'Send me a new code'.")
            return code_page(site, token, pending, problems=problems, status=429)
        if not hmac.compare_digest(pending.digest, code_digest(site, pending.nonce, code)):
            left = CODE_TRIES - 1 - int(tried.rsplit(":", 1)[1])
            problems.add(
                "code",
                f"That code isn't right. Check the text and try again ({left} {'try' if left == 1 else 'tries'} left)."
                if left
                else "That code isn't right, and it can't be tried again. Press 'Send me a new code'.",
            )
            return code_page(site, token, pending, problems=problems, status=400, code=code)
        return await _subscribe(site, pending)

    @router.post("/subscribe/code/new")
    async def new_code(request: Request) -> HTMLResponse:
        form = await read_form(request)
        token = token_of(request, form)
        try:
            pending = read_pending(site, token)
        except BadLink as problem:
            return _token_problem(site, problem)
        assert token is not None
        try:
            fresh = await send_code(site, pending.address, sign_up_of(pending), client_of(request))
        except CodeNotSent as failure:
            problems = Problems()
            problems.add("resend", str(failure))
            return code_page(site, token, pending, problems=problems, status=failure.status)
        return code_page(site, fresh, pending)


async def _subscribe(site: Site, pending: Pending) -> HTMLResponse:
    done: dict[str, Any] = {
        "number": mobile_in_words(pending.address.id),
        "choices": choices_in_words(site.force, pending.payload),
    }
    key = await site.ledger.begin(CODE_CONFIRMED, pending.nonce)
    if key is None:
        return site.page("text_confirmed.html", already=True, **done)
    try:
        await site.subscriptions.subscribe(
            pending.address, age_confirmed=True, places=pending.places, topics=pending.topics, sector=pending.sector
        )
    except (InvalidInput, NotAllowed):
        # The force's topics or sectors changed since the code was sent: nothing was stored.
        await site.ledger.undo(CODE_CONFIRMED, key)
        return site.page(
            "link_problem.html",
            status=409,
            heading="We couldn't start your alerts",
            message="Some of your choices are no longer offered. Nothing was kept; please sign up again.",
            next_step="signup",
        )
    except BaseException:
        await site.ledger.undo(CODE_CONFIRMED, key)
        raise
    await site.ledger.finish(CODE_CONFIRMED, key)
    logger.info("an SMS resident confirmed their sign-up on the web")
    assert site.texts is not None
    try:
        welcome = await site.texts.send(pending.address, OutboundMessage(text=welcome_text(site.force.name)))
    except Exception:  # they are signed up all the same; the page says what the text would have
        logger.exception("the welcome text after a web sign-up failed")
    else:
        if not welcome.ok:
            logger.warning("the welcome text after a web sign-up was not sent: %s", welcome.error)
    return site.page("text_confirmed.html", already=False, **done)


def _token_problem(site: Site, problem: BadLink) -> HTMLResponse:
    expired = isinstance(problem, ExpiredLink)
    return site.page(
        "link_problem.html",
        status=410 if expired else 400,
        heading="This sign-up has expired" if expired else "This page doesn't work",
        message=(
            f"Codes work for {int(CODE_LIFETIME.total_seconds() // 60)} minutes, and a sign-up waits for its code at most an hour. Nothing was kept, so "
            "please sign up again."
            if expired
            else "The form was changed or copied incompletely. Nothing has been kept. You can sign up again."
        ),
        next_step="signup",
    )
