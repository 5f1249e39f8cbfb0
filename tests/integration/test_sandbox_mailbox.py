"""The sandbox's mail relay and mailbox: the app's settings point at it, what it receives is readable over HTTP
and in the console, and an email's HTML is only ever shown sandboxed."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bots.email.compose import build_email
from bots.email.mailer import Mailer, MailError, SmtpTarget
from sandbox.console.routes import CONTENT_SECURITY_POLICY
from sandbox.service import Sandbox, SandboxConfig

APP = "http://127.0.0.1:8000"
HTML = '<html><head><title>Hi</title></head><body><p style="color:#0b0c0c">Hello <a href="http://127.0.0.1:8000/subscribe/manage?t=x">manage</a></p><script>alert(1)</script></body></html>'


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(app_url=APP)) as running:
        yield running


async def send(sandbox: Sandbox, to: str, subject: str) -> None:
    mailer = Mailer(SmtpTarget.from_url(sandbox.smtp_url))
    try:
        await mailer.send(
            build_email(
                sender="Alerts <alerts@lookout.example>",
                to=to,
                subject=subject,
                text="Hello, see the link.",
                html=HTML,
                unsubscribe_url=f"{APP}/subscribe/unsubscribe?t=abc",
            )
        )
    finally:
        await mailer.aclose()


def test_the_apps_settings_send_mail_to_the_sandbox_relay_and_sign_links_for_the_app(sandbox: Sandbox) -> None:
    env = sandbox.app_environment()
    assert env["LOOKOUT_SMTP_URL"] == sandbox.smtp_url == f"smtp://127.0.0.1:{sandbox.smtp.port}"
    assert env["LOOKOUT_LINK_SECRET"] and env["LOOKOUT_EMAIL_FROM"] and env["LOOKOUT_PUBLIC_URL"] == APP
    assert sandbox.mailbox_url == f"{sandbox.base_url}/#mailbox"


async def test_what_the_relay_received_is_listed_previewed_sandboxed_and_counted(sandbox: Sandbox) -> None:
    sandbox.smtp.clear()
    await send(sandbox, "robin@example.org", "First")
    with pytest.raises(MailError):
        await send(sandbox, "bounce.me@example.org", "Refused")
    await send(sandbox, "robin@example.org", "Second")
    async with httpx.AsyncClient(base_url=sandbox.base_url, timeout=10) as client:
        listing = (await client.get("/mail/api/messages")).json()
        newest, oldest = listing["messages"]
        assert (newest["subject"], oldest["subject"]) == ("Second", "First") and listing["refused"] >= 1
        assert newest["to"] == ["robin@example.org"] and newest["text"].strip() == "Hello, see the link."
        assert newest["headers"]["List-Unsubscribe"] == f"<{APP}/subscribe/unsubscribe?t=abc>"

        preview = await client.get(f"/mail/messages/{newest['id']}.html")
        policy = preview.headers["content-security-policy"]
        assert policy.startswith("sandbox allow-popups allow-popups-to-escape-sandbox;") and "script-src" not in policy
        assert "default-src 'none'" in policy and "style-src 'unsafe-inline'" in policy
        assert '<head><base target="_blank"><title>Hi</title>' in preview.text  # links open the app in a new tab

        source = await client.get(f"/mail/messages/{oldest['id']}.eml")
        assert source.headers["content-type"].startswith("text/plain") and b"Subject: First\r\n" in source.content
        assert (await client.get("/mail/messages/99.html")).status_code == 404

        state = (await client.get("/_console/api/state")).json()
        assert state["counters"]["email"]["sent"] == 2 and state["counters"]["email"]["refused"] >= 1
        config = (await client.get("/_console/api/config")).json()
        assert config["doors"]["smtp"] == sandbox.smtp_url and config["doors"]["mail"] == "/mail"
        page = await client.get("/")
        assert 'data-testid="mailbox"' in page.text and 'data-testid="counter-email"' in page.text
        # The preview frame may come from the sandbox itself, and from nowhere else.
        assert (
            page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
            and "frame-src 'self'" in CONTENT_SECURITY_POLICY
        )
