"""Email residents through the real delivery worker, the real EmailAdapter and a real SMTP server on loopback
(aiosmtpd): what arrives, what is retried, what bounces — on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from bots.email.adapter import EmailAdapter
from bots.email.links import LinkSigner, Purpose
from bots.email.mailer import Mailer, SmtpTarget
from core.delivery.policy import RetryPolicy
from core.delivery.ratelimit import HEADROOM
from core.delivery.worker import DeliveryWorker
from core.model import Address, Channel
from core.services.alerts import AlertService
from core.services.roles import Roles
from core.services.tips import NewTip, TipService
from core.settings import Settings
from runtime.app import build, describe_platforms
from sandbox.smtp import ReceivedMail, SmtpSink
from storage.bounces import SqlBounceCounts
from storage.tables import deliveries, residents
from tests.conftest import EXAMPLE_FORCE
from tests.integration.test_delivery_worker import OFFICER, send_alert
from tests.support.clock import FakeClock
from tests.support.fakes import FakeAdapter
from tests.support.residents import STAFFORD, add_residents, offset, resident_at

pytestmark = pytest.mark.calendar  # make test runs it again with the clock moved

SIGNER = LinkSigner("integration-link-secret", "http://127.0.0.1:8000")
SENDER = "Mercia Vale Police alerts <alerts@mercia-vale.police.example>"
BOUNCE_LIMIT = 3
SLACK_OFFICER = "U01OFFICER1"


@pytest.fixture(scope="module")
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as running:
        yield running


@pytest.fixture
def mailbox(sink: SmtpSink) -> SmtpSink:
    sink.clear()
    sink.refused = 0
    return sink


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def email(mailbox: SmtpSink, engine, force) -> AsyncIterator[EmailAdapter]:
    adapter = EmailAdapter(
        Mailer(SmtpTarget.from_url(mailbox.url)),
        SIGNER,
        SqlBounceCounts(engine),
        sender=SENDER,
        force_name=force.name,
        per_second=1000,
        bounce_limit=BOUNCE_LIMIT,
    )
    yield adapter
    await adapter.aclose()


@pytest.fixture
def slack() -> FakeAdapter:
    return FakeAdapter(Channel.SLACK)


@pytest.fixture
def worker(uow_factory, force, email, slack, clock) -> DeliveryWorker:
    return DeliveryWorker(
        uow_factory,
        {Channel.EMAIL: email, Channel.SLACK: slack},
        force_name=force.name,
        policy=RetryPolicy(max_attempts=5),
        clock=clock,
        monotonic=clock.monotonic,
    )


@pytest.fixture
def service(uow_factory, force, clock) -> AlertService:
    return AlertService(uow_factory, force, roles=Roles(), clock=clock)


def email_resident(ident: str | None = None, *, at: tuple[float, float] = STAFFORD):
    return resident_at(*at, channel=Channel.EMAIL, ident=ident)


def link(mail: ReceivedMail, path: str) -> list[str]:
    return re.findall(rf"http://127\.0\.0\.1:8000{re.escape(path)}\?t=[A-Za-z0-9_.\-]+", mail.body("plain"))


def signed(url: str, purpose: Purpose) -> dict:
    return SIGNER.read(purpose, parse_qs(urlsplit(url).query)["t"][0])


async def rows(engine) -> dict[str, list[tuple]]:
    async with engine.connect() as conn:
        found = await conn.execute(
            sa.select(
                deliveries.c.address,
                deliveries.c.state,
                deliveries.c.attempts,
                deliveries.c.last_error,
                deliveries.c.provider_message_id,
            ).order_by(deliveries.c.id)
        )
        table: dict[str, list[tuple]] = {}
        for row in found:
            table.setdefault(row.address, []).append(tuple(row[1:]))
        return table


async def resident_row(engine, resident_id: int) -> tuple[bool, int]:
    async with engine.connect() as conn:
        row = (
            await conn.execute(sa.select(residents.c.active, residents.c.bounces).where(residents.c.id == resident_id))
        ).one()
        return row.active, row.bounces


async def test_an_alert_its_update_and_its_cancellation_arrive_by_email(service, worker, mailbox, uow_factory, engine):
    near, far = await add_residents(uow_factory, email_resident(), email_resident(at=offset(*STAFFORD, north_m=4000)))
    alert = await send_alert(service, message='Two men <in> a "white" van & a dog.')
    await worker.run_until_idle()
    (first,) = mailbox.messages_to(near.address.id)
    assert mailbox.messages_to(far.address.id) == []
    assert (
        first.subject == "Police alert: Burglary in progress" and first.mail_from == "alerts@mercia-vale.police.example"
    )
    text, html = first.body("plain"), first.body("html")
    for body in (text, html):
        assert body.index("Two men") < body.index("MV-20261125-0456")  # what happened first, then the incident number
        assert "Call 101" in body  # the force's contact, with the incident number, after the message
    assert (
        'Two men <in> a "white" van & a dog.' in text
        and "Two men &lt;in&gt; a &#34;white&#34; van &amp; a dog." in html
    )
    (tip,) = link(first, "/subscribe/tip")
    assert signed(tip, Purpose.TIP) == {"email": near.address.id, "alert": alert.id}
    assert tip in html
    useful, not_useful = link(first, "/subscribe/feedback")  # "was this useful?": two signed links
    assert signed(useful, Purpose.FEEDBACK) == {"email": near.address.id, "alert": alert.id, "useful": True}
    assert signed(not_useful, Purpose.FEEDBACK) == {"email": near.address.id, "alert": alert.id, "useful": False}
    assert useful in html and not_useful in html
    (manage,) = link(first, "/subscribe/manage")
    assert signed(manage, Purpose.MANAGE) == {"email": near.address.id}
    (unsubscribe,) = link(first, "/subscribe/unsubscribe")
    assert first.message["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert first.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # On the wire as mail apps read it: one plain header line, not RFC 2047 encoded-words.
    assert f"List-Unsubscribe: <{unsubscribe}>\r\n".encode() in first.raw
    assert signed(unsubscribe, Purpose.UNSUBSCRIBE) == {"email": near.address.id}
    [(state, attempts, _, provider_id)] = (await rows(engine))[str(near.address)]
    assert (state, attempts, provider_id) == ("sent", 1, first.message["Message-ID"])

    update_id = (await service.update(alert.reference, OFFICER, message="The men left in a red car.")).alert.id
    await worker.run_until_idle()
    await service.cancel(alert.reference, OFFICER, reason="Both men have been arrested.")
    await worker.run_until_idle()
    _, update, cancel = mailbox.messages_to(near.address.id)
    assert update.subject == "Update: Burglary in progress" and "The men left in a red car." in update.body("plain")
    assert update.message["In-Reply-To"] == first.message["Message-ID"]  # mail apps thread it under the alert
    assert [signed(u, Purpose.TIP) for u in link(update, "/subscribe/tip")] == [
        {"email": near.address.id, "alert": alert.id}
    ]
    assert cancel.subject == "Cancelled: Burglary in progress" and "Both men have been arrested." in cancel.body(
        "plain"
    )
    assert cancel.message["In-Reply-To"] == first.message["Message-ID"] and "MV-20261125-0456" in cancel.body("plain")
    assert link(cancel, "/subscribe/tip") == [] and link(cancel, "/subscribe/manage")
    assert link(cancel, "/subscribe/feedback") == []  # a cancellation asks nothing
    assert [signed(u, Purpose.FEEDBACK)["alert"] for u in link(update, "/subscribe/feedback")] == [update_id] * 2
    assert cancel.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mailbox.messages_to(far.address.id) == []


async def test_a_busy_mailbox_is_retried_later(service, worker, mailbox, uow_factory, engine, clock):
    (busy,) = await add_residents(uow_factory, email_resident("busy.ada@example.org"))
    await send_alert(service)
    await worker.run_until_idle()
    [(state, attempts, error, _)] = (await rows(engine))[str(busy.address)]
    assert (state, attempts) == ("failed", 1) and error.startswith("SMTP 451")
    clock.advance(minutes=5)
    await worker.run_until_idle()
    [(state, attempts, _, _)] = (await rows(engine))[str(busy.address)]
    assert (state, attempts) == ("failed", 2) and mailbox.refused == 2
    assert await resident_row(engine, busy.id) == (True, 0)  # a refusal for now is no bounce


async def test_bounces_in_a_row_make_the_resident_inactive_and_sending_stops(
    service, worker, mailbox, uow_factory, engine, clock
):
    gone, fine = await add_residents(uow_factory, email_resident("bounce.bob@example.org"), email_resident())
    for number in range(1, BOUNCE_LIMIT + 1):
        await send_alert(service, headline=f"Burglary {number}")
        await worker.run_until_idle()
        *_, (state, attempts, error, _) = (await rows(engine))[str(gone.address)]
        assert (state, attempts) == ("dead", 1) and f"(bounce {number} of {BOUNCE_LIMIT} in a row)" in error
        assert await resident_row(engine, gone.id) == (number < BOUNCE_LIMIT, number)
    await send_alert(service, headline="Burglary 4")
    await worker.run_until_idle()
    assert len((await rows(engine))[str(gone.address)]) == BOUNCE_LIMIT  # no longer matched: no fourth email
    assert mailbox.refused == BOUNCE_LIMIT
    assert len(mailbox.messages_to(fine.address.id)) == BOUNCE_LIMIT + 1


async def test_a_delivered_email_starts_the_bounce_count_again(service, worker, mailbox, uow_factory, engine):
    (someone,) = await add_residents(uow_factory, email_resident())
    counts = SqlBounceCounts(engine)
    assert [await counts.bounced(someone.address) for _ in range(2)] == [1, 2]
    assert await counts.bounced(Address(Channel.EMAIL, "nobody@example.org")) == 0
    await send_alert(service)
    await worker.run_until_idle()
    assert len(mailbox.messages_to(someone.address.id)) == 1
    assert await resident_row(engine, someone.id) == (True, 0)


async def test_an_officers_reply_to_an_email_tipster_arrives_by_email(
    service, worker, mailbox, slack, uow_factory, engine, force, clock
):
    (tipster,) = await add_residents(uow_factory, email_resident())
    alert = await send_alert(service)
    await worker.run_until_idle()
    tips = TipService(
        uow_factory,
        force,
        roles=Roles(officers=frozenset({SLACK_OFFICER})),
        officer_queue=Address(Channel.SLACK, "C01TIPSQUEUE"),
        clock=clock,
    )
    tip = await tips.submit(tipster.address, NewTip(text="A white van on Mill Street", alert_id=alert.id))
    await tips.reply(tip.reference, SLACK_OFFICER, 'Thank you. Was it "white" <or> cream & old?')
    for _ in range(3):  # the tip waits for its thread's root in Slack
        await worker.run_until_idle()
        clock.advance(seconds=2)
    assert any("A white van on Mill Street" in m.message.text for m in slack.sent)
    _, seen, reply = mailbox.messages_to(tipster.address.id)
    # The reply was the first officer action on the tip: the tipster is told, once, that it was seen (no officer named).
    assert seen.subject == f"{force.name} has seen your information"
    assert f"An officer has seen your information ({tip.reference})" in seen.body("plain")
    assert SLACK_OFFICER not in seen.body("plain") and SLACK_OFFICER not in seen.body("html")
    assert reply.subject == f"A reply from {force.name} about your information"
    assert 'Thank you. Was it "white" <or> cream & old?' in reply.body("plain") and tip.reference in reply.body("plain")
    assert "Thank you. Was it &#34;white&#34; &lt;or&gt; cream &amp; old?" in reply.body("html")
    assert [signed(u, Purpose.TIP) for u in link(reply, "/subscribe/tip")] == [
        {"email": tipster.address.id, "alert": alert.id}
    ]
    assert reply.message["List-Unsubscribe"]


class RecordingSlots:
    """A shared-rate source that grants every slot at once and remembers what it was asked for."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, int, float]] = []

    async def reserve(self, key: str, count: int, rate: float) -> float:
        self.asked.append((key, count, rate))
        return 0.0


async def test_email_goes_at_the_relays_allowance_through_the_engines_pacer(
    service, mailbox, uow_factory, engine, force, clock
):
    await add_residents(uow_factory, *(email_resident() for _ in range(4)))
    adapter = EmailAdapter(
        Mailer(SmtpTarget.from_url(mailbox.url)),
        SIGNER,
        SqlBounceCounts(engine),
        sender=SENDER,
        force_name=force.name,
        per_second=40,
        bounce_limit=BOUNCE_LIMIT,
    )
    slots = RecordingSlots()
    worker = DeliveryWorker(
        uow_factory, {Channel.EMAIL: adapter}, force_name=force.name, slot_source=slots, clock=clock
    )
    try:
        await send_alert(service)
        await worker.run_until_idle()
    finally:
        await adapter.aclose()
    assert len(mailbox.messages()) == 4
    assert slots.asked and all(
        key == "channel:email" and rate == pytest.approx(40 * HEADROOM) for key, _, rate in slots.asked
    )
    assert sum(count for _, count, _ in slots.asked) >= 4  # every email waited for a slot of the channel's rate


async def test_the_composition_root_turns_email_on_with_the_relay_and_the_link_secret(mailbox, database_url, clock):
    only_relay = Settings(LOOKOUT_DATABASE_URL=database_url, LOOKOUT_SMTP_URL=mailbox.url, LOOKOUT_LINK_SECRET=None)
    assert Channel.EMAIL not in only_relay.enabled_channels  # links could not be signed
    settings = Settings(
        LOOKOUT_DATABASE_URL=database_url,
        LOOKOUT_FORCE_CONFIG=str(EXAMPLE_FORCE),
        LOOKOUT_SMTP_URL=mailbox.url,
        LOOKOUT_LINK_SECRET="composition-secret",
        LOOKOUT_EMAIL_PER_SECOND=3,
        LOOKOUT_PUBLIC_URL=None,
    )
    lookout = build(settings, clock=clock)
    try:
        adapter = lookout.adapters[Channel.EMAIL]
        assert Channel.EMAIL in lookout.channels and "email" in describe_platforms(lookout).split(";")[0]
        assert adapter.limits.messages_per_second == 3
        assert adapter.links.public_url == "http://127.0.0.1:8000"  # type: ignore[attr-defined]  # LOOKOUT_PUBLIC_URL unset
        assert lookout.worker().adapters[Channel.EMAIL] is adapter
    finally:
        await lookout.aclose()
