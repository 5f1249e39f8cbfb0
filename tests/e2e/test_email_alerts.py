"""``lookout serve`` with email on: an alert from the command line, its update and its cancellation reach an email
resident through a real SMTP server on loopback, and a dead address is given up on."""

from __future__ import annotations

import asyncio
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from bots.email.links import LinkSigner, Purpose
from core.clock import utc_now
from core.model import Channel
from sandbox.smtp import SmtpSink
from storage.database import make_async_engine
from storage.uow import unit_of_work_factory
from tests.support.processes import Server, lookout_env, run_json, run_lookout
from tests.support.residents import STAFFORD, add_residents, resident_at

SECRET = "e2e-email-link-secret"
PUBLIC = "https://lookout.mercia-vale.police.example"
COMPOSE = [
    "--incident",
    "MV-20261125-0456",
    "--headline",
    "Missing boy, 9",
    "--message",
    "Sam <9> & his dog, last seen by the canal.",
    "--at",
    f"{STAFFORD[0]},{STAFFORD[1]}",
    "--radius",
    "1km",
    "--everyone",
]


@pytest.fixture
def residents(database_url: str):
    async def seed():
        engine = make_async_engine(database_url)
        added = await add_residents(
            unit_of_work_factory(engine, clock=utc_now),
            resident_at(*STAFFORD, channel=Channel.EMAIL, ident="ada@example.org"),
            resident_at(*STAFFORD, channel=Channel.EMAIL, ident="bounce@example.org"),
        )
        await engine.dispose()
        return added

    return asyncio.run(seed())


# The processes and the relay are what this exercises; storage has its tests on both databases.
def test_an_alert_update_and_cancellation_reach_an_email_resident(database_url: str, residents) -> None:
    with SmtpSink() as sink:
        env = lookout_env(
            database_url,
            LOOKOUT_SMTP_URL=sink.url,
            LOOKOUT_LINK_SECRET=SECRET,
            LOOKOUT_PUBLIC_URL=PUBLIC,
            LOOKOUT_EMAIL_FROM="Mercia Vale Police <alerts@mercia-vale.police.example>",
            LOOKOUT_EMAIL_BOUNCE_LIMIT="1",
        )
        server = Server(env)
        try:
            server.wait_until_up()
            # The bouncing address dies at once (limit 1), so --wait says not everything was delivered: exit 1.
            waited = run_lookout(["alert", "send", *COMPOSE, "--yes", "--json", "--wait"], env)
            assert waited.returncode == 1 and "1 delivery died" in waited.stderr, waited.stderr
            sent = json.loads(waited.stdout)
            assert sent["recipients"] == {"email": 2} and sent["state"] == "sent"
            assert sent["wait"] == {"delivered": False, "gave_up": None, "states": {"dead": 1, "sent": 1}}
            (alert,) = sink.wait_for("ada@example.org")
            assert alert.subject == "Police alert: Missing boy, 9" and "Sam <9> & his dog" in alert.body("plain")
            assert "Sam &lt;9&gt; &amp; his dog" in alert.body("html")
            (tip,) = re.findall(rf"{re.escape(PUBLIC)}/subscribe/tip\?t=[\w.\-]+", alert.body("plain"))
            assert (
                LinkSigner(SECRET, PUBLIC).read(Purpose.TIP, parse_qs(urlsplit(tip).query)["t"][0])["email"]
                == "ada@example.org"
            )
            assert alert.message["List-Unsubscribe"].startswith(f"<{PUBLIC}/subscribe/unsubscribe?t=")

            run_json(["alert", "update", sent["reference"], "--message", "Sam has been found safe."], env)
            run_json(["alert", "cancel", sent["reference"], "--yes", "--reason", "Found safe and well."], env)
            _, update, cancel = sink.wait_for("ada@example.org", 3, timeout=30)
            assert update.subject == "Update: Missing boy, 9" and cancel.subject == "Cancelled: Missing boy, 9"
            assert update.message["In-Reply-To"] == cancel.message["In-Reply-To"] == alert.message["Message-ID"]
            # The bounced address (limit 1) was made inactive at once: the update and cancellation never tried it.
            assert sink.refused == 1 and sink.messages_to("bounce@example.org") == []
        finally:
            output = server.stop()
    assert "Traceback" not in output
    assert "email" in output.split("platforms on:")[1].split(";")[0]
    assert "ada@example.org" not in output  # addresses are never logged
