"""The "Useful / Not useful" links in an alert's email, followed over HTTP (the app in-process): opening a link
records nothing (mail systems' link scanners open links), the page's one button does; a second answer replaces
the first; forged, expired and wrong-address links are told so and change nothing. Both databases."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import sqlalchemy as sa

from bots.email.links import LinkSigner, Purpose
from core.delivery.worker import DeliveryWorker
from core.geo.areas import CircleArea
from core.model import Alert, Channel
from core.services.alerts import AlertRequest
from core.settings import Settings
from runtime.app import Lookout, build, create_app
from sandbox.smtp import SmtpSink
from storage.tables import alert_feedback
from tests.support.residents import STAFFORD, add_residents, offset, resident_at

SUBSCRIBER = "ada.lovelace@example.org"
FAR_AWAY = "grace.hopper@example.org"
SECRET = "feedback-link-secret-0123456789"
OFFICER = "U01OFFICER1"


@dataclass
class Pages:
    lookout: Lookout
    client: httpx.AsyncClient
    sink: SmtpSink
    alert: Alert

    async def answers(self) -> list[tuple]:
        f = alert_feedback.c
        async with self.lookout.engine.connect() as conn:
            found = await conn.execute(sa.select(f.alert_id, f.channel, f.useful).order_by(f.id))
            return [tuple(r) for r in found]


@pytest.fixture
async def pages(database_url: str, uow_factory, clock) -> AsyncIterator[Pages]:
    await add_residents(
        uow_factory,
        resident_at(*STAFFORD, channel=Channel.EMAIL, ident=SUBSCRIBER),
        resident_at(*offset(*STAFFORD, north_m=6000), channel=Channel.EMAIL, ident=FAR_AWAY),  # outside the area
    )
    with SmtpSink() as sink:
        lookout = build(
            Settings(
                _env_file=None,
                LOOKOUT_DATABASE_URL=database_url,
                LOOKOUT_SMTP_URL=sink.url,
                LOOKOUT_LINK_SECRET=SECRET,
                LOOKOUT_PUBLIC_URL="http://lookout.test",
                LOOKOUT_GEOCODER_DOMAIN="127.0.0.1:9",
                LOOKOUT_GEOCODER_SCHEME="http",
                SLACK_OFFICER_IDS=OFFICER,
            ),
            clock=clock,
        )
        draft = await lookout.alerts.draft(
            AlertRequest(
                incident_number="MV-20261125-0456",
                headline="Bogus callers",
                message="Two men claiming to be from the water board.",
                area=CircleArea(*STAFFORD, 500),
                everyone=True,
            ),
            OFFICER,
        )
        alert = (await lookout.alerts.send(draft.id, OFFICER)).alert
        await DeliveryWorker(
            lookout.uow,
            {Channel.EMAIL: lookout.adapters[Channel.EMAIL]},
            force_name=lookout.force.name,
            clock=clock,
        ).run_until_idle()
        app = create_app(lookout)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://lookout.test") as client:
            yield Pages(lookout, client, sink, alert)
        await lookout.aclose()


def feedback_links(sink: SmtpSink) -> tuple[str, str]:
    (mail,) = sink.messages_to(SUBSCRIBER)
    useful, not_useful = re.findall(
        r"http://lookout\.test(/subscribe/feedback\?t=[A-Za-z0-9_.\-]+)", mail.body("plain")
    )
    return useful, not_useful


def token(link: str) -> str:
    return parse_qs(urlsplit(link).query)["t"][0]


async def test_opening_a_link_asks_once_more_and_only_the_button_records_one_answer(pages: Pages) -> None:
    useful, not_useful = feedback_links(pages.sink)
    shown = await pages.client.get(useful)
    assert shown.status_code == 200 and "Was this alert useful?" in shown.text and "Bogus callers" in shown.text
    assert 'method="post" action="/subscribe/feedback"' in shown.text and "Yes, it was useful" in shown.text
    assert await pages.answers() == []  # a link scanner opening it votes for nobody

    thanked = await pages.client.post("/subscribe/feedback", data={"t": token(useful)})
    assert thanked.status_code == 200 and "Thank you — we&#39;re glad this alert was useful." in thanked.text
    assert await pages.answers() == [(pages.alert.id, "email", True)]

    changed = await pages.client.post("/subscribe/feedback", data={"t": token(not_useful)})
    assert "make our alerts better" in changed.text
    again = await pages.client.post("/subscribe/feedback", data={"t": token(not_useful)})
    assert again.status_code == 200
    assert await pages.answers() == [(pages.alert.id, "email", False)]  # one answer, the latest

    report = await pages.lookout.alerts.reach_report(pages.alert.reference or "", OFFICER)
    assert (report.feedback_total.useful, report.feedback_total.not_useful) == (0, 1)


async def test_forged_expired_and_wrong_address_links_are_told_so_and_change_nothing(pages: Pages) -> None:
    useful, _ = feedback_links(pages.sink)
    altered = token(useful)[:-3] + ("AAA" if not token(useful).endswith("AAA") else "BBB")
    for bad in (altered, "", "x" * 5000):
        refused = await pages.client.post("/subscribe/feedback", data={"t": bad})
        assert refused.status_code == 400 and "This link doesn&#39;t work" in refused.text
    shown = await pages.client.get(f"/subscribe/feedback?t={altered}")
    assert shown.status_code == 400 and "Nothing was changed." in shown.text

    # A link of another purpose (the tip form's) signed for the same address and alert is no vote either.
    signer = LinkSigner(SECRET, "http://lookout.test")
    tip_token = signer.token(Purpose.TIP, {"email": SUBSCRIBER, "alert": pages.alert.id})
    assert (await pages.client.post("/subscribe/feedback", data={"t": tip_token})).status_code == 400

    # Properly signed, but for an address the alert never reached (outside its area), or an alert that never was.
    for payload in (
        {"email": FAR_AWAY, "alert": pages.alert.id, "useful": True},
        {"email": SUBSCRIBER, "alert": 999_999, "useful": True},
    ):
        refused = await pages.client.post("/subscribe/feedback", data={"t": signer.token(Purpose.FEEDBACK, payload)})
        assert refused.status_code == 404
        assert "That alert wasn&#39;t sent to you, so it can&#39;t be rated. Nothing was changed." in refused.text

    # Expired: signed 31 days ago.
    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    class Past(TimestampSigner):
        def get_timestamp(self) -> int:
            return super().get_timestamp() - 31 * 24 * 3600

    old = URLSafeTimedSerializer(SECRET, salt="lookout-feedback", signer=Past).dumps(
        {"email": SUBSCRIBER, "alert": pages.alert.id, "useful": True}
    )
    expired = await pages.client.post("/subscribe/feedback", data={"t": old})
    assert expired.status_code == 410 and "work for 30 days" in expired.text
    assert await pages.answers() == []
