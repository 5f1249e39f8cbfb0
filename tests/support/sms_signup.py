"""The app on loopback with email and SMS on (the Twilio stand-in, the Nominatim stand-in, an SMTP sink), for the web
sign-up by text message: the integration tests and the browser test drive it the same way."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import sqlalchemy as sa

from core.clock import Clock
from core.settings import Settings
from runtime.app import Lookout, build, create_app
from sandbox.nominatim import NominatimStandIn
from sandbox.server import BackgroundServer
from sandbox.sms import SmsStandIn
from sandbox.smtp import SmtpSink
from storage.tables import residents
from tests.support.database import rows
from tests.support.processes import free_port

ACCOUNT = "AC" + "1" * 32
TOKEN = "sms-signup-auth-token"
LINK_SECRET = "sms-signup-link-secret-0123456789"
STAFFORD_POSTCODE = (52.80705, -2.11350)  # the stand-in's centroid of ST16 2LZ


@dataclass
class Site:
    url: str
    sms: SmsStandIn
    sink: SmtpSink
    lookout: Lookout
    database_url: str

    def sign_up(self, mobile: str = "07700 900601", *, channel: str = "sms", **more: str) -> httpx.Response:
        form: dict[str, str | list[str]] = {
            "channel": channel,
            "mobile": mobile,
            "email": "",
            "where": "ST16 2LZ",
            "label": "home",
            "topics": ["burglary"],
            "sector": "",
            "age": "yes",
        }
        form.update(more)
        return httpx.post(f"{self.url}/subscribe", data=form, timeout=20)

    def enter(self, token: str, code: str) -> httpx.Response:
        return httpx.post(f"{self.url}/subscribe/code", data={"t": token, "code": code}, timeout=20)

    def new_code(self, token: str) -> httpx.Response:
        return httpx.post(f"{self.url}/subscribe/code/new", data={"t": token}, timeout=20)

    def codes_to(self, number: str) -> list[str]:
        return [m.group(1) for body in self.sms.texts_to(number) if (m := re.match(r"(\d{6}) is your code", body))]

    def residents(self) -> list:
        return rows(self.database_url, sa.select(residents))


@contextmanager
def running(database_url: str, clock: Clock, *, sms: bool = True) -> Iterator[Site]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (
        SmsStandIn(ACCOUNT, TOKEN, webhook_url=f"{url}/sms/webhook") as stand_in,
        NominatimStandIn() as nominatim,
        SmtpSink() as sink,
    ):
        env = (
            {
                "SMS_ACCOUNT_SID": ACCOUNT,
                "SMS_AUTH_TOKEN": TOKEN,
                "SMS_FROM": stand_in.number,
                "SMS_API_BASE": stand_in.api_base,
            }
            if sms
            else {}
        )
        settings = Settings(
            _env_file=None,
            LOOKOUT_DATABASE_URL=database_url,
            LOOKOUT_PUBLIC_URL=url,
            LOOKOUT_SMTP_URL=sink.url,
            LOOKOUT_LINK_SECRET=LINK_SECRET,
            LOOKOUT_GEOCODER_DOMAIN=nominatim.domain,
            LOOKOUT_GEOCODER_SCHEME="http",
            **env,
        )
        lookout = build(settings, clock=clock)
        server = BackgroundServer(create_app(lookout), "lookout", port)
        server.start()
        try:
            yield Site(url, stand_in, sink, lookout, database_url)
        finally:
            server.stop()
            # On a thread of its own: a browser test's thread has Playwright's event loop running in it.
            closing = threading.Thread(target=lambda: asyncio.run(lookout.aclose()))
            closing.start()
            closing.join()


def site_codes(stand_in: SmsStandIn) -> list[str]:
    return [m.group(1) for t in stand_in.sent if (m := re.match(r"(\d{6}) is your code", t.body))]


def text_of(response: httpx.Response) -> str:
    words = re.sub(r"<[^>]+>", " ", response.text)
    return " ".join(words.replace("&#39;", "'").replace("&quot;", '"').replace("&amp;", "&").split())


def token_in(page: httpx.Response) -> str:
    found = re.search(r'name="t" value="([^"]+)"', page.text)
    assert found, text_of(page)
    return found.group(1)
