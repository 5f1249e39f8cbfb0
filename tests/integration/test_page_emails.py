"""The email pages' own emails: nothing about who is signed up shows in how the page answers, and the
allowances cannot be walked around with address variants or many addresses (the app in-process, over HTTP)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy import event

from bots.email.pages.ledger import mailbox_of
from core.delivery.ratelimit import HEADROOM
from core.geo.areas import CircleArea
from core.model import Channel
from core.services.alerts import AlertRequest
from core.settings import Settings
from runtime.app import Lookout, build, create_app
from sandbox.smtp import SmtpSink
from storage.tables import rate_buckets
from tests.support.outages import eventually
from tests.support.residents import STAFFORD, add_residents, resident_at

pytestmark = pytest.mark.calendar  # make test runs it again with the clock moved

SUBSCRIBER = "ada.lovelace@example.org"


@dataclass
class Pages:
    lookout: Lookout
    client: httpx.AsyncClient
    sink: SmtpSink
    app: object


@asynccontextmanager
async def open_pages(database_url: str, uow_factory, clock, **env: str) -> AsyncIterator[Pages]:
    await add_residents(uow_factory, resident_at(*STAFFORD, channel=Channel.EMAIL, ident=SUBSCRIBER))
    with SmtpSink() as sink:
        lookout = build(
            Settings(
                _env_file=None,
                LOOKOUT_DATABASE_URL=database_url,
                LOOKOUT_SMTP_URL=sink.url,
                LOOKOUT_LINK_SECRET="pages-link-secret-0123456789",
                LOOKOUT_PUBLIC_URL="http://lookout.test",
                LOOKOUT_GEOCODER_DOMAIN="127.0.0.1:9",
                LOOKOUT_GEOCODER_SCHEME="http",
                LOOKOUT_PAGE_EMAILS_PER_HOUR="12",
                **env,
            ),
            clock=clock,
        )
        app = create_app(lookout)
        # No lifespan yet: the queued links stay queued until a test starts the app's background parts.
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://lookout.test") as client:
            yield Pages(lookout, client, sink, app)
        await lookout.aclose()


@pytest.fixture
async def pages(database_url: str, uow_factory, clock) -> AsyncIterator[Pages]:
    async with open_pages(database_url, uow_factory, clock) as opened:
        yield opened


def statements_of(lookout: Lookout) -> list[str]:
    """Every SQL statement the app runs from now on, its literal values left out."""
    seen: list[str] = []

    @event.listens_for(lookout.engine.sync_engine, "before_cursor_execute")
    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(re.sub(r"\s+", " ", statement))

    return seen


async def test_a_manage_link_request_does_the_same_work_for_a_subscriber_and_a_stranger(pages: Pages) -> None:
    statements = statements_of(pages.lookout)
    work = []
    for email in (SUBSCRIBER, "stranger@example.org"):
        statements.clear()
        answer = await pages.client.post("/subscribe/manage/link", data={"email": email})
        assert answer.status_code == 200 and email in answer.text
        work.append(list(statements))
    # The same statements in the same order, and no email sent from either request: the relay is not touched.
    assert work[0] == work[1] and work[0]
    assert pages.sink.messages() == []

    # Outside the request, the subscriber (only) gets a link.
    async with pages.app.router.lifespan_context(pages.app):  # type: ignore[attr-defined]
        for _ in range(100):
            if pages.sink.messages():
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
    assert pages.sink.messages_to("stranger@example.org") == []
    assert len(pages.sink.messages_to(SUBSCRIBER)) == 1


def test_address_variants_are_one_mailbox() -> None:
    assert {mailbox_of(a) for a in ("jo.e+x@gmail.com", "Joe@gmail.com", "j.o.e+signup+2@GMAIL.com")} == {
        "joe@gmail.com"
    }
    assert mailbox_of("joe@other.example") != mailbox_of("joe@gmail.com")


async def test_variants_of_one_mailbox_share_its_three_emails_and_the_site_caps_them_all(pages: Pages) -> None:
    async with pages.app.router.lifespan_context(pages.app):  # type: ignore[attr-defined]
        for variant in (
            "ada.lovelace+1@example.org",
            "adalovelace@example.org",
            "a.d.a.lovelace+x@example.org",
            "ADA.lovelace+2@example.org",
        ):
            await pages.client.post("/subscribe/manage/link", data={"email": variant})
        # Many addresses from one client and in all: the site's hourly cap (12 here) holds, however they are spelt.
        for n in range(30):
            await pages.client.post("/subscribe/manage/link", data={"email": f"someone{n}@example.org"})
        await asyncio.sleep(1.0)
    async with pages.lookout.uow() as work:
        mailbox = await work.inbound.count("email-mail", "")
        overall = await work.inbound.count("email-all", "")
    assert overall == 12  # 3 of the 4 variants (one mailbox), then 9 others, then nothing more this hour
    assert mailbox == 3 + 9


RELAY_PER_SECOND = 0.01  # one email in every ~100 s: whoever sends second must wait far longer than the test runs


async def test_page_emails_and_the_delivery_worker_take_turns_from_one_relay_pace(
    database_url: str, uow_factory, clock
) -> None:
    async with open_pages(database_url, uow_factory, clock, LOOKOUT_EMAIL_PER_SECOND=str(RELAY_PER_SECOND)) as pages:
        # The worker sends an alert to the subscriber: the relay's first slot, at once.
        alerts = pages.lookout.alerts
        draft = await alerts.draft(
            AlertRequest(
                incident_number="MV-20261125-0456",
                headline="Burglary",
                message="Two men seen.",
                area=CircleArea(*STAFFORD, 500),
                everyone=True,
            ),
            "cli:test",
        )
        await alerts.send(draft.id, "cli:test")  # type: ignore[arg-type]
        await pages.lookout.worker().run_until_idle()
        assert len(pages.sink.messages_to(SUBSCRIBER)) == 1
        after_worker = await _relay_schedule(pages)
        assert after_worker is not None  # the worker's email took its slot from the relay's schedule in the database

        # Then the page's manage link: it books the next slot of that same schedule and waits for it.
        async with pages.app.router.lifespan_context(pages.app):  # type: ignore[attr-defined]
            await pages.client.post("/subscribe/manage/link", data={"email": SUBSCRIBER})

            async def booked() -> bool:
                return await _relay_schedule(pages) != after_worker

            await eventually(booked, "the page's email to book a slot")
            after_page = await _relay_schedule(pages)
            sent = len(pages.sink.messages_to(SUBSCRIBER))
    interval = timedelta(seconds=1 / (RELAY_PER_SECOND * HEADROOM))
    assert abs(after_page - (after_worker + interval)) < timedelta(
        milliseconds=1
    )  # the slot after the worker's, not its own
    assert sent == 1  # so the manage link was not sent beside the alert: it waits its turn


async def _relay_schedule(pages: Pages):
    async with pages.lookout.uow(read_only=True) as work:
        found = await work.connection.execute(
            sa.select(rate_buckets.c.next_slot).where(rate_buckets.c.key == "channel:email")
        )
        return found.scalar_one_or_none()
