"""Information about an alert, from the "reply with information" link in its email (``/subscribe/tip``).

The link ties the form to the alert and to the resident's address; the tip
goes through ``TipService.submit`` like a tip from Telegram or WhatsApp, so it
lands in the alert's thread in the officers' Slack tips queue, under the same
flood control. Anonymous unless the person says officers may contact them.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from bots.email.links import BadLink, ExpiredLink, Purpose
from bots.email.pages.forms import Problems, TipForm, collect
from bots.email.pages.ledger import TIP_SENT
from bots.email.pages.site import Site, read_form, token_of
from core.errors import InvalidInput, NotFound
from core.model import Address, AlertState, Channel
from core.services.tips import MAX_CONTACT, MAX_TIP_TEXT, NewTip, TooManyTips

logger = logging.getLogger("lookout.email.pages")

# Alerts residents have been sent; a link to any other (a draft, say) shows no alert details.
SHOWN_STATES = frozenset(
    {AlertState.SENDING, AlertState.SENT, AlertState.CANCELLED, AlertState.RESOLVED, AlertState.EXPIRED}
)


@dataclass(frozen=True)
class AlertShown:
    reference: str
    headline: str


def register(router: APIRouter, site: Site) -> None:
    @router.get("/subscribe/tip")
    async def tip_form(request: Request) -> HTMLResponse:
        token = token_of(request)
        try:
            address, alert_id = _tip_link(site.signer.read(Purpose.TIP, token))
            await site.subscriptions.get(address)
        except BadLink as problem:
            return _link_problem(site, problem)
        except NotFound:
            return _not_signed_up(site)
        return await _form(site, token or "", address, alert_id, TipForm(), Problems(), nonce=secrets.token_urlsafe(16))

    @router.post("/subscribe/tip")
    async def send_tip(request: Request) -> HTMLResponse:
        form = await read_form(request)
        token = token_of(request, form)
        try:
            address, alert_id = _tip_link(site.signer.read(Purpose.TIP, token))
        except BadLink as problem:
            return _link_problem(site, problem)
        assert token is not None
        typed = TipForm.read(form)
        nonce = str(form.get("n") or "") or secrets.token_urlsafe(16)
        problems = typed.problems()
        if problems:
            return await _form(site, token, address, alert_id, typed, problems, nonce=nonce, status=400)
        key = await site.ledger.begin(TIP_SENT, nonce)
        if key is None:
            return site.page("tip_sent.html", reference=None)
        contact = (typed.contact.strip() or f"{address.id} (email)") if typed.may_contact else None
        try:
            tip = await site.tips.submit(
                address, NewTip(text=typed.text, alert_id=alert_id, may_contact=typed.may_contact, contact=contact)
            )
        except TooManyTips as flood:
            await site.ledger.undo(TIP_SENT, key)
            problems.add("text", f"{flood} Your text is still here: send it again in a minute.")
            return await _form(site, token, address, alert_id, typed, problems, nonce=nonce, status=429)
        except InvalidInput as error:
            await site.ledger.undo(TIP_SENT, key)
            collect(problems, error)
            return await _form(site, token, address, alert_id, typed, problems, nonce=nonce, status=400)
        except NotFound:
            await site.ledger.undo(TIP_SENT, key)
            return _not_signed_up(site)
        except BaseException:
            await site.ledger.undo(TIP_SENT, key)
            raise
        await site.ledger.finish(TIP_SENT, key)
        return site.page("tip_sent.html", reference=tip.reference)


async def _form(
    site: Site,
    token: str,
    address: Address,
    alert_id: int,
    typed: TipForm,
    problems: Problems,
    *,
    nonce: str,
    status: int = 200,
) -> HTMLResponse:
    return site.page(
        "tip.html",
        status=status,
        token=token,
        nonce=nonce,
        email=address.id,
        form=typed,
        problems=problems,
        alert=await _alert(site, alert_id),
        max_text=MAX_TIP_TEXT,
        max_contact=MAX_CONTACT,
    )


async def _alert(site: Site, alert_id: int) -> AlertShown | None:
    async with site.uow(read_only=True) as work:
        alert = await work.alerts.get(alert_id)
    if alert is None or alert.state not in SHOWN_STATES:
        return None
    return AlertShown(alert.reference or "", alert.headline)


def _tip_link(payload: dict[str, Any]) -> tuple[Address, int]:
    try:
        address = Address(Channel.EMAIL, str(payload["email"]))
        alert_id = payload["alert"]
    except (KeyError, InvalidInput):
        raise BadLink() from None
    if not isinstance(alert_id, int) or isinstance(alert_id, bool):
        raise BadLink()
    return address, alert_id


def _link_problem(site: Site, problem: BadLink) -> HTMLResponse:
    expired = isinstance(problem, ExpiredLink)
    return site.page(
        "link_problem.html",
        status=410 if expired else 400,
        heading="This link has expired" if expired else "This link doesn't work",
        message=("Links to send information about an alert work for 14 days." if expired else str(problem))
        + " Nothing has been sent.",
        next_step="contact",
    )


def _not_signed_up(site: Site) -> HTMLResponse:
    return site.page(
        "link_problem.html",
        status=404,
        heading="You're not signed up",
        message="This address doesn't get alerts from us any more, so this form can't be used. Nothing has been sent.",
        next_step="contact",
    )
