"""The one-port sandbox: real clients reach each mounted stand-in by its base URL alone, URLs handed back
name the mount, and the console acts only through each platform's own door (checked here by a small
app that verifies what it receives as Lookout would)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bots.geocoding import GeopyGeocoder
from sandbox.console.people import TELEGRAM_RESIDENT, WHATSAPP_RESIDENT_ID
from sandbox.server import BackgroundServer
from sandbox.service import Sandbox, SandboxConfig
from sandbox.slack_users import SimulatedSlackClient
from sandbox.slack_workspace import OFFICER_ID, OFFICERS_CHANNEL_ID
from sandbox.telegram_users import SECRET_HEADER
from tests.support.console import flatten

# The smallest valid PNG: 1x1, transparent.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")
COMPOSE_VIEW = {
    "type": "modal",
    "callback_id": "compose",
    "title": {"type": "plain_text", "text": "New alert"},
    "submit": {"type": "plain_text", "text": "Preview"},
    "blocks": [
        {
            "type": "input",
            "block_id": "headline",
            "label": {"type": "plain_text", "text": "Headline"},
            "element": {"type": "plain_text_input", "action_id": "text"},
        },
        {
            "type": "input",
            "block_id": "urgency",
            "optional": True,
            "label": {"type": "plain_text", "text": "Urgency"},
            "element": {
                "type": "static_select",
                "action_id": "choice",
                "options": [{"text": {"type": "plain_text", "text": "Immediate"}, "value": "Immediate"}],
            },
        },
        {
            "type": "input",
            "block_id": "topics",
            "label": {"type": "plain_text", "text": "Topics"},
            "element": {
                "type": "checkboxes",
                "action_id": "chosen",
                "options": [
                    {"text": {"type": "plain_text", "text": "Burglary"}, "value": "burglary"},
                    {"text": {"type": "plain_text", "text": "Bogus callers"}, "value": "bogus_callers"},
                ],
            },
        },
    ],
}


# --- a small app that checks what reaches it, as Lookout does -----------------------------------------


@dataclass
class App:
    config: SandboxConfig
    telegram: list[dict[str, Any]] = field(default_factory=list)
    slack: list[dict[str, Any]] = field(default_factory=list)
    whatsapp: list[dict[str, Any]] = field(default_factory=list)
    slack_answer: dict[str, Any] | None = None
    server: BackgroundServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.base_url

    async def telegram_webhook(self, request: Request) -> Response:
        if request.headers.get(SECRET_HEADER) != self.config.telegram_webhook_secret:
            return JSONResponse({"ok": False}, status_code=403)
        self.telegram.append(json.loads(await request.body()))
        return JSONResponse({"ok": True})

    async def slack_events(self, request: Request) -> Response:
        body = (await request.body()).decode()
        verifier = SignatureVerifier(self.config.slack_signing_secret)
        if not verifier.is_valid_request(body, dict(request.headers)):
            return PlainTextResponse("invalid signature", status_code=401)
        if "json" in request.headers.get("content-type", ""):
            self.slack.append(json.loads(body))  # events
        else:
            form = {k: v[0] for k, v in parse_qs(body).items()}
            self.slack.append(json.loads(form["payload"]) if "payload" in form else form)
        return JSONResponse(self.slack_answer) if self.slack_answer else Response(status_code=200)

    async def whatsapp_webhook(self, request: Request) -> Response:
        body = await request.body()
        expected = "sha256=" + hmac.new(self.config.whatsapp_app_secret.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.headers.get("x-hub-signature-256", ""), expected):
            return PlainTextResponse("bad signature", status_code=401)
        self.whatsapp.append(json.loads(body))
        return PlainTextResponse("ok")


@pytest.fixture(scope="module")
def app() -> Iterator[App]:
    receiver = App(SandboxConfig())
    routes = [
        Route("/telegram/webhook", receiver.telegram_webhook, methods=["POST"]),
        Route("/slack/events", receiver.slack_events, methods=["POST"]),
        Route("/whatsapp/webhook", receiver.whatsapp_webhook, methods=["POST"]),
    ]
    receiver.server = BackgroundServer(Starlette(routes=routes), "test app")
    receiver.server.start()
    yield receiver
    receiver.server.stop()


@pytest.fixture
def sandbox(app: App) -> Iterator[Sandbox]:
    app.telegram.clear(), app.slack.clear(), app.whatsapp.clear()
    app.slack_answer = None
    with Sandbox(SandboxConfig(app_url=app.url)) as running:
        yield running


@pytest.fixture
async def bot(sandbox: Sandbox):
    bot = Bot(
        sandbox.config.telegram_token,
        session=AiohttpSession(api=TelegramAPIServer.from_base(sandbox.telegram_api_base)),
    )
    yield bot
    await bot.session.close()


def console(sandbox: Sandbox, path: str, body: Any) -> httpx.Response:
    return httpx.post(f"{sandbox.base_url}/_console/api/{path}", json=body, timeout=10)


def state(sandbox: Sandbox, **query: str) -> dict[str, Any]:
    answer = httpx.get(f"{sandbox.base_url}/_console/api/state", params=query, timeout=10)
    assert answer.status_code == 200
    return answer.json()


# --- real clients against the mounted stand-ins ----------------------------------------------------------


async def test_aiogram_reaches_the_mounted_telegram_api_files_included(bot: Bot, sandbox: Sandbox) -> None:
    assert (await bot.get_me()).username == "lookout_sandbox_bot"
    assert await bot.set_webhook("http://127.0.0.1:9/telegram/webhook", secret_token="s3cret")
    assert (await bot.get_webhook_info()).url == "http://127.0.0.1:9/telegram/webhook"
    sent = await bot.send_message(TELEGRAM_RESIDENT.id, "<b>Police alert</b>", parse_mode="HTML")
    assert sent.text == "Police alert"
    photo = await bot.send_photo(TELEGRAM_RESIDENT.id, BufferedInputFile(PNG, "area.png"))
    file = await bot.get_file(photo.photo[-1].file_id)
    assert (await bot.download_file(file.file_path)).read() == PNG  # /telegram/file/bot<token>/<path>
    assert [m.kind for m in sandbox.telegram.messages_to(TELEGRAM_RESIDENT.id)] == ["text", "photo"]


async def test_slack_sdk_reaches_the_mounted_web_api_and_its_urls_name_the_mount(sandbox: Sandbox, app: App) -> None:
    client = AsyncWebClient(token=sandbox.config.slack_bot_token, base_url=sandbox.slack_api_url)
    assert (await client.auth_test())["ok"]
    posted = await client.chat_postMessage(channel=OFFICERS_CHANNEL_ID, text="Preview ready")
    assert sandbox.slack.texts_in(OFFICERS_CHANNEL_ID) == ["Preview ready"] and posted["ts"]

    uploaded = await client.files_upload_v2(
        channel=OFFICERS_CHANNEL_ID, content=PNG, filename="area.png", title="The area"
    )
    url = uploaded["file"]["url_private"]
    assert url.startswith(f"{sandbox.base_url}/slack/files-pri/")  # the upload URL worked too, through the mount
    download = httpx.get(url, headers={"Authorization": f"Bearer {sandbox.config.slack_bot_token}"})
    assert download.status_code == 200 and download.content == PNG

    async with SimulatedSlackClient(sandbox.slack, f"{app.url}/slack/events") as slack:
        await slack.slash_command(OFFICER_ID, "/alert", "", OFFICERS_CHANNEL_ID)
    response_url = app.slack[-1]["response_url"]
    assert response_url.startswith(f"{sandbox.base_url}/slack/commands/")
    assert httpx.post(response_url, json={"text": "Working on it"}).status_code == 200
    assert [e.text for e in sandbox.slack.ephemeral_to(OFFICER_ID)] == ["Working on it"]


async def test_whatsapp_cloud_api_over_httpx_with_media_urls_under_the_mount(sandbox: Sandbox) -> None:
    auth = {"Authorization": f"Bearer {sandbox.config.whatsapp_token}"}
    base = f"{sandbox.whatsapp_api_base}/{sandbox.config.whatsapp_phone_number_id}"
    sandbox.whatsapp.open_window(WHATSAPP_RESIDENT_ID)
    async with httpx.AsyncClient(headers=auth) as client:
        sent = await client.post(
            f"{base}/messages",
            json={
                "messaging_product": "whatsapp",
                "to": WHATSAPP_RESIDENT_ID,
                "type": "text",
                "text": {"body": "Thanks for your tip."},
            },
        )
        assert sent.status_code == 200 and sent.json()["messages"][0]["id"].startswith("wamid.")
        media = await client.post(
            f"{base}/media",
            data={"messaging_product": "whatsapp", "type": "image/png"},
            files={"file": ("area.png", PNG, "image/png")},
        )
        info = await client.get(f"{sandbox.whatsapp_api_base}/{media.json()['id']}")
        assert info.json()["url"].startswith(f"{sandbox.base_url}/whatsapp/whatsapp_business/attachments/")
        assert (await client.get(info.json()["url"])).content == PNG
    assert sandbox.whatsapp.texts_to(WHATSAPP_RESIDENT_ID) == ["Thanks for your tip."]


async def test_geopy_puts_the_mount_path_before_search(sandbox: Sandbox) -> None:
    async with GeopyGeocoder(domain=sandbox.geocoder_domain, scheme="http", user_agent="lookout-tests") as geocoder:
        (postcode,) = await geocoder.search("ST16 2LZ")
    assert (postcode.lat, postcode.lon) == pytest.approx((52.80705, -2.11350))
    assert [r.path for r in sandbox.nominatim.search_requests] == ["/search"]


def test_the_console_page_is_served_with_a_strict_content_policy(sandbox: Sandbox) -> None:
    page = httpx.get(sandbox.console_url)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    for asset in (
        "console.css",
        "js/main.js",
        "js/telegram.js",
        "js/whatsapp.js",
        "js/slack.js",
        "js/blockkit.js",
        "js/glyphs.js",
    ):
        assert httpx.get(f"{sandbox.base_url}/_console/static/{asset}").status_code == 200, asset
    doors = httpx.get(f"{sandbox.base_url}/_console/api/config").json()["doors"]
    assert doors["app_url"] == sandbox.config.app_url and doors["telegram"] == "/telegram"


def test_app_environment_points_every_platform_at_the_sandbox(sandbox: Sandbox) -> None:
    env = sandbox.app_environment()
    assert env["TELEGRAM_API_BASE"] == f"{sandbox.base_url}/telegram"
    assert env["SLACK_API_BASE"] == f"{sandbox.base_url}/slack/api/"
    assert env["WHATSAPP_API_BASE"] == f"{sandbox.base_url}/whatsapp/v21.0"
    assert env["LOOKOUT_GEOCODER_DOMAIN"] == f"127.0.0.1:{sandbox.port}/nominatim"
    assert env["SLACK_OFFICER_IDS"].split(",") == ["U01OFFICER1", "U01OFFICER2"]
    assert env["SLACK_OFFICERS_CHANNEL"] == "C01OFFICERS"  # cards of alerts sent from the command line
    assert env["LOOKOUT_PUBLIC_URL"] == sandbox.config.app_url


# --- the console acts through the platforms' doors ---------------------------------------------------------


async def test_the_telegram_phone_posts_updates_with_the_registered_secret(
    bot: Bot, sandbox: Sandbox, app: App
) -> None:
    assert console(sandbox, "telegram/text", {"text": "/start"}).status_code == 409  # no webhook registered yet
    await bot.set_webhook(f"{app.url}/telegram/webhook", secret_token=sandbox.config.telegram_webhook_secret)
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="I have information", callback_data="tip:7")]]
    )
    alert = await bot.send_message(
        TELEGRAM_RESIDENT.id, "<b>Police alert</b> &amp; <i>more</i>", parse_mode="HTML", reply_markup=keyboard
    )

    started = console(sandbox, "telegram/text", {"text": "/start"})
    assert started.status_code == 200 and started.json()["status"] == 200
    assert (
        app.telegram[-1]["message"]["text"] == "/start"
        and app.telegram[-1]["message"]["entities"][0]["type"] == "bot_command"
    )
    pressed = console(sandbox, "telegram/button", {"message_id": alert.message_id, "data": "tip:7"})
    assert pressed.json()["status"] == 200 and app.telegram[-1]["callback_query"]["data"] == "tip:7"
    assert console(sandbox, "telegram/location", {"latitude": 52.8067, "longitude": -2.1174}).json()["status"] == 200
    assert app.telegram[-1]["message"]["location"] == {"latitude": 52.8067, "longitude": -2.1174}
    photo = console(sandbox, "telegram/photo", {"data": base64.b64encode(PNG).decode(), "caption": "the van"})
    assert photo.json()["status"] == 200 and app.telegram[-1]["message"]["caption"] == "the van"
    assert len({u["update_id"] for u in app.telegram}) == 4  # every update a new id

    await bot.send_message(
        TELEGRAM_RESIDENT.id,
        "Where?",
        reply_markup=ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text="Share my location", request_location=True)]], one_time_keyboard=True
        ),
    )
    await bot.send_chat_action(TELEGRAM_RESIDENT.id, "typing")
    phone = state(sandbox)["telegram"]
    assert phone["typing"] == "typing" and phone["keyboard"]["rows"] == [
        [{"text": "Share my location", "request_location": True, "unsupported": False}]
    ]
    bubble = next(item for item in phone["timeline"] if item.get("id") == alert.message_id)
    assert bubble["nodes"] == [
        {"t": "b", "c": [{"t": "text", "v": "Police alert"}]},
        {"t": "text", "v": " & "},
        {"t": "i", "c": [{"t": "text", "v": "more"}]},
    ]
    assert bubble["buttons"] == [[{"text": "I have information", "data": "tip:7"}]]
    kinds = [item["kind"] for item in phone["timeline"] if item["from"] == "resident"]
    assert kinds == ["text", "button", "location", "photo"]
    assert httpx.get(f"{sandbox.base_url}{phone['timeline'][-2]['file']['url']}").content == PNG


async def test_the_whatsapp_phone_sends_signed_webhooks_and_taps_real_buttons(sandbox: Sandbox, app: App) -> None:
    sent = console(sandbox, "whatsapp/text", {"text": "hello"})
    assert sent.status_code == 200 and sent.json()["status"] == 200  # the app checked the signature
    assert app.whatsapp[-1]["entry"][0]["changes"][0]["value"]["messages"][0]["text"] == {"body": "hello"}
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {sandbox.config.whatsapp_token}"}) as client:
        answer = await client.post(
            f"{sandbox.whatsapp_api_base}/{sandbox.config.whatsapp_phone_number_id}/messages",
            json={
                "messaging_product": "whatsapp",
                "to": WHATSAPP_RESIDENT_ID,
                "type": "interactive",
                "interactive": {
                    "type": "button",
                    "body": {"text": "Send us what you saw?"},
                    "action": {"buttons": [{"type": "reply", "reply": {"id": "tip:7", "title": "I have information"}}]},
                },
            },
        )
    wamid = answer.json()["messages"][0]["id"]
    assert console(sandbox, "whatsapp/button", {"message_id": wamid, "id": "nope"}).status_code == 400
    tapped = console(sandbox, "whatsapp/button", {"message_id": wamid, "id": "tip:7"})
    assert tapped.json()["status"] == 200
    reply = app.whatsapp[-1]["entry"][0]["changes"][0]["value"]["messages"][0]
    assert reply["interactive"]["button_reply"] == {"id": "tip:7", "title": "I have information"}
    assert reply["context"]["id"] == wamid
    shared = console(
        sandbox, "whatsapp/location", {"latitude": 52.8067, "longitude": -2.1174, "name": "Stafford town centre"}
    )
    assert shared.json()["status"] == 200
    phone = state(sandbox)["whatsapp"]
    assert phone["window_open"] and [m["from"] for m in phone["timeline"]] == [
        "resident",
        "business",
        "resident",
        "resident",
    ]
    assert phone["timeline"][1]["buttons"] == [{"id": "tip:7", "title": "I have information"}]


async def test_telegram_reset_clears_the_phone_and_a_new_resident_is_a_stranger_to_the_app(
    bot: Bot, sandbox: Sandbox, app: App
) -> None:
    await bot.set_webhook(f"{app.url}/telegram/webhook", secret_token=sandbox.config.telegram_webhook_secret)
    await bot.send_message(TELEGRAM_RESIDENT.id, "Welcome back")
    assert console(sandbox, "telegram/text", {"text": "/start"}).json()["status"] == 200
    assert [item["from"] for item in state(sandbox)["telegram"]["timeline"]] == ["bot", "resident"]

    reset = console(sandbox, "telegram/reset", {})
    assert reset.status_code == 200 and reset.json()["user"]["id"] == TELEGRAM_RESIDENT.id
    assert state(sandbox)["telegram"]["timeline"] == []
    await bot.send_message(TELEGRAM_RESIDENT.id, "After the reset")
    assert [flatten(item["nodes"]) for item in state(sandbox)["telegram"]["timeline"]] == ["After the reset"]
    assert len(sandbox.telegram.messages_to(TELEGRAM_RESIDENT.id)) == 2  # the stand-in's record is untouched

    fresh = console(sandbox, "telegram/new_resident", {}).json()["user"]
    phone = state(sandbox)["telegram"]
    assert fresh["id"] != TELEGRAM_RESIDENT.id and phone["user"] == fresh and phone["timeline"] == []
    assert console(sandbox, "telegram/text", {"text": "/start"}).json()["status"] == 200
    update = app.telegram[-1]["message"]
    assert (
        update["from"]["id"] == update["chat"]["id"] == fresh["id"]
        and update["from"]["first_name"] == fresh["first_name"]
    )
    await bot.send_message(TELEGRAM_RESIDENT.id, "For the first resident only")
    assert [item["from"] for item in state(sandbox)["telegram"]["timeline"]] == ["resident"]
    second = console(sandbox, "telegram/new_resident", {}).json()["user"]
    assert second["id"] not in {fresh["id"], TELEGRAM_RESIDENT.id} and second["first_name"] != fresh["first_name"]


async def test_whatsapp_reset_clears_the_phone_and_a_new_resident_writes_from_a_new_number(
    sandbox: Sandbox, app: App
) -> None:
    assert console(sandbox, "whatsapp/text", {"text": "hello"}).json()["status"] == 200
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {sandbox.config.whatsapp_token}"}) as client:
        graph = f"{sandbox.whatsapp_api_base}/{sandbox.config.whatsapp_phone_number_id}/messages"
        text = {
            "messaging_product": "whatsapp",
            "to": WHATSAPP_RESIDENT_ID,
            "type": "text",
            "text": {"body": "Hi Alice"},
        }
        assert (await client.post(graph, json=text)).status_code == 200
        assert (await client.post(graph, json={**text, "to": "447700900999"})).status_code == 400  # no window: 131047
        assert len(state(sandbox)["whatsapp"]["timeline"]) == 2

        assert console(sandbox, "whatsapp/reset", {}).json() == {"wa_id": WHATSAPP_RESIDENT_ID, "name": "Alice"}
        phone = state(sandbox)["whatsapp"]
        assert phone["timeline"] == [] and phone["window_open"]  # the view is cleared, not what WhatsApp knows
        sandbox.whatsapp.advance(6)  # Meta's pair rate: one message per 6 s to a user
        assert (await client.post(graph, json={**text, "text": {"body": "After the reset"}})).status_code == 200
        assert [item["text"] for item in state(sandbox)["whatsapp"]["timeline"]] == ["After the reset"]

        fresh = console(sandbox, "whatsapp/new_resident", {}).json()
        assert fresh["wa_id"] not in {WHATSAPP_RESIDENT_ID, "447700900999"} and fresh["wa_id"].startswith("447700900")
        phone = state(sandbox)["whatsapp"]
        assert (phone["wa_id"], phone["name"], phone["timeline"], phone["window_open"]) == (
            fresh["wa_id"],
            fresh["name"],
            [],
            False,
        )
        assert console(sandbox, "whatsapp/text", {"text": "hi"}).json()["status"] == 200
        value = app.whatsapp[-1]["entry"][0]["changes"][0]["value"]
        assert (
            value["messages"][0]["from"] == fresh["wa_id"] and value["contacts"][0]["profile"]["name"] == fresh["name"]
        )
        sandbox.whatsapp.advance(6)
        assert (await client.post(graph, json={**text, "text": {"body": "Only Alice sees this"}})).status_code == 200
    assert [item["from"] for item in state(sandbox)["whatsapp"]["timeline"]] == ["resident"]


async def test_the_slack_pane_signs_commands_and_shows_modal_errors(sandbox: Sandbox, app: App) -> None:
    answer = console(
        sandbox, "slack/command", {"user": OFFICER_ID, "channel": OFFICERS_CHANNEL_ID, "text": "/alert burglary"}
    )
    assert answer.status_code == 200 and answer.json()["status"] == 200  # the app verified the v0 signature
    assert app.slack[-1]["command"] == "/alert" and app.slack[-1]["text"] == "burglary"

    client = AsyncWebClient(token=sandbox.config.slack_bot_token, base_url=sandbox.slack_api_url)
    view = (await client.views_open(trigger_id=app.slack[-1]["trigger_id"], view=COMPOSE_VIEW))["view"]
    pane = state(sandbox, officer=OFFICER_ID, channel=OFFICERS_CHANNEL_ID)["slack"]
    assert pane["modal"]["id"] == view["id"] and pane["user"] == OFFICER_ID

    app.slack_answer = {"response_action": "errors", "errors": {"headline": "This can't be empty."}}
    values = {"headline": {"text": None}, "urgency": {"choice": None}, "topics": {"chosen": ["burglary"]}}
    submitted = console(sandbox, "slack/submit", {"user": OFFICER_ID, "view_id": view["id"], "values": values}).json()
    assert submitted["errors"] == {"headline": "This can't be empty."}
    state_sent = app.slack[-1]["view"]["state"]["values"]
    assert state_sent["headline"]["text"] == {"type": "plain_text_input", "value": None}
    assert state_sent["urgency"]["choice"] == {"type": "static_select", "selected_option": None}
    assert [o["value"] for o in state_sent["topics"]["chosen"]["selected_options"]] == ["burglary"]
    assert sandbox.slack.open_views(OFFICER_ID)  # errors keep the modal open

    app.slack_answer = None
    console(
        sandbox, "slack/submit", {"user": OFFICER_ID, "view_id": view["id"], "values": {"headline": {"text": "Van"}}}
    )
    assert not sandbox.slack.open_views(OFFICER_ID)  # a bare 200 closes it
    said = console(sandbox, "slack/message", {"user": OFFICER_ID, "channel": OFFICERS_CHANNEL_ID, "text": "On my way"})
    assert said.json()["status"] == 200 and app.slack[-1]["event"]["text"] == "On my way"


async def test_slack_buttons_and_choices_reach_the_app_as_block_actions(sandbox: Sandbox, app: App) -> None:
    client = AsyncWebClient(token=sandbox.config.slack_bot_token, base_url=sandbox.slack_api_url)
    blocks = [
        {
            "type": "actions",
            "block_id": "decide",
            "elements": [
                {
                    "type": "button",
                    "action_id": "approve",
                    "text": {"type": "plain_text", "text": "Approve"},
                    "value": "A-1",
                    "style": "primary",
                },
                {
                    "type": "static_select",
                    "action_id": "triage",
                    "options": [{"text": {"type": "plain_text", "text": "Useful"}, "value": "useful"}],
                },
            ],
        }
    ]
    posted = await client.chat_postMessage(channel=OFFICERS_CHANNEL_ID, text="Approve?", blocks=blocks)
    where = {"user": OFFICER_ID, "channel": OFFICERS_CHANNEL_ID, "message_ts": posted["ts"], "block_id": "decide"}

    pressed = console(sandbox, "slack/action", {**where, "action_id": "approve", "type": "button", "value": "A-1"})
    assert pressed.json()["status"] == 200
    (action,) = app.slack[-1]["actions"]
    assert (action["action_id"], action["value"], action["style"]) == ("approve", "A-1", "primary")
    assert app.slack[-1]["container"]["message_ts"] == posted["ts"] and app.slack[-1]["response_url"]

    console(sandbox, "slack/action", {**where, "action_id": "triage", "type": "static_select", "value": "useful"})
    assert app.slack[-1]["actions"][0]["selected_option"]["text"]["text"] == "Useful"

    answer = console(sandbox, "slack/command", {"user": OFFICER_ID, "channel": OFFICERS_CHANNEL_ID, "text": "/alert"})
    assert answer.json()["status"] == 200
    view = (await client.views_open(trigger_id=app.slack[-1]["trigger_id"], view=COMPOSE_VIEW))["view"]
    console(
        sandbox,
        "slack/action",
        {
            "user": OFFICER_ID,
            "view_id": view["id"],
            "action_id": "choice",
            "block_id": "urgency",
            "type": "static_select",
            "value": "Immediate",
            "values": {"headline": {"text": "Van"}},
        },
    )
    assert app.slack[-1]["container"] == {"type": "view", "view_id": view["id"]}
    assert app.slack[-1]["view"]["state"]["values"]["headline"]["text"]["value"] == "Van"
    assert console(sandbox, "slack/close", {"user": OFFICER_ID}).json() == {"ok": True}
    assert not sandbox.slack.open_views(OFFICER_ID)


def test_the_delivery_counters_count_what_each_stand_in_received(sandbox: Sandbox) -> None:
    for chat in (1, 2, 3):
        httpx.post(
            f"{sandbox.telegram_api_base}/bot{sandbox.config.telegram_token}/sendMessage",
            data={"chat_id": chat, "text": "hi"},
        )
    counters = state(sandbox)["counters"]
    assert counters["telegram"]["sent"] == 3 and counters["whatsapp"]["sent"] == 0 and counters["slack"]["sent"] == 0


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("telegram/text", "not json"),
        ("telegram/text", [1, 2]),
        ("telegram/text", {}),
        ("telegram/text", {"text": 5}),
        ("telegram/text", {"text": "x" * 4097}),
        ("telegram/text", {"text": "hi", "reply_to": "abc"}),
        ("telegram/text", {"text": "hi", "reply_to": 999}),
        ("telegram/text", {"text": "hi", "reply_to": "9" * 5000}),
        ("telegram/text", '{"text": "hi", "reply_to": ' + "9" * 5000 + "}"),
        ("telegram/location", {"latitude": 91, "longitude": 0}),
        ("telegram/location", {"latitude": "nan", "longitude": 0}),
        ("telegram/location", {"latitude": True, "longitude": 0}),
        ("telegram/button", {"message_id": 999, "data": "tip:1"}),
        ("telegram/button", {"message_id": 1}),
        ("telegram/photo", {"data": "%%%"}),
        ("telegram/photo", {"data": base64.b64encode(b"not a picture").decode()}),
        ("whatsapp/text", {"text": ""}),
        ("whatsapp/location", {"latitude": 0, "longitude": 181}),
        ("whatsapp/button", {"message_id": "wamid.nope", "id": "x"}),
        ("whatsapp/list", {"message_id": "wamid.nope", "id": "x"}),
        ("whatsapp/quick_reply", {"message_id": "wamid.nope", "text": "Stop alerts"}),
        ("whatsapp/image", {"data": base64.b64encode(b"GIF89a....").decode()}),
        ("slack/command", {"user": "U404", "channel": OFFICERS_CHANNEL_ID, "text": "/alert"}),
        ("slack/command", {"user": OFFICER_ID, "channel": "C404", "text": "/alert"}),
        ("slack/command", {"user": OFFICER_ID, "channel": OFFICERS_CHANNEL_ID, "text": "alert"}),
        ("slack/command", {"user": "U01LOOKOUTB", "channel": OFFICERS_CHANNEL_ID, "text": "/alert"}),
        ("slack/message", {"user": OFFICER_ID, "channel": OFFICERS_CHANNEL_ID, "text": "hi", "thread_ts": "1.2"}),
        (
            "slack/action",
            {"user": OFFICER_ID, "action_id": "approve", "channel": OFFICERS_CHANNEL_ID, "message_ts": "1.2"},
        ),
        ("slack/action", {"user": OFFICER_ID, "action_id": "approve"}),
        ("slack/action", {"user": OFFICER_ID, "action_id": "a b", "view_id": "V1"}),
        ("slack/action", {"user": OFFICER_ID, "action_id": "approve", "view_id": "V1", "value": {"x": 1}}),
        ("slack/submit", {"user": OFFICER_ID, "view_id": "V404", "values": {}}),
        ("slack/submit", {"user": OFFICER_ID}),
        ("slack/close", {}),
    ],
)
def test_bad_console_input_is_a_400_that_names_the_problem(sandbox: Sandbox, path: str, body: Any) -> None:
    content = body if isinstance(body, str) else json.dumps(body)
    answer = httpx.post(
        f"{sandbox.base_url}/_console/api/{path}", content=content, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]


def test_an_app_that_is_not_there_is_a_502_not_a_500() -> None:
    with Sandbox(SandboxConfig(app_url="http://127.0.0.1:9")) as sandbox:
        started = time.monotonic()
        for path, body in (
            ("whatsapp/text", {"text": "hi"}),
            ("slack/command", {"user": OFFICER_ID, "channel": OFFICERS_CHANNEL_ID, "text": "/alert"}),
        ):
            answer = console(sandbox, path, body)
            assert answer.status_code == 502 and "did not answer" in answer.json()["error"], path
        assert time.monotonic() - started < 5
