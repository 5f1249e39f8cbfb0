"""The email sign-up pages in headless Chromium, against the real app, with axe-core checking every page.

On a phone-sized screen a person signs up (a mistake first: the error summary
takes focus and leads to the field), chooses between two Station Roads,
confirms from the link in the email the SMTP sink received, changes their
topics from the confirmation page's manage link, sends information from an
alert's "reply with information" link (it lands in the officers' Slack tips
thread), and unsubscribes. axe-core runs on each page; any serious or
critical violation fails the test. A second journey runs with JavaScript
switched off and by keyboard alone.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import sqlalchemy as sa
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from storage.tables import residents, subscriptions
from tests.support.database import rows
from tests.support.email_site import STAFFORD_POSTCODE, TIPS_CHANNEL, EmailSite, email_site, link_in
from tests.support.processes import run_json

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "var" / "screenshots" / "email-signup.png"
PHONE = {"width": 390, "height": 844}
BLOCKING = {"serious", "critical"}
EMAIL = "grace@example.org"


class AxeCheck:
    """Runs axe-core on pages; fails on serious or critical violations, keeps the lesser ones for the report."""

    def __init__(self) -> None:
        self.axe = Axe()
        self.pages: list[str] = []
        self.minor: list[str] = []

    def __call__(self, page: Page) -> None:
        results = self.axe.run(page)
        violations = results.response["violations"]
        blocking = [v for v in violations if v["impact"] in BLOCKING]
        assert not blocking, f"{page.title()}: {results.generate_report()}"
        self.pages.append(page.title())
        self.minor += [f"{page.title()}: {v['id']} ({v['impact']})" for v in violations]


def test_sign_up_confirm_change_topics_send_a_tip_and_unsubscribe_with_axe_on_every_page(
    database_url: str, browser: Browser, tmp_path: Path
) -> None:
    check = AxeCheck()
    with email_site(database_url) as site:
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        page.goto(f"{site.url}/subscribe")
        expect(page).to_have_title("Get alerts by email – Mercia Vale Police")
        check(page)

        # A mistake: the error summary takes focus, and its link leads to the field.
        page.get_by_role("button", name="Send me a confirmation email").click()
        summary = page.get_by_role("alert")
        expect(summary).to_be_focused()
        expect(summary).to_contain_text("Enter your email address")
        expect(page).to_have_title(re.compile("^Error: "))
        check(page)
        summary.get_by_role("link", name="Enter your email address.").click()
        expect(page.get_by_label("Email address")).to_be_in_viewport()

        page.get_by_label("Email address").fill(EMAIL)
        page.get_by_label("Postcode or address").fill("Station Road")
        page.get_by_role("checkbox", name="Burglary").check()
        page.get_by_role("checkbox", name="All local crime").uncheck()
        page.get_by_label("Signing up for a business? (optional)").select_option(label="Retail")
        page.get_by_role("checkbox", name="I am 12 or older").check()
        page.get_by_role("button", name="Send me a confirmation email").click()

        places = page.get_by_role("group", name="Which place do you mean?")
        expect(places).to_be_visible()
        expect(page.get_by_role("status")).to_contain_text(re.compile(r"We found [2-5] places"))
        check(page)
        places.get_by_role("radio", name=re.compile("Stafford")).check()
        expect(page.get_by_role("checkbox", name="Burglary")).to_be_checked()  # the choices survive the second step
        page.get_by_role("button", name="Send me a confirmation email").click()
        expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
        check(page)

        page.goto(link_in(site.mail_to(EMAIL, "Confirm"), "/subscribe/confirm"))
        expect(page.get_by_text("Burglary")).to_be_visible()
        check(page)
        page.get_by_role("button", name="Confirm and start my alerts").click()
        expect(page.get_by_role("heading", name="Your alerts have started")).to_be_visible()
        check(page)
        assert [r.address for r in rows(database_url, sa.select(residents.c.address))] == [f"email:{EMAIL}"]

        page.get_by_role("link", name="Change your places and topics").click()
        expect(page.get_by_role("heading", name="Your alerts", exact=True)).to_be_visible()
        manage_url = page.url
        check(page)
        page.get_by_role("checkbox", name="Vehicle crime").check()
        page.get_by_role("button", name="Save topics").click()
        expect(page.get_by_role("status")).to_have_text("Your topics are saved.")
        check(page)
        assert {r.topic for r in rows(database_url, sa.select(subscriptions.c.topic))} == {"burglary", "vehicle"}
        page.get_by_text("Show everything we hold about you").click()
        expect(page.locator(".my-data")).to_contain_text('"business_sector": "retail"')

        # An alert, and its "reply with information" link (as the alert email carries it).
        _, lat, lon = STAFFORD_POSTCODE
        sent = run_json(
            [
                "alert",
                "send",
                "--incident",
                "MV-20261125-0456",
                "--headline",
                "Vehicle crime in Station Road",
                "--message",
                "Catalytic converters stolen overnight.",
                "--at",
                f"{lat},{lon}",
                "--radius",
                "2km",
                "--topics",
                "vehicle",
                "--yes",
            ],
            site.env,
        )
        page.goto(site.signer.tip_url(EMAIL, sent["id"]))
        expect(page.get_by_text("Vehicle crime in Station Road")).to_be_visible()
        check(page)
        page.get_by_label("What did you see or hear?").fill("A grey hatchback circling the car park at 2am.")
        page.get_by_role("radio", name="Yes, officers may contact me").check()
        page.get_by_label("How should officers contact you? (optional)").fill("07700 900123")
        page.get_by_role("button", name="Send to the police").click()
        expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
        check(page)
        reference = re.search(r"T-\d{4}-\d{6}", page.get_by_text("Your reference is").inner_text()).group(0)
        assert _tip_in_slack(site, reference), "the tip never reached the Slack tips thread"

        page.goto(manage_url)
        page.get_by_role("link", name="Unsubscribe").click()
        expect(page.get_by_role("heading", name="Unsubscribe from Mercia Vale alerts")).to_be_visible()
        check(page)
        page.get_by_role("button", name="Unsubscribe and delete my data").click()
        expect(page.get_by_role("heading", name="You're unsubscribed")).to_be_visible()
        check(page)
        assert rows(database_url, sa.select(residents.c.address)) == []

        page.goto(f"{site.url}/subscribe/privacy")
        check(page)
        page.goto(f"{site.url}/subscribe/manage?t=tampered")
        expect(page.get_by_role("heading", name="This link doesn't work")).to_be_visible()
        check(page)

        page.goto(f"{site.url}/subscribe")
        shot = tmp_path / "email-signup.png"
        page.screenshot(path=str(shot), full_page=True)
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, SCREENSHOT)
        context.close()
    assert len(check.pages) >= 14
    print(f"axe-core checked {len(check.pages)} pages; below serious: {check.minor or 'none'}")


def test_signing_up_works_without_javascript_and_by_keyboard_alone(database_url: str, browser: Browser) -> None:
    with email_site(database_url) as site:
        context = browser.new_context(viewport=PHONE, java_script_enabled=False)
        page = context.new_page()
        page.goto(f"{site.url}/subscribe")

        # Tab order follows the page: skip link, sign-in link, then each question in turn, then the button.
        reached: list[str] = []
        for _ in range(40):
            page.keyboard.press("Tab")
            focused = page.evaluate_handle("document.activeElement")
            reached.append(
                focused.get_property("id").json_value() or focused.get_property("textContent").json_value().strip()
            )
            if reached[-1] == "Send me a confirmation email":
                break
        questions = [
            r for r in reached if r in ("email", "where", "label-home", "topics-all", "topics-asb", "sector", "age-yes")
        ]
        assert questions == ["email", "where", "label-home", "topics-all", "topics-asb", "sector", "age-yes"], reached
        assert reached[0] == "Skip to main content" and reached[-1] == "Send me a confirmation email"

        page.get_by_label("Email address").focus()
        page.keyboard.type(EMAIL)
        page.keyboard.press("Tab")
        page.keyboard.type("ST16 2LZ")
        page.get_by_role("checkbox", name="I am 12 or older").focus()
        page.keyboard.press("Space")
        page.get_by_role("button", name="Send me a confirmation email").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

        page.goto(link_in(site.mail_to(EMAIL, "Confirm"), "/subscribe/confirm"))
        page.get_by_role("button", name="Confirm and start my alerts").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Your alerts have started")).to_be_visible()
        assert [r.address for r in rows(database_url, sa.select(residents.c.address))] == [f"email:{EMAIL}"]
        context.close()


def _tip_in_slack(site: EmailSite, reference: str, timeout: float = 15) -> bool:
    # Polled here rather than with the async helper: Playwright's sync API keeps an event loop in this thread.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(
            f"tipq:reply:{reference}" in str(m.blocks) and m.thread_ts for m in site.slack.messages_in(TIPS_CHANNEL)
        ):
            return True
        time.sleep(0.1)
    return False
