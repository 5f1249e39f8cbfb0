"""The app (``lookout serve``) with email on: a real SMTP sink on loopback, the Nominatim stand-in, and Slack's tips queue.

The tests act as a person does: through the ``/subscribe`` pages over HTTP,
and by following the links in the emails the sink received.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from itsdangerous import TimestampSigner

from bots.email.links import LinkSigner, Purpose
from sandbox.nominatim import NominatimStandIn
from sandbox.slack import SlackStandIn
from sandbox.slack_records import SlackLimits
from sandbox.smtp import ReceivedMail, SmtpSink
from tests.support.processes import Server, free_port, lookout_env

LINK_SECRET = "email-e2e-link-secret-0123456789"
SENDER = "Mercia Vale Police alerts <alerts@mercia-vale.police.example>"
SLACK_TOKEN = "xoxb-email-e2e"
SLACK_SECRET = "email-e2e-signing-secret"
OFFICER = "U01OFFICER1"
TIPS_CHANNEL = "C01TIPSQUEUE"
STAFFORD_POSTCODE = ("ST16 2LZ", 52.80705, -2.11350)  # the stand-in's postcode centroid
STONE_STATION_ROAD = (52.90390, -2.14590)  # the middle of the stand-in's Station Road in Stone


@dataclass
class EmailSite:
    server: Server
    env: dict[str, str]
    sink: SmtpSink
    slack: SlackStandIn
    signer: LinkSigner
    database_url: str

    @property
    def url(self) -> str:
        return self.server.url

    def mail_to(self, address: str, subject_part: str, count: int = 1) -> ReceivedMail:
        """The ``count``-th email to ``address`` whose subject contains ``subject_part`` (waiting for it)."""
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            found = [m for m in self.sink.messages_to(address) if subject_part in m.subject]
            if len(found) >= count:
                return found[count - 1]
            time.sleep(0.05)
        raise AssertionError(
            f"no email {count} to {address} about {subject_part!r}; "
            f"it has: {[m.subject for m in self.sink.messages_to(address)]}"
        )

    def expired_token(self, purpose: Purpose, payload: dict[str, Any], age_seconds: int) -> str:
        """A token signed ``age_seconds`` ago with the site's secret (the signer's clock moved back, not the test's)."""

        class Past(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(time.time()) - age_seconds

        serializer = self.signer._serializer(purpose)  # the same secret and per-purpose salt as the site's links
        serializer.signer = Past
        return serializer.dumps(payload)


def link_in(mail: ReceivedMail, path: str) -> str:
    """The first link to ``path`` in the email's plain-text part."""
    found = re.search(rf"https?://[^\s/]+{re.escape(path)}\?t=[A-Za-z0-9_.\-]+", mail.body("plain"))
    assert found, f"no {path} link in {mail.subject!r}:\n{mail.body('plain')}"
    return found.group(0)


@contextmanager
def email_site(database_url: str, **extra_env: str) -> Iterator[EmailSite]:
    slack = SlackStandIn(SLACK_TOKEN, SLACK_SECRET, limits=SlackLimits(post_per_channel_per_second=None))
    with SmtpSink() as sink, NominatimStandIn() as nominatim, slack:
        port = free_port()
        public_url = f"http://127.0.0.1:{port}"
        env = lookout_env(
            database_url,
            LOOKOUT_SMTP_URL=sink.url,
            LOOKOUT_LINK_SECRET=LINK_SECRET,
            LOOKOUT_PUBLIC_URL=public_url,
            LOOKOUT_EMAIL_FROM=SENDER,
            LOOKOUT_GEOCODER_DOMAIN=nominatim.domain,
            SLACK_BOT_TOKEN=SLACK_TOKEN,
            SLACK_SIGNING_SECRET=SLACK_SECRET,
            SLACK_API_BASE=slack.api_url,
            SLACK_TIPS_CHANNEL=TIPS_CHANNEL,
            SLACK_OFFICER_IDS=OFFICER,
            **extra_env,
        )
        server = Server(env, port=port)
        site = EmailSite(server, env, sink, slack, LinkSigner(LINK_SECRET, public_url), database_url)
        try:
            server.wait_until_up()
            yield site
        finally:
            output = server.stop()
            print(output[-6000:])  # pytest shows it beside a failure: what the server said while the test waited
            assert "Traceback" not in output, output[-4000:]
            # The pages' links are as good as passwords: none may reach the log.
            for mail in sink.messages():
                for token in re.findall(r"\?t=([A-Za-z0-9_.\-]+)", mail.body("plain")):
                    assert token not in output, "a signed link's token was logged"
