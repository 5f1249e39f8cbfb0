"""The email adapter's reading of the relay's answers, with a scripted mailer and bounce counts in memory."""

from __future__ import annotations

from collections import Counter
from email.message import EmailMessage

import pytest

from bots.email.adapter import EmailAdapter
from bots.email.links import LinkSigner
from bots.email.mailer import MailError
from core.channels import PUBLISHED_LIMITS
from core.model import Address, Channel
from core.outbound import OutboundMessage

ADA = Address(Channel.EMAIL, "ada@example.org")


class ScriptedMailer:
    def __init__(self, *failures: MailError) -> None:
        self.failures = list(failures)
        self.sent: list[EmailMessage] = []

    async def send(self, message: EmailMessage) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)

    async def aclose(self) -> None:
        pass


class Bounces:
    def __init__(self, *, broken: bool = False) -> None:
        self.counts: Counter[Address] = Counter()
        self.broken = broken

    async def bounced(self, address: Address) -> int:
        if self.broken:
            raise ConnectionError("database down")
        self.counts[address] += 1
        return self.counts[address]

    async def delivered(self, address: Address) -> None:
        if self.broken:
            raise ConnectionError("database down")
        self.counts[address] = 0


def adapter(mailer: ScriptedMailer, bounces: Bounces, *, per_second: float = 10, limit: int = 3) -> EmailAdapter:
    return EmailAdapter(
        mailer,
        LinkSigner("secret", "https://lookout.example"),
        bounces,  # type: ignore[arg-type]
        sender="Alerts <alerts@lookout.example>",
        force_name="Mercia Vale Police",
        per_second=per_second,
        bounce_limit=limit,
    )


async def test_a_sent_email_is_known_by_its_message_id_and_clears_the_bounce_count() -> None:
    mailer, bounces = ScriptedMailer(), Bounces()
    bounces.counts[ADA] = 2
    result = await adapter(mailer, bounces).send(ADA, OutboundMessage(text="Hello"))
    (sent,) = mailer.sent
    assert result.ok and result.provider_message_id == sent["Message-ID"] and sent["To"] == "ada@example.org"
    assert bounces.counts[ADA] == 0


async def test_temporary_refusals_and_an_unreachable_relay_are_retried_without_a_bounce() -> None:
    bounces = Bounces()
    email = adapter(
        ScriptedMailer(
            MailError("4.3.0 Mailbox busy", code=451, about_recipient=True),
            MailError("mail relay unreachable: ConnectionRefusedError"),
        ),
        bounces,
    )
    busy = await email.send(ADA, OutboundMessage(text="Hello"))
    down = await email.send(ADA, OutboundMessage(text="Hello"))
    assert busy.retryable and busy.error == "SMTP 451: 4.3.0 Mailbox busy"
    assert down.retryable and not down.ok and "unreachable" in (down.error or "")
    assert not bounces.counts[ADA]


async def test_permanent_refusals_count_and_the_limit_makes_the_recipient_gone() -> None:
    bounces = Bounces()
    refusal = MailError("5.1.1 Mailbox does not exist", code=550, permanent=True, about_recipient=True)
    email = adapter(ScriptedMailer(refusal, refusal, refusal), bounces, limit=3)
    results = [await email.send(ADA, OutboundMessage(text="Hello")) for _ in range(3)]
    assert [(r.ok, r.retryable, r.recipient_gone) for r in results] == [(False, False, False)] * 2 + [
        (False, False, True)
    ]
    assert results[0].permanent_reason == "SMTP 550: 5.1.1 Mailbox does not exist (bounce 1 of 3 in a row)"


async def test_the_relay_refusing_us_is_retried_and_blames_no_address() -> None:
    bounces = Bounces()
    login = MailError("5.7.8 Authentication credentials invalid", code=535, permanent=True)
    result = await adapter(ScriptedMailer(login), bounces).send(ADA, OutboundMessage(text="Hello"))
    assert result.retryable and "refused the sender" in (result.error or "")
    assert not bounces.counts[ADA]


async def test_a_database_failure_never_turns_a_sent_email_into_a_retry() -> None:
    result = await adapter(ScriptedMailer(), Bounces(broken=True)).send(ADA, OutboundMessage(text="Hello"))
    assert result.ok
    refusal = MailError("5.1.1 no such user", code=550, permanent=True, about_recipient=True)
    bounced = await adapter(ScriptedMailer(refusal), Bounces(broken=True)).send(ADA, OutboundMessage(text="Hello"))
    assert not bounced.ok and not bounced.retryable and not bounced.recipient_gone


@pytest.mark.parametrize("per_second", [0.5, 10, 250])
def test_the_pace_is_the_relays_allowance(per_second: float) -> None:
    limits = adapter(ScriptedMailer(), Bounces(), per_second=per_second).limits
    assert limits.messages_per_second == per_second
    assert limits.max_text == PUBLISHED_LIMITS[Channel.EMAIL].max_text and limits.max_buttons == 0
