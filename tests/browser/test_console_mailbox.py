"""The console's mailbox in headless Chromium: an alert email as the relay stand-in received it, its HTML drawn
with its own styles in a sandboxed frame (the console's CSP stays strict), its links opening in a new tab, and the
plain text with its links clickable."""

from __future__ import annotations

import smtplib

from playwright.sync_api import Page, expect

from bots.email.links import LinkSigner
from bots.email.messages import email_for
from core.geo.areas import CircleArea
from core.model import Alert, Audience, Channel
from core.rendering import render_alert
from sandbox.service import Sandbox

INCIDENT = "MV-20261125-0456"


def alert_email(public_url: str):
    alert = Alert(
        incident_number=INCIDENT,
        headline="Bogus callers",
        message="Two men claiming to be from the water board.",
        contact="Call 101 quoting the incident number.",
        area=CircleArea(52.8067, -2.1174, 1000),
        area_description="1 km around ST16 2LZ",
        topics=("bogus_callers",),
        sectors=(),
        audience=Audience.BOTH,
        author="cli:test",
        id=1,
        reference="A-2026-000001",
    )
    return email_for(
        render_alert(alert, "Mercia Vale Police", Channel.EMAIL),
        "robin@example.org",
        sender="Mercia Vale Police alerts <alerts@lookout.example>",
        force_name="Mercia Vale Police",
        links=LinkSigner("browser-secret", public_url),
    )


def test_the_mailbox_shows_an_alert_email_sandboxed_with_working_links(page: Page) -> None:
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    # Chromium reports each of Playwright's own probes into the script-less frame as blocked: the sandbox working.
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type == "error" and "frame is sandboxed and the 'allow-scripts'" not in message.text
            else None
        ),
    )
    with Sandbox() as sandbox:
        # Links point back at the sandbox, which answers them (404): enough to see where they lead.
        with smtplib.SMTP("127.0.0.1", sandbox.smtp.port, timeout=10) as relay:
            relay.send_message(alert_email(sandbox.base_url))
        page.goto(sandbox.console_url)
        expect(page.locator("body")).to_have_attribute("data-ready", "1")
        expect(page.get_by_test_id("counter-email").locator(".counter-value")).to_have_text("1")
        mailbox = page.get_by_test_id("mailbox")
        expect(mailbox.get_by_test_id("mb-status")).to_have_text("1 email received")
        expect(mailbox.get_by_role("button", name="Police alert: Bogus callers")).to_have_attribute(
            "aria-current", "true"
        )
        expect(mailbox.get_by_test_id("mb-headers")).to_contain_text("List-Unsubscribe=One-Click")

        frame = page.frame_locator('[data-testid="mb-frame"]')
        incident = frame.get_by_text(INCIDENT, exact=True)
        expect(incident).to_be_visible()
        assert incident.evaluate("node => getComputedStyle(node).fontSize") == "24px"  # the email's inline styles apply
        with page.context.expect_page() as opened:
            frame.get_by_role("link", name="Reply with information").click()
        tab = opened.value
        tab.wait_for_load_state()
        assert tab.url.startswith(f"{sandbox.base_url}/subscribe/tip?t=")
        tab.close()

        mailbox.get_by_role("button", name="Plain text").click()
        text = mailbox.get_by_test_id("mb-text")
        expect(text).to_contain_text(f"Incident number: {INCIDENT}")
        expect(text.get_by_role("link").filter(has_text="/subscribe/unsubscribe?t=")).to_have_attribute(
            "target", "_blank"
        )
    # Neither the console's strict CSP nor the preview's refused anything the page or the email needs.
    assert problems == [], problems
