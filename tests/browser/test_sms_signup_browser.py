"""Signing up by text message in headless Chromium on a phone-sized screen, with axe-core on every page.

The mobile number's field shows only once "Text message (SMS)" is chosen (by
the stylesheet: the pages run no script); the code the Twilio stand-in
received is typed on the second page; screenshots of both pages are kept in
var/screenshots/ for a person to look at.
"""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import Browser, expect

from core.clock import utc_now
from storage.tables import residents
from tests.browser.test_email_signup_browser import PHONE, AxeCheck
from tests.support.database import rows
from tests.support.sms_signup import running

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"
NUMBER = "+447700900611"


def test_sign_up_by_text_on_a_phone_screen(database_url: str, browser: Browser) -> None:
    check = AxeCheck()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with running(database_url, utc_now) as site:
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        page.goto(f"{site.url}/subscribe")
        expect(page).to_have_title("Get alerts by email or text message – Mercia Vale Police")
        mobile = page.get_by_label("UK mobile phone number")
        expect(page.get_by_label("Email address")).to_be_visible()
        expect(mobile).to_be_hidden()  # until its choice is picked
        page.get_by_label("Text message (SMS)").check()
        expect(mobile).to_be_visible()
        expect(page.get_by_label("Email address")).to_be_hidden()
        check(page)
        mobile.fill("07700 900611")
        page.get_by_label("Postcode or address").fill("ST16 2LZ")
        page.get_by_label("Burglary").check()
        page.get_by_label("I am 12 or older").check()
        page.screenshot(path=str(SCREENSHOTS / "sms-signup-form.png"), full_page=True)
        page.get_by_role("button", name="Continue").click()

        expect(page).to_have_title("Enter the code we texted you – Mercia Vale Police")
        expect(page.get_by_text("07700 900611")).to_be_visible()
        check(page)
        codes = [m.group(1) for body in site.sms.texts_to(NUMBER) if (m := re.match(r"(\d{6}) is your code", body))]
        assert len(codes) == 1
        code_box = page.get_by_label("Code from the text")
        assert (
            code_box.get_attribute("inputmode") == "numeric"
            and code_box.get_attribute("autocomplete") == "one-time-code"
        )
        code_box.fill("000000" if codes[0] != "000000" else "111111")
        page.get_by_role("button", name="Confirm and start my alerts").click()
        expect(page.get_by_role("alert")).to_contain_text("That code isn't right")
        check(page)
        page.screenshot(path=str(SCREENSHOTS / "sms-signup-code.png"), full_page=True)
        page.get_by_label("Code from the text").fill(codes[0])
        page.get_by_role("button", name="Confirm and start my alerts").click()

        expect(page.get_by_role("heading", name="Your alerts have started")).to_be_visible()
        check(page)
        page.screenshot(path=str(SCREENSHOTS / "sms-signup-done.png"), full_page=True)
        # Nothing is wider than the phone's screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        context.close()
        assert [r.address for r in rows(database_url, sa.select(residents.c.address))] == [f"sms:{NUMBER}"]
