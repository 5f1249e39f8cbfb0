"""The whole sandbox on one port: every stand-in under its own path, and the console at ``/``.

    /telegram/bot<token>/<method>      Telegram Bot API   TELEGRAM_API_BASE=http://127.0.0.1:P/telegram
    /slack/api/<method>                Slack Web API      SLACK_API_BASE=http://127.0.0.1:P/slack/api/
    /whatsapp/<version>/<id>/messages  WhatsApp Cloud API WHATSAPP_API_BASE=http://127.0.0.1:P/whatsapp/v21.0
    /sms/2010-04-01/Accounts/<sid>/…   Twilio Messaging   SMS_API_BASE=http://127.0.0.1:P/sms
    /nominatim/search                  Nominatim          LOOKOUT_GEOCODER_DOMAIN=127.0.0.1:P/nominatim (scheme http)
    /tiles/<z>/<x>/<y>.png             map tiles          LOOKOUT_MAP_TILES=http://127.0.0.1:P/tiles/{z}/{x}/{y}.png
    /mail/api/messages                 the mailbox: what the SMTP relay stand-in received (sandbox.mailbox)
    /                                  the console (a web page for playing residents and officers)

Mail is the one exception to the one port: SMTP is not HTTP, so the relay
stand-in (``sandbox.smtp``) listens on its own port (8025 when run alone)
and the app sends to it as to a force's relay (LOOKOUT_SMTP_URL).

Each stand-in keeps its own record and its ``/_sandbox/…`` inspection routes
under its prefix. Tokens and secrets are fixed sandbox values, so the app's
settings (``app_environment()``) never change between runs.

    with Sandbox(SandboxConfig(app_url="http://127.0.0.1:8000")) as sandbox:
        env = sandbox.app_environment()   # what `lookout serve` needs to talk to it

Run alone: ``python -m sandbox --port 8090 --smtp-port 8025 --app-url http://127.0.0.1:8000``.
"""

from __future__ import annotations

import argparse
import shlex
import threading
from dataclasses import dataclass, replace
from typing import Self

from starlette.applications import Starlette
from starlette.routing import Mount

from sandbox.console.people import (
    TELEGRAM_RESIDENT,
    WHATSAPP_RESIDENT_ID,
    WHATSAPP_RESIDENT_NAME,
)
from sandbox.console.routes import Console, Doors
from sandbox.console.slack_pane import SlackPane
from sandbox.console.sms_phone import SmsPhonePane
from sandbox.console.telegram_phone import TelegramPhone
from sandbox.console.whatsapp_phone import WhatsAppPhone
from sandbox.faults import FaultInjector
from sandbox.mailbox import Mailbox
from sandbox.nominatim import NominatimStandIn
from sandbox.server import BackgroundServer, ServedStandIn
from sandbox.slack import SlackStandIn
from sandbox.slack_workspace import OFFICER_ID, OFFICERS_CHANNEL_ID, SECOND_OFFICER_ID, SUPERVISOR_ID, TIPS_CHANNEL_ID
from sandbox.sms import SmsStandIn
from sandbox.smtp import SmtpSink
from sandbox.telegram import TelegramStandIn
from sandbox.tiles import ATTRIBUTION as TILES_ATTRIBUTION
from sandbox.tiles import TileStandIn
from sandbox.whatsapp import WhatsAppLimits, WhatsAppStandIn

DEFAULT_PORT = 8090
DEFAULT_SMTP_PORT = 8025


@dataclass(frozen=True)
class SandboxConfig:
    """The app the sandbox plays the platforms for, and the credentials both sides use."""

    app_url: str | None = None  # e.g. http://127.0.0.1:8000: webhooks and Slack requests go there
    telegram_token: str = "100000:SANDBOX"
    telegram_webhook_secret: str = "sandbox-telegram-webhook-secret"
    slack_bot_token: str = "xoxb-sandbox"
    slack_signing_secret: str = "sandbox-signing-secret"
    whatsapp_token: str = "sandbox-token"
    whatsapp_phone_number_id: str = "100000000000001"
    whatsapp_app_secret: str = "sandbox-app-secret"
    whatsapp_verify_token: str = "sandbox-verify-token"
    whatsapp_version: str = "v21.0"
    sms_account_sid: str = "AC" + "5a" * 16
    sms_auth_token: str = "sandbox-sms-auth-token"
    sms_from: str = "+447700900000"
    link_secret: str = "sandbox-link-secret"
    email_from: str = "Police alerts (sandbox) <alerts@lookout.example>"

    @property
    def slack_request_url(self) -> str | None:
        return f"{self.app_url.rstrip('/')}/slack/events" if self.app_url else None

    @property
    def whatsapp_callback_url(self) -> str | None:
        return f"{self.app_url.rstrip('/')}/whatsapp/webhook" if self.app_url else None

    @property
    def sms_webhook_url(self) -> str | None:
        return f"{self.app_url.rstrip('/')}/sms/webhook" if self.app_url else None


class Sandbox(ServedStandIn):
    """Every stand-in and the console, served together on 127.0.0.1 from a background thread."""

    def __init__(self, config: SandboxConfig | None = None, *, port: int = 0, smtp_port: int = 0) -> None:
        self.config = config = config or SandboxConfig()
        self.smtp = SmtpSink(smtp_port)
        self.mailbox = Mailbox(self.smtp)
        self.telegram = TelegramStandIn(config.telegram_token)
        self.slack = SlackStandIn(config.slack_bot_token, config.slack_signing_secret)
        # The console plays a person tapping through a conversation: allow Meta's documented burst
        # (45 messages "borrowing" pair quota) rather than the strict one-per-6-s reading the tests default to.
        self.whatsapp = WhatsAppStandIn(
            config.whatsapp_token,
            config.whatsapp_phone_number_id,
            config.whatsapp_app_secret,
            version=config.whatsapp_version,
            callback_url=config.whatsapp_callback_url,
            limits=WhatsAppLimits(per_user_burst=45),
        )
        self.sms = SmsStandIn(
            config.sms_account_sid, config.sms_auth_token, webhook_url=config.sms_webhook_url, number=config.sms_from
        )
        self.nominatim = NominatimStandIn()
        self.tiles = TileStandIn()
        self.console = Console(
            TelegramPhone(self.telegram, TELEGRAM_RESIDENT),
            WhatsAppPhone(self.whatsapp, WHATSAPP_RESIDENT_ID, WHATSAPP_RESIDENT_NAME),
            SlackPane(self.slack, lambda: self.config.slack_request_url),
            lambda: Doors(app_url=self.config.app_url or "", smtp=self.smtp.url),
            mailbox=self.smtp,
        )
        self.sms_phone = SmsPhonePane(self.sms)  # a page of its own: /_console/sms
        # The outer injector finds each call's connection, so a mounted stand-in's faults can reset it.
        self.app = FaultInjector(
            Starlette(
                routes=[
                    Mount("/telegram", app=self.telegram.app),
                    Mount("/slack", app=self.slack.app),
                    Mount("/whatsapp", app=self.whatsapp.app),
                    Mount("/sms", app=self.sms.app),
                    Mount("/nominatim", app=self.nominatim.app),
                    Mount("/tiles", app=self.tiles.app),
                    Mount("/mail", app=self.mailbox.app),
                    *self.sms_phone.routes(),
                    *self.console.routes(),
                ]
            )
        )
        self._server = BackgroundServer(self.app, "sandbox", port)

    def start(self) -> Self:
        self.smtp.start()  # first: a taken SMTP port then fails the start with nothing left running
        try:
            super().start()
        except BaseException:
            self.smtp.stop()
            raise
        # URLs the stand-ins hand out (Slack response URLs, …) must name their place on this server.
        for stand_in, prefix in (
            (self.telegram, "telegram"),
            (self.slack, "slack"),
            (self.whatsapp, "whatsapp"),
            (self.sms, "sms"),
            (self.tiles, "tiles"),
        ):
            stand_in.serve_at(f"{self.base_url}/{prefix}")
        return self

    def stop(self) -> None:
        for stand_in in (self.telegram, self.slack, self.whatsapp, self.sms, self.tiles):
            stand_in.serve_at(None)
        super().stop()
        self.smtp.stop()

    def connect_app(self, app_url: str) -> None:
        """Play the platforms for the app at ``app_url`` from now on (for an app started after the sandbox).

        Telegram needs nothing here: it calls whatever webhook the app registers with setWebhook.
        """
        self.config = replace(self.config, app_url=app_url)
        self.whatsapp.callback_url = self.config.whatsapp_callback_url
        self.sms.webhook_url = self.config.sms_webhook_url

    # --- where the app finds each platform ---------------------------------------------------------

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def console_url(self) -> str:
        return f"{self.base_url}/"

    @property
    def telegram_api_base(self) -> str:
        """For aiogram's ``TelegramAPIServer.from_base`` (``TELEGRAM_API_BASE``)."""
        return f"{self.base_url}/telegram"

    @property
    def slack_api_url(self) -> str:
        """For slack_sdk's ``base_url`` (``SLACK_API_BASE``), with the trailing slash it wants."""
        return f"{self.base_url}/slack/api/"

    @property
    def whatsapp_api_base(self) -> str:
        """The Graph base with its version (``WHATSAPP_API_BASE``)."""
        return f"{self.base_url}/whatsapp/{self.config.whatsapp_version}"

    @property
    def geocoder_domain(self) -> str:
        """geopy's ``domain`` (``LOOKOUT_GEOCODER_DOMAIN``): it puts the path before ``/search`` as given."""
        return f"127.0.0.1:{self.port}/nominatim"

    @property
    def smtp_url(self) -> str:
        """The relay stand-in (``LOOKOUT_SMTP_URL``)."""
        return self.smtp.url

    @property
    def mailbox_url(self) -> str:
        """The console's mailbox, where the mail the app sent can be read."""
        return f"{self.base_url}/#mailbox"

    def app_environment(self) -> dict[str, str]:
        """The settings that point the app at this sandbox (and only at it), as environment variables."""
        config = self.config
        env = {
            "TELEGRAM_BOT_TOKEN": config.telegram_token,
            "TELEGRAM_WEBHOOK_SECRET": config.telegram_webhook_secret,
            "TELEGRAM_API_BASE": self.telegram_api_base,
            "SLACK_BOT_TOKEN": config.slack_bot_token,
            "SLACK_SIGNING_SECRET": config.slack_signing_secret,
            "SLACK_API_BASE": self.slack_api_url,
            "SLACK_TIPS_CHANNEL": TIPS_CHANNEL_ID,
            "SLACK_OFFICERS_CHANNEL": OFFICERS_CHANNEL_ID,  # cards of alerts sent with `lookout alert send`
            "SLACK_OFFICER_IDS": f"{OFFICER_ID},{SECOND_OFFICER_ID}",
            "SLACK_SUPERVISOR_IDS": SUPERVISOR_ID,
            "WHATSAPP_TOKEN": config.whatsapp_token,
            "WHATSAPP_PHONE_NUMBER_ID": config.whatsapp_phone_number_id,
            "WHATSAPP_APP_SECRET": config.whatsapp_app_secret,
            "WHATSAPP_VERIFY_TOKEN": config.whatsapp_verify_token,
            "WHATSAPP_API_BASE": self.whatsapp_api_base,
            "SMS_ACCOUNT_SID": config.sms_account_sid,
            "SMS_AUTH_TOKEN": config.sms_auth_token,
            "SMS_FROM": config.sms_from,
            "SMS_API_BASE": f"{self.base_url}/sms",
            # The stand-in takes texts as fast as they come: a short code's rate keeps the demo's fan-out short.
            "SMS_MESSAGES_PER_SECOND": "100",
            "LOOKOUT_GEOCODER": "nominatim",
            "LOOKOUT_GEOCODER_DOMAIN": self.geocoder_domain,
            "LOOKOUT_GEOCODER_SCHEME": "http",
            "LOOKOUT_MAP_TILES": self.tiles.template,
            "LOOKOUT_MAP_TILES_ATTRIBUTION": TILES_ATTRIBUTION,
            "LOOKOUT_SMTP_URL": self.smtp_url,
            "LOOKOUT_LINK_SECRET": config.link_secret,
            "LOOKOUT_EMAIL_FROM": config.email_from,
        }
        if config.app_url:
            env["LOOKOUT_PUBLIC_URL"] = config.app_url.rstrip("/")
        return env


def main() -> None:
    parser = argparse.ArgumentParser(
        description="The Lookout sandbox: every platform stand-in and the console on one port."
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--smtp-port", type=int, default=DEFAULT_SMTP_PORT, help="the mail relay stand-in's own port")
    parser.add_argument("--app-url", default="http://127.0.0.1:8000", help="where Lookout listens (webhooks go there)")
    args = parser.parse_args()
    with Sandbox(SandboxConfig(app_url=args.app_url), port=args.port, smtp_port=args.smtp_port) as sandbox:
        exports = " \\\n  ".join(f"{name}={shlex.quote(value)}" for name, value in sandbox.app_environment().items())
        print(
            f"Lookout sandbox on {sandbox.base_url}\n\nConsole: {sandbox.console_url}\n"
            f"Mailbox: {sandbox.mailbox_url} (SMTP relay stand-in on {sandbox.smtp_url})\n\n"
            f"Point Lookout at it (then `lookout telegram set-webhook`, `lookout serve`):\n  export {exports}\n\n"
            "Stop with Ctrl+C.",
            flush=True,
        )
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
