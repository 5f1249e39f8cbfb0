"""The sandbox console in headless Chromium with no emoji font: Slack's mrkdwn, drawn check marks, the phones' own buttons, contrast.

Messages reach the stand-ins through the platforms' own doors (Slack's
chat.postMessage, the Bot API's sendMessage, Graph's /messages) and the page
draws them: Slack's emoji shortcodes, ``*bold*`` / ``_italic_`` / ``~strike~``,
entities and ``>`` quotes as Slack shows them; check marks and the delivery
ticks drawn by the stylesheet, so they show on a machine without an emoji font
(Debian's chromium here has DejaVu only). **New resident** and **Reset** work
by clicking them, and axe-core's colour-contrast rule passes on the page full.
The app behind the webhooks is a small receiver that answers 200: the app's
own behaviour is the other browser tests' subject.
"""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from PIL import Image
from playwright.sync_api import Locator, Page, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from sandbox.console.people import TELEGRAM_RESIDENT, WHATSAPP_RESIDENT_ID
from sandbox.server import BackgroundServer
from sandbox.service import Sandbox, SandboxConfig
from sandbox.slack_workspace import OFFICER_ID, OFFICERS_CHANNEL_ID

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "var" / "screenshots" / "console-rendering.png"
# What Lookout's Slack cards use, as Slack gets them: shortcodes, marks, entities (core.rendering escapes
# & < >), a quoted note, and words whose underscores and stars are not formatting.
SLACK_TEXT = (
    ":rotating_light: *Police alert* for _Stafford_, ~draft~ sent\n"
    ":white_check_mark: *Delivered in 1.3 s* to snake_case_name, 2*3*4 &amp; &lt;b&gt;Mill Lane&lt;/b&gt;\n"
    "> Two men in hi-vis\n> knocking on doors\n"
    "Status: :hourglass_flowing_sand: :unknown_code:"
)
GREEN = (0x1E, 0x7B, 0x34)  # the drawn check box (the console's --ok)
TICK_BLUE = (0x2F, 0x8F, 0xD8)  # Telegram's delivery ticks


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    async def accept(request: Request) -> PlainTextResponse:
        await request.body()
        return PlainTextResponse("ok")

    receiver = BackgroundServer(Starlette(routes=[Route("/{path:path}", accept, methods=["POST"])]), "receiver")
    receiver.start()
    try:
        with Sandbox(SandboxConfig(app_url=receiver.base_url)) as running:
            registered = httpx.post(
                f"{running.telegram_api_base}/bot{running.config.telegram_token}/setWebhook",
                json={"url": f"{receiver.base_url}/telegram/webhook"},
            )
            assert registered.json()["ok"]
            yield running
    finally:
        receiver.stop()


def test_slack_text_checks_and_ticks_show_as_the_platforms_show_them_without_an_emoji_font(
    sandbox: Sandbox, page: Page, tmp_path: Path
) -> None:
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    slack = httpx.post(
        f"{sandbox.slack_api_url}chat.postMessage",
        headers={"Authorization": f"Bearer {sandbox.config.slack_bot_token}"},
        json={
            "channel": OFFICERS_CHANNEL_ID,
            "text": "Police alert",
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": SLACK_TEXT}},
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": "done",
                            "value": "1",
                            "text": {"type": "plain_text", "text": ":white_check_mark: Done"},
                        }
                    ],
                },
            ],
        },
    )
    assert slack.json()["ok"], slack.text
    bot = f"{sandbox.telegram_api_base}/bot{sandbox.config.telegram_token}"
    telegram = httpx.post(
        f"{bot}/sendMessage",
        json={
            "chat_id": TELEGRAM_RESIDENT.id,
            "text": "<b>❌ CANCELLED</b> Topics:",
            "parse_mode": "HTML",
            "reply_markup": {
                "inline_keyboard": [
                    [{"text": "✅ Bogus callers", "callback_data": "tp:1"}],
                    [{"text": "▫️ All local crime", "callback_data": "tp:0"}],
                    [{"text": "Done ✔️", "callback_data": "tp:done"}],
                ]
            },
        },
    )
    assert telegram.json()["ok"], telegram.text

    page.goto(sandbox.console_url)
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    page.get_by_test_id("sk-user").select_option(OFFICER_ID)
    page.get_by_test_id("sk-channel").filter(has_text="lookout-officers").click()
    card = page.get_by_test_id("sk-message").filter(has_text="Police alert")
    text = card.locator(".sk-text").first
    expect(text).to_contain_text("🚨 Police alert for Stafford, draft sent")
    expect(text.locator("strong").first).to_have_text("Police alert")
    expect(text.locator("em")).to_have_text("Stafford")
    expect(text.locator("s")).to_have_text("draft")
    expect(text).to_contain_text("to snake_case_name, 2*3*4 & <b>Mill Lane</b>")  # entities decoded, never markup
    expect(text.locator("b")).to_have_count(0)
    expect(text.locator("blockquote.sk-quote")).to_have_text("Two men in hi-vis\nknocking on doors")
    expect(text).to_contain_text("Status: ⏳ :unknown_code:")  # a code Slack does not know stays as typed
    expect(text).not_to_contain_text(":white_check_mark:")
    assert _share_of(text.locator(".glyph-check-box"), GREEN) > 0.2
    assert _share_of(card.get_by_role("button", name="✅ Done").locator(".glyph-check-box"), GREEN) > 0.2

    tg = page.get_by_test_id("telegram-phone")
    expect(tg.get_by_test_id("tg-inline-button").filter(has_text="✅ Bogus callers")).to_be_visible()
    assert (
        _share_of(
            tg.get_by_test_id("tg-inline-button").filter(has_text="Bogus callers").locator(".glyph-check-box"), GREEN
        )
        > 0.2
    )
    expect(tg.locator(".glyph-check")).to_have_count(1)  # Done ✔️
    expect(tg.locator(".glyph-cross")).to_have_count(1)  # ❌ CANCELLED
    tg.get_by_label("Message to the Lookout bot on Telegram").fill("Thanks ✓")
    tg.get_by_role("button", name="Send", exact=True).click()
    mine = tg.get_by_test_id("tg-my-message").last
    expect(mine.locator(".tick.ok")).to_have_attribute("aria-label", "app answered 200")
    assert _share_of(mine.locator(".icon-ticks"), TICK_BLUE) > 0.1

    # WhatsApp: the resident writes (the window opens), the business answers with a tick in its text.
    wa = page.get_by_test_id("whatsapp-phone")
    wa.get_by_label("Message to Lookout on WhatsApp").fill("Hello")
    wa.get_by_role("button", name="Send", exact=True).click()
    expect(wa.get_by_test_id("wa-my-message").locator(".tick.ok")).to_be_visible()
    graph = httpx.post(
        f"{sandbox.whatsapp_api_base}/{sandbox.config.whatsapp_phone_number_id}/messages",
        headers={"Authorization": f"Bearer {sandbox.config.whatsapp_token}"},
        json={
            "messaging_product": "whatsapp",
            "to": WHATSAPP_RESIDENT_ID,
            "type": "text",
            "text": {"body": "✅ *Subscribed* to Bogus callers"},
        },
    )
    assert graph.status_code == 200, graph.text
    business = wa.get_by_test_id("wa-business-message").last
    expect(business.locator("strong")).to_have_text("Subscribed")
    assert _share_of(business.locator(".glyph-check-box"), GREEN) > 0.2

    # Every colour pair on the page, with all of it drawn, passes WCAG AA contrast.
    contrast = Axe().run(page, options={"runOnly": {"type": "rule", "values": ["color-contrast"]}})
    assert not contrast.response["violations"], contrast.generate_report()

    shot = tmp_path / "console.png"
    page.screenshot(path=shot, full_page=True)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, SCREENSHOT)
    assert not problems, problems


def test_new_resident_and_reset_buttons_on_both_phones(sandbox: Sandbox, page: Page) -> None:
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    bot = f"{sandbox.telegram_api_base}/bot{sandbox.config.telegram_token}"
    assert httpx.post(f"{bot}/sendMessage", json={"chat_id": TELEGRAM_RESIDENT.id, "text": "Welcome back, Sam"}).json()[
        "ok"
    ]
    page.goto(sandbox.console_url)
    expect(page.locator("body")).to_have_attribute("data-ready", "1")

    tg = page.get_by_test_id("telegram-phone")
    expect(tg.get_by_test_id("tg-bot-message")).to_have_count(1)
    tg.get_by_role("button", name="Reset").click()
    expect(tg.get_by_test_id("tg-bot-message")).to_have_count(0)
    expect(tg.get_by_test_id("tg-status")).to_contain_text("you are Sam")
    assert httpx.post(f"{bot}/sendMessage", json={"chat_id": TELEGRAM_RESIDENT.id, "text": "Still Sam's"}).json()["ok"]
    expect(tg.get_by_test_id("tg-bot-message")).to_have_text([re.compile("^Still Sam's")])

    tg.get_by_role("button", name="New resident").click()
    expect(tg.get_by_test_id("tg-status")).to_contain_text("you are Priya")
    expect(tg.get_by_test_id("tg-bot-message")).to_have_count(0)
    tg.get_by_label("Message to the Lookout bot on Telegram").fill("/start")
    tg.get_by_role("button", name="Send", exact=True).click()
    expect(tg.get_by_test_id("tg-my-message")).to_have_count(1)
    newcomer = sandbox.console.telegram.user.id
    assert newcomer != TELEGRAM_RESIDENT.id and sandbox.telegram.messages_to(newcomer) == []

    wa = page.get_by_test_id("whatsapp-phone")
    wa.get_by_label("Message to Lookout on WhatsApp").fill("Hello from Alice")
    wa.get_by_role("button", name="Send", exact=True).click()
    expect(wa.get_by_test_id("wa-my-message")).to_have_count(1)
    wa.get_by_role("button", name="Reset").click()
    expect(wa.get_by_test_id("wa-my-message")).to_have_count(0)
    expect(wa.get_by_test_id("wa-status")).to_contain_text(f"Alice (+{WHATSAPP_RESIDENT_ID}) · 24-hour window open")
    wa.get_by_role("button", name="New resident").click()
    expect(wa.get_by_test_id("wa-status")).to_contain_text("you are Priya (+447700900")
    expect(wa.get_by_test_id("wa-status")).to_contain_text("window closed")
    assert sandbox.console.whatsapp.wa_id != WHATSAPP_RESIDENT_ID
    assert not problems, problems


def _share_of(glyph: Locator, colour: tuple[int, int, int], tolerance: int = 40) -> float:
    """How much of the element's picture is near ``colour``: drawn, not an empty box from a missing font."""
    expect(glyph.first).to_be_visible()
    picture = Image.open(io.BytesIO(glyph.first.screenshot())).convert("RGB")
    counts = picture.getcolors(maxcolors=picture.width * picture.height) or []
    near = sum(
        count for count, pixel in counts if all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=False))
    )
    return near / (picture.width * picture.height)
