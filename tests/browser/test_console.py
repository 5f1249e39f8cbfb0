"""The sandbox console in headless Chromium, against the real app: issue #4's journey by clicking and typing.

A resident who is not subscribed joins on the console's Telegram phone (age,
"Share my location" with a preset place, a label, a topic); an officer in the
Slack pane types ``/alert``, fills in the modal (first with a mistake, shown
inline), and presses Send on the preview; the phone shows the alert (incident
number, contact, the bot's bold title) and the delivery counter moves; the
resident presses "I have information" and sends a tip, which the officer then
finds in the tips channel, in the alert's thread, acknowledges (the tip is
redrawn with who did it) and answers with Reply, which reaches the phone.
A screenshot is kept in the test's folder and in var/screenshots/console.png.

On the console's WhatsApp phone, a resident who is not subscribed joins the
same way WhatsApp offers it: the age reply button, "Send location" on the
bot's location request, a label, topics ticked in a paged list and Done, and
"carry on as a resident"; the summary shows, and the database has them.

An officer starts from a template in the console's Slack pane: choosing it
redraws the form filled in, a placeholder left is an error on its field, and
the filled-in alert comes to a preview.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from core.geo.cells import cell_to_int, snap
from sandbox.console.people import WHATSAPP_RESIDENT_ID
from sandbox.slack_workspace import OFFICER_ID
from sandbox.whatsapp import WhatsAppLimits
from storage.database import make_sync_engine
from storage.tables import places, residents, subscriptions
from tests.support.console import CONTACT, INCIDENT, TOWN_CENTRE, app_with_sandbox

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "var" / "screenshots" / "console.png"
SLOW = (
    20_000  # ms: the worker, the platforms' rate limits and the page's polling all lie between a click and its effect
)


def test_a_resident_joins_an_officer_alerts_by_slash_command_and_the_tip_reaches_the_slack_thread(
    database_url: str, page: Page, tmp_path: Path
) -> None:
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("dialog", lambda dialog: dialog.accept())  # the Send button's confirm ("It goes to 1 resident now")
    with app_with_sandbox(database_url) as service:
        page.goto(service.sandbox.console_url)
        expect(page.locator("body")).to_have_attribute("data-ready", "1")
        counter = page.get_by_test_id("counter-telegram").locator(".counter-value")
        expect(counter).to_have_text("0")
        expect(page.get_by_test_id("tg-banner")).to_be_hidden()  # the app's webhook is registered
        bot = page.get_by_test_id("tg-bot-message")

        def tap(label: str) -> None:
            page.get_by_test_id("tg-inline-button").filter(has_text=label).last.click()

        def say(text: str) -> None:
            page.get_by_label("Message to the Lookout bot on Telegram").focus()
            page.keyboard.type(text)
            page.keyboard.press("Enter")

        # The resident joins.
        say("/start")
        expect(bot.filter(has_text="Mercia Vale Police").first).to_be_visible()
        tap("12 or older")
        page.get_by_test_id("tg-keyboard").get_by_role("button", name="Share my location").click()
        page.get_by_test_id("preset-place").filter(has_text="Stafford town centre").click()
        expect(page.get_by_test_id("tg-inline-button").filter(has_text="Home")).to_be_visible()
        tap("Home")
        expect(page.get_by_test_id("tg-inline-button").filter(has_text="Bogus callers")).to_be_visible()
        tap("Bogus callers")
        expect(page.get_by_test_id("tg-inline-button").filter(has_text="✅ Bogus callers")).to_be_visible()
        # Ticking a specific topic unticks All local crime: what is ticked is what they get.
        expect(page.get_by_test_id("tg-inline-button").filter(has_text="▫️ All local crime")).to_be_visible()
        tap("Done")
        tap("I'm a resident")
        expect(bot.filter(has_text="You're all set")).to_be_visible()

        # The officer raises the alert in #lookout-officers.
        page.get_by_test_id("sk-user").select_option(OFFICER_ID)
        page.get_by_test_id("sk-channel").filter(has_text="lookout-officers").click()
        page.get_by_label("Message the channel, or type a slash command such as /alert").fill("/alert")
        page.keyboard.press("Enter")
        modal = page.get_by_test_id("sk-modal")
        expect(modal).to_be_visible(timeout=SLOW)
        modal.get_by_label("Incident number").fill("12345")
        modal.get_by_label("Headline").fill("Bogus callers")
        modal.get_by_label("Message").fill("Two men claiming to be from the water board.")
        modal.get_by_label("Where: postcode").fill("ST16 2LZ")
        modal.get_by_label("Radius").fill("1km")
        modal.get_by_label("Who is this for?").select_option("topics")
        modal.get_by_label("Topics").select_option(["bogus_callers"])
        modal.get_by_role("button", name="Preview").click()
        expect(modal.get_by_test_id("sk-input-error")).to_contain_text(INCIDENT)  # inline, with the force's example
        modal.get_by_label("Incident number").fill(INCIDENT)
        modal.get_by_role("button", name="Preview").click()
        expect(modal).to_be_hidden(timeout=SLOW)
        card = page.get_by_test_id("sk-message").filter(has_text="Would reach 1 resident")
        expect(card).to_be_visible(timeout=SLOW)
        card.get_by_role("button", name="Send").click()

        # The resident receives it and sends a tip.
        alert = bot.filter(has_text=INCIDENT)
        expect(alert).to_be_visible(timeout=SLOW)
        expect(alert).to_contain_text(CONTACT)
        expect(alert.locator("b").first).to_contain_text(
            "🚨 Mercia Vale Police: Bogus callers"
        )  # the bot's HTML, drawn as elements
        expect(counter).not_to_have_text("0")
        page.locator(".bubble-group", has=alert).get_by_role("button", name="I have information").click()
        expect(page.get_by_test_id("tg-button-press").last).to_contain_text("app answered 200")
        expect(bot.filter(has_text="Tell us what you saw")).to_be_visible()
        say("Two men in hi-vis knocking on doors in Eastgate Street")
        expect(bot.filter(has_text="Got it")).to_be_visible()
        tap("Done")
        tap("Stay anonymous")
        thanks = bot.filter(has_text="reached the officers")
        expect(thanks).to_be_visible(timeout=SLOW)
        reference = thanks.locator("b").inner_text()
        assert reference.startswith("T-")

        # The officer finds it in #lookout-tips, in the alert's thread.
        page.get_by_test_id("sk-channel").filter(has_text="lookout-tips").click()
        root = page.get_by_test_id("sk-message").filter(has_text="Tips for A-")
        expect(root).to_be_visible(timeout=SLOW)
        toggle = root.get_by_test_id("sk-thread-toggle")
        expect(toggle).to_have_text("1 reply", timeout=SLOW)
        toggle.click()
        tip = root.locator(".sk-replies").get_by_test_id("sk-message").filter(has_text=reference)
        expect(tip).to_contain_text("knocking on doors in Eastgate Street")

        # The tips queue: Acknowledge redraws the tip for everyone; Reply reaches the resident's phone.
        tip.get_by_role("button", name="Acknowledge").click()
        expect(tip).to_contain_text("Acknowledged by @PC Ada Brooks", timeout=SLOW)
        expect(tip.get_by_role("button", name="Acknowledge")).to_have_count(0)
        tip.get_by_role("button", name="Reply", exact=True).click()
        expect(modal).to_be_visible(timeout=SLOW)
        expect(modal).to_contain_text("knocking on doors")
        modal.get_by_label("Your reply to the tipster").fill("Thank you. Which way did they go?")
        modal.get_by_role("button", name="Send reply").click()
        expect(modal).to_be_hidden(timeout=SLOW)
        expect(bot.filter(has_text="Which way did they go?")).to_be_visible(timeout=SLOW)
        expect(root.locator(".sk-replies")).to_contain_text(re.compile(r"replied to (Anonymous t|T)ipster [0-9A-Z]+"))

        shot = tmp_path / "console.png"
        page.screenshot(path=shot, full_page=True)
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)
    assert not problems, problems


def test_a_whatsapp_resident_joins_on_the_console_phone(database_url: str, page: Page) -> None:
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    with app_with_sandbox(database_url) as service:
        # A test taps far faster than a person: a deep pair-rate burst spares it Meta's 6 s between answers.
        service.sandbox.whatsapp.limits = WhatsAppLimits(per_user_burst=50)
        page.goto(service.sandbox.console_url)
        expect(page.locator("body")).to_have_attribute("data-ready", "1")
        wa = page.get_by_test_id("whatsapp-phone")
        expect(wa.get_by_test_id("wa-banner")).to_be_hidden()  # the sandbox calls the app's webhook
        business = wa.get_by_test_id("wa-business-message")
        answered = wa.get_by_test_id("wa-last")
        list_dialog = page.get_by_test_id("wa-list-dialog")

        def say(text: str) -> None:
            wa.get_by_label("Message to Lookout on WhatsApp").fill(text)
            wa.get_by_role("button", name="Send", exact=True).click()

        def tap(label: str) -> None:
            wa.get_by_test_id("wa-reply-button").filter(has_text=label).last.click()
            expect(answered).to_contain_text(label)

        def pick(label: str, *, then: str = "") -> None:
            """Open the newest list, choose the row ``label`` and send it; ``then`` is what the business says next."""
            before = business.count()
            wa.get_by_test_id("wa-list-open").last.click()
            expect(list_dialog).to_be_visible()
            list_dialog.locator("label.wa-row").filter(has_text=label).click()
            list_dialog.get_by_role("button", name="Send").click()
            expect(list_dialog).to_be_hidden()
            expect(business).not_to_have_count(before, timeout=SLOW)
            expect(business.last).to_contain_text(then)

        # Any first message gets the welcome and the age question.
        say("Hello")
        expect(business.filter(has_text="Mercia Vale Police").first).to_be_visible(timeout=SLOW)
        tap("12 or older")

        # WhatsApp's location request: its "Send location" opens the console's picker.
        wa.get_by_role("button", name="Send location").last.click()
        page.get_by_test_id("location-dialog").get_by_test_id("preset-place").filter(
            has_text="Stafford town centre"
        ).click()
        expect(answered).to_contain_text("location Stafford town centre")
        expect(business.last).to_contain_text("What is this place to you?", timeout=SLOW)
        pick("Home")

        # The recommended answer is one tap; the topics are a tap away, in a list whose button says so.
        expect(wa.get_by_test_id("wa-reply-button").filter(has_text="All local crime")).to_be_visible(timeout=SLOW)
        tap("Choose topics")
        expect(wa.get_by_test_id("wa-list-open").last).to_contain_text("Choose topics", timeout=SLOW)

        # Twelve topics and a pinned Done: a paged list. Tick one on the second page: that unticks "All local
        # crime" on the first (the pages wrap round), then Done.
        pick("More…")
        pick("Anti-social behaviour")
        pick("More…")
        wa.get_by_test_id("wa-list-open").last.click()
        expect(list_dialog.locator("label.wa-row").filter(has_text="▫️ All local crime")).to_be_visible()
        list_dialog.get_by_role("button", name="Cancel").click()
        expect(list_dialog).to_be_hidden()
        pick("Done", then="business")
        pick("I'm a resident", then="You're all set")
        summary = business.last
        expect(summary).to_contain_text("Anti-social behaviour")
        expect(summary).to_contain_text("Home")
        assert (
            not wa.get_by_test_id("wa-my-message").filter(has_not=page.locator(".tick.ok")).count()
        )  # every webhook 200

    engine = make_sync_engine(database_url)
    with engine.connect() as conn:
        (resident,) = conn.execute(sa.select(residents.c.address, residents.c.sector, residents.c.active)).all()
        (place,) = conn.execute(sa.select(places.c.label, places.c.cell)).all()
        topics = {r.topic for r in conn.execute(sa.select(subscriptions.c.topic))}
    engine.dispose()
    assert resident.address == f"whatsapp:{WHATSAPP_RESIDENT_ID}" and resident.sector is None and resident.active
    assert place.label == "Home" and place.cell == cell_to_int(snap(*TOWN_CENTRE, 10))
    assert topics == {"asb"}
    assert not problems, problems


def test_an_officer_starts_from_a_template_in_the_console_and_fills_in_its_placeholders(
    database_url: str, page: Page
) -> None:
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    with app_with_sandbox(database_url) as service:
        page.goto(service.sandbox.console_url)
        expect(page.locator("body")).to_have_attribute("data-ready", "1")
        page.get_by_test_id("sk-user").select_option(OFFICER_ID)
        page.get_by_test_id("sk-channel").filter(has_text="lookout-officers").click()
        page.get_by_label("Message the channel, or type a slash command such as /alert").fill("/alert")
        page.keyboard.press("Enter")
        modal = page.get_by_test_id("sk-modal")
        expect(modal).to_be_visible(timeout=SLOW)
        modal.get_by_label("Incident number").fill(INCIDENT)
        modal.get_by_label("Start from a template").select_option("bogus_callers")  # dispatches: the form is redrawn
        expect(modal.get_by_label("Headline")).to_have_value("Bogus callers in {street}", timeout=SLOW)
        expect(modal.get_by_label("Incident number")).to_have_value(INCIDENT)  # what was typed stays
        expect(modal.get_by_label("Radius")).to_have_value("1km")
        modal.get_by_label("Where: postcode").fill("ST16 2LZ")
        modal.get_by_role("button", name="Preview").click()
        expect(modal.get_by_test_id("sk-input-error").first).to_contain_text("Fill in {street}", timeout=SLOW)
        message = modal.get_by_label("Message").input_value()
        modal.get_by_label("Headline").fill("Bogus callers in Eastgate Street")
        modal.get_by_label("Message").fill(
            message.replace("{street}", "Eastgate Street")
            .replace("{claim}", "from the water board")
            .replace("{description}", "two men in hi-vis jackets")
        )
        modal.get_by_role("button", name="Preview").click()
        expect(modal).to_be_hidden(timeout=SLOW)
        expect(
            page.get_by_test_id("sk-message").filter(has_text="Bogus callers in Eastgate Street").first
        ).to_be_visible(timeout=SLOW)
    assert problems == []


PHOTO_SCREENSHOTS = ROOT / "var" / "screenshots"


def _appeal_photo(path: Path) -> Path:
    """A stand-in for a family's photo: a figure in a red coat, so the phone visibly shows the picture."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (600, 800), (190, 215, 235))
    draw = ImageDraw.Draw(image)
    draw.ellipse((230, 120, 370, 260), fill=(240, 200, 170))  # head
    draw.rectangle((200, 270, 400, 600), fill=(200, 30, 40))  # red coat
    draw.rectangle((220, 600, 280, 760), fill=(40, 60, 120))
    draw.rectangle((320, 600, 380, 760), fill=(40, 60, 120))
    image.save(path, "PNG")
    return path


def test_a_photo_appeal_from_the_template_to_resolved_found_safe(database_url: str, page: Page, tmp_path: Path) -> None:
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("dialog", lambda dialog: dialog.accept())  # Send's confirm
    with app_with_sandbox(database_url) as service:
        page.goto(service.sandbox.console_url)
        expect(page.locator("body")).to_have_attribute("data-ready", "1")
        bot = page.get_by_test_id("tg-bot-message")

        def tap(label: str) -> None:
            page.get_by_test_id("tg-inline-button").filter(has_text=label).last.click()

        page.get_by_label("Message to the Lookout bot on Telegram").focus()
        page.keyboard.type("/start")
        page.keyboard.press("Enter")
        tap("12 or older")
        page.get_by_test_id("tg-keyboard").get_by_role("button", name="Share my location").click()
        page.get_by_test_id("preset-place").filter(has_text="Stafford town centre").click()
        expect(page.get_by_test_id("tg-inline-button").filter(has_text="Home")).to_be_visible()
        tap("Home")
        expect(page.get_by_test_id("tg-inline-button").filter(has_text="Done")).to_be_visible()
        tap("Done")
        tap("I'm a resident")
        expect(bot.filter(has_text="You're all set")).to_be_visible()

        # The officer starts from the missing-person template and attaches the photo.
        page.get_by_test_id("sk-user").select_option(OFFICER_ID)
        page.get_by_test_id("sk-channel").filter(has_text="lookout-officers").click()
        page.get_by_label("Message the channel, or type a slash command such as /alert").fill("/alert")
        page.keyboard.press("Enter")
        modal = page.get_by_test_id("sk-modal")
        expect(modal).to_be_visible(timeout=SLOW)
        modal.get_by_label("Incident number").fill(INCIDENT)
        modal.get_by_label("Start from a template").select_option("missing_person")
        expect(modal.get_by_label("Headline")).to_have_value("Missing: {name}, aged {age}", timeout=SLOW)
        message = modal.get_by_label("Message").input_value()
        modal.get_by_label("Headline").fill("Missing: Amy Smith, aged 9")
        modal.get_by_label("Message").fill(
            message.replace("{name}", "Amy")
            .replace("{age}", "9")
            .replace("{last_seen}", "at 3pm on Eastgate Street")
            .replace("{clothing}", "a red coat")
        )
        modal.get_by_label("Where: postcode").fill("ST16 2LZ")
        modal.get_by_label("Photo (for an appeal)").set_input_files(str(_appeal_photo(tmp_path / "amy.png")))
        expect(modal.get_by_test_id("sk-file-status")).to_have_text("Attached: amy.png", timeout=SLOW)
        modal.get_by_role("button", name="Preview").click()
        expect(modal).to_be_hidden(timeout=SLOW)
        card = page.get_by_test_id("sk-message").filter(has_text="Would reach 1 resident")
        expect(card).to_be_visible(timeout=SLOW)
        card.get_by_role("button", name="Send").click()

        # The resident's phone shows the photo with the alert as its caption and the button beneath.
        appeal = bot.filter(has_text="Missing: Amy Smith, aged 9")
        expect(appeal).to_be_visible(timeout=SLOW)
        expect(appeal.locator("img")).to_be_visible()
        expect(
            page.locator(".bubble-group", has=appeal).get_by_role("button", name="I have information")
        ).to_be_visible()
        PHOTO_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=PHOTO_SCREENSHOTS / "photo-appeal-sent.png", full_page=True)

        # Found safe: the card's Resolved asks to confirm; the photo leaves the phone and the resolution arrives.
        status = (
            page.get_by_test_id("sk-message")
            .filter(has_text="Missing: Amy Smith")
            .filter(has=page.get_by_role("button", name="Resolved"))
        )
        expect(status).to_be_visible(timeout=SLOW)
        status.get_by_role("button", name="Resolved").click()
        expect(modal).to_be_visible(timeout=SLOW)
        expect(modal).to_contain_text("Its photo stops being shown at once")
        modal.get_by_label("What residents are told").fill("Amy has been found safe and well. Thank you for sharing.")
        modal.get_by_role("button", name="Mark resolved").click()
        expect(modal).to_be_hidden(timeout=SLOW)
        resolution = bot.filter(has_text="✅ Resolved —")
        expect(resolution).to_be_visible(timeout=SLOW)
        expect(resolution).to_contain_text("Amy has been found safe and well")
        expect(bot.filter(has=page.locator("img"))).to_have_count(0)  # deleted from the chat (within 48 hours)
        expect(page.get_by_test_id("sk-message").filter(has_text="Resolved: ").first).to_be_visible(timeout=SLOW)
        page.screenshot(path=PHOTO_SCREENSHOTS / "photo-appeal-resolved.png", full_page=True)
    assert not problems, problems
