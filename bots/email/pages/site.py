"""The pages' shared parts (``Site``) and ``add_subscribe_pages``, which puts them on the app."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from bots.body_limit import DEFAULT_LIMIT
from bots.email.links import LinkSigner
from bots.email.mailer import SmtpTarget
from bots.email.pages.forms import Problems, label_options, topic_options
from bots.email.pages.ledger import Ledger
from bots.email.pages.mail import ManageLinks, PageMail
from bots.email.pages.places import area_size_words
from bots.email.pages.responses import STYLESHEET_PATH, page
from core.clock import Clock
from core.delivery.ratelimit import HEADROOM, Pacer, SharedPacer
from core.force import ForceConfig
from core.geocoding import Geocoder
from core.model import Channel
from core.outbound import ChannelAdapter
from core.ports import UnitOfWorkFactory
from core.services.feedback import FeedbackService
from core.services.subscriptions import SubscriptionService
from core.services.tips import TipService
from storage.rate_buckets import slot_source

if TYPE_CHECKING:
    from bots.platform import Host


@dataclass(frozen=True)
class Site:
    """Everything the pages use, built once per app."""

    force: ForceConfig
    subscriptions: SubscriptionService
    tips: TipService
    geocoder: Geocoder
    uow: UnitOfWorkFactory
    signer: LinkSigner
    mail: PageMail
    ledger: Ledger
    links: ManageLinks
    clock: Clock
    # The SMS channel's adapter when SMS is on: the sign-up then offers text messages, its code sent through it.
    texts: ChannelAdapter | None = None
    feedback: FeedbackService | None = None  # residents' "Useful / Not useful" answers (its links' page)

    def values(self) -> dict[str, Any]:
        """What every page template needs: the force's name and contact, and the privacy facts."""
        settings = self.force.settings
        return {
            "force_name": self.force.name,
            "force_short_name": settings.short_name or self.force.name,
            "force_contact": self.force.contact,
            "minimum_age": settings.minimum_age,
            "area_size": area_size_words(self.force.resolution),
            "stylesheet": STYLESHEET_PATH,
            "topic_options": topic_options(self.force),
            "label_options": label_options(),
            "sectors": list(self.force.sectors.values()),
            "sms_on": self.texts is not None,
        }

    def page(self, template: str, *, status: int = 200, **values: Any) -> HTMLResponse:
        values.setdefault("problems", Problems())
        return page(template, self.values(), status=status, **values)


async def read_form(request: Request) -> FormData:
    """The posted form; an unreadable body reads as an empty form (every field then says what it needs).
    An oversized one never gets here: the app's body limit (bots.body_limit) answers 413 first."""
    try:
        return await request.form(max_files=0, max_fields=200, max_part_size=DEFAULT_LIMIT)
    except (HTTPException, MultiPartException):  # a malformed body, a file, too many fields or too long a field
        return FormData()


def relay_pacer(host: Host) -> Pacer:
    """The relay's pace for the pages' emails: the delivery workers' own schedule for email in the database (the
    worker names it ``channel:email``, on SQLite as on PostgreSQL), so pages and workers together, in one process
    or several, stay within LOOKOUT_EMAIL_PER_SECOND."""
    rate = host.settings.email_per_second * HEADROOM
    return SharedPacer(f"channel:{Channel.EMAIL.value}", rate, slot_source(host.engine))


def client_of(request: Request) -> str:
    """The address the request came from, for the per-client email cap (behind a proxy: run uvicorn with
    ``--proxy-headers`` and ``--forwarded-allow-ips`` so this is the person's, not the proxy's)."""
    return request.client.host if request.client is not None else "unknown"


def token_of(request: Request, form: FormData | None = None) -> str | None:
    """The signed token: from the form when posted from a page, else the link's ``t`` (one-click posts keep it there)."""
    posted = form.get("t") if form is not None else None
    if isinstance(posted, str) and posted:
        return posted
    return request.query_params.get("t")


def add_subscribe_pages(app: FastAPI, host: Host) -> ManageLinks:
    """Serve the ``/subscribe`` pages (email must be on: LOOKOUT_SMTP_URL and LOOKOUT_LINK_SECRET; with SMS on too, the
    sign-up offers text messages); the queued manage links they send are returned, to be started and stopped with the app."""
    from bots.email.pages import (
        feedback,
        manage,
        signup,
        text_code,
        tip,
        unsubscribe,
    )  # here: each of them imports this module

    settings = host.settings
    assert settings.smtp_url is not None and settings.link_secret is not None, "email is off"
    # Links always point at the configured address, never one taken from a request's Host header: that would let
    # anyone have a confirmation or manage link for someone else's address sent pointing at their own site.
    signer = LinkSigner.from_settings(settings)
    secret = settings.link_secret.get_secret_value()
    mail = PageMail(
        SmtpTarget.from_url(settings.smtp_url.get_secret_value()),
        settings.email_from,
        signer,
        host.force,
        relay_pacer(host),
    )
    ledger = Ledger(host.inbound, secret, mails_per_hour=settings.page_emails_per_hour, clock=host.clock)
    site = Site(
        force=host.force,
        subscriptions=host.subscriptions,
        tips=host.tips,
        geocoder=host.geocoder,
        uow=host.uow,
        signer=signer,
        mail=mail,
        ledger=ledger,
        links=ManageLinks(mail, ledger, host.subscriptions),
        clock=host.clock,
        texts=host.adapters.get(Channel.SMS),
        feedback=host.feedback,
    )
    router = APIRouter(include_in_schema=False)
    stylesheet = files("bots.email").joinpath("static/pages.css").read_bytes()

    @router.get(STYLESHEET_PATH)
    async def pages_css() -> Response:
        # A stylesheet holds nothing personal: caches may keep it (the pages themselves are no-store).
        return Response(
            stylesheet,
            media_type="text/css",
            headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    @router.get("/subscribe/privacy")
    async def privacy() -> HTMLResponse:
        return site.page("privacy.html")

    signup.register(router, site)
    if site.texts is not None:
        text_code.register(router, site)
    manage.register(router, site)
    unsubscribe.register(router, site)
    tip.register(router, site)
    feedback.register(router, site)
    app.include_router(router)
    return site.links
