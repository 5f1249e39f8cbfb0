"""The WhatsApp Cloud API stand-in, driven over real HTTP on loopback as Lookout will drive it.

The client is a plain ``httpx.AsyncClient``; webhooks land in a tiny Starlette
receiver that keeps the raw bytes and headers, so signatures are checked
independently of the stand-in's own code.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from sandbox.server import BackgroundServer
from sandbox.whatsapp import WhatsAppFaults, WhatsAppLimits, WhatsAppStandIn

TOKEN = "test-token"
PHONE_ID = "100000000000001"
APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
ALICE = "447700900123"
BOB = "447700900456"
DAY = 24 * 3600


def frozen_clock() -> float:
    """A burst all lands in one instant, however long the requests take."""
    return 1_700_000_000.0


# --- a tiny app that receives webhooks -------------------------------------------------------------


@dataclass
class Receiver:
    """Records every webhook exactly as it arrived; answers the handshake like a real app would."""

    requests: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    server: BackgroundServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"{self.server.base_url}/whatsapp/webhook"

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(raw) for raw, _ in self.requests]

    async def webhook(self, request: Request) -> Response:
        if request.method == "GET":
            params = request.query_params
            if params.get("hub.mode") == "subscribe" and params.get("hub.verify_token") == VERIFY_TOKEN:
                return PlainTextResponse(params["hub.challenge"])
            return PlainTextResponse("forbidden", status_code=403)
        self.requests.append((await request.body(), dict(request.headers)))
        return PlainTextResponse("ok")


@pytest.fixture(scope="module")
def running_receiver() -> Iterator[Receiver]:
    # One receiver for the module: stopping a server costs a few tenths of a second.
    receiver = Receiver()
    app = Starlette(routes=[Route("/whatsapp/webhook", receiver.webhook, methods=["GET", "POST"])])
    receiver.server = BackgroundServer(app, "webhook receiver")
    receiver.server.start()
    yield receiver
    receiver.server.stop()


@pytest.fixture
def receiver(running_receiver: Receiver) -> Receiver:
    running_receiver.requests.clear()
    return running_receiver


def stand_in_for(receiver: Receiver, **options: Any) -> WhatsAppStandIn:
    # Most tests send several messages to one user in a row; the pair limit has its own test.
    options.setdefault("limits", WhatsAppLimits(per_user_interval=None))
    return WhatsAppStandIn(TOKEN, PHONE_ID, APP_SECRET, callback_url=receiver.url, **options)


@pytest.fixture
def wa(receiver: Receiver) -> Iterator[WhatsAppStandIn]:
    with stand_in_for(receiver) as stand_in:
        yield stand_in


def client_for(stand_in: WhatsAppStandIn, token: str = TOKEN) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=f"{stand_in.api_base}/", headers={"Authorization": f"Bearer {token}"}, timeout=5.0
    )


@pytest.fixture
async def client(wa: WhatsAppStandIn) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(wa) as client:
        yield client


def message_body(to: str, kind: str, content: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": kind,
        kind: content,
        **extra,
    }


async def send(client: httpx.AsyncClient, to: str, kind: str, content: dict[str, Any], **extra: Any) -> httpx.Response:
    return await client.post(f"{PHONE_ID}/messages", json=message_body(to, kind, content, **extra))


def without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


HELLO = message_body(ALICE, "text", {"body": "hi"})


async def upload(client: httpx.AsyncClient, filename: str, content: bytes, mime_type: str) -> httpx.Response:
    form = {"file": (filename, content, mime_type), "messaging_product": (None, "whatsapp"), "type": (None, mime_type)}
    return await client.post(f"{PHONE_ID}/media", files=form)


def alert_template(*parameters: str, payloads: tuple[str, ...] = ("tip:42", "stop")) -> dict[str, Any]:
    buttons = [
        {
            "type": "button",
            "sub_type": "quick_reply",
            "index": str(i),
            "parameters": [{"type": "payload", "payload": p}],
        }
        for i, p in enumerate(payloads)
    ]
    body = {"type": "body", "parameters": [{"type": "text", "text": p} for p in parameters]}
    return {"name": "police_alert", "language": {"code": "en_GB"}, "components": [body, *buttons]}


ALERT = (
    "Staffordshire Police",
    "Stafford town centre",
    "Two men seen trying car doors on Eastgate Street.",
    "Call 101 quoting 123.",
)


def graph_error(response: httpx.Response) -> dict[str, Any]:
    error = response.json()["error"]
    assert error["type"] == "OAuthException"
    assert error["fbtrace_id"]
    return error


def signature_of(raw: bytes) -> str:
    return "sha256=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()


# --- sending: every message type gets Meta's success shape ------------------------------------------


async def test_each_message_type_gets_the_real_success_shape(wa: WhatsAppStandIn, client: httpx.AsyncClient) -> None:
    wa.open_window(ALICE)
    photo = await upload(client, "photo.jpg", b"\xff\xd8jpeg", "image/jpeg")
    buttons = {**reply_buttons("Yes please", "No thanks"), "body": {"text": "Do you want alerts for this area?"}}
    a_list = list_of(["Burglary", "Vehicle crime"])
    ask_location = {
        "type": "location_request_message",
        "body": {"text": "Share your home location"},
        "action": {"name": "send_location"},
    }
    station = {"latitude": 52.8067, "longitude": -2.1162, "name": "Stafford Police Station", "address": "Eastgate St"}
    messages = [
        ("text", {"body": "Welcome to Lookout", "preview_url": False}, "Welcome to Lookout"),
        ("interactive", buttons, "Do you want alerts for this area?"),
        ("interactive", a_list, "Choose"),
        ("interactive", ask_location, "Share your home location"),
        ("location", station, "Stafford Police Station"),
        (
            "image",
            {"link": "https://example.org/suspect.jpg", "caption": "Have you seen this van?"},
            "Have you seen this van?",
        ),
        ("image", {"id": photo.json()["id"]}, ""),
    ]

    answers = [await send(client, "+44 7700 900123", kind, content) for kind, content, _ in messages]

    for answer in answers:
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["messaging_product"] == "whatsapp"
        assert body["contacts"] == [{"input": "+44 7700 900123", "wa_id": ALICE}]
        (message,) = body["messages"]
        assert message["id"].startswith("wamid.")
    assert len({a.json()["messages"][0]["id"] for a in answers}) == len(messages)
    assert wa.texts_to(ALICE) == [shown for _, _, shown in messages]
    assert [m.type for m in wa.sent_to(ALICE)] == [kind for kind, _, _ in messages]
    assert wa.sent_to(ALICE)[1].content["action"]["buttons"][0]["reply"] == {"id": "b0", "title": "Yes please"}


async def test_a_template_is_accepted_and_rendered(wa: WhatsAppStandIn, client: httpx.AsyncClient) -> None:
    answer = await send(client, ALICE, "template", alert_template(*ALERT))

    assert answer.status_code == 200, answer.text
    (message,) = answer.json()["messages"]
    assert message["message_status"] == "accepted"
    (shown,) = wa.texts_to(ALICE)
    assert shown == "Staffordshire Police alert for Stafford town centre:\n\n" + ALERT[2] + "\n\n" + ALERT[3]


async def test_a_reply_carries_the_quoted_message(wa: WhatsAppStandIn, client: httpx.AsyncClient) -> None:
    delivery = await wa.user(ALICE).sends_text("I saw a van")

    reply = {"body": "Thanks, passed to an officer"}
    answer = await send(client, ALICE, "text", reply, context={"message_id": delivery.message_id})

    assert answer.status_code == 200
    assert wa.sent_to(ALICE)[0].reply_to == delivery.message_id


async def test_marking_a_message_read_succeeds(wa: WhatsAppStandIn, client: httpx.AsyncClient) -> None:
    delivery = await wa.user(ALICE).sends_text("hello")

    receipt = {"messaging_product": "whatsapp", "status": "read", "message_id": delivery.message_id}
    answer = await client.post(f"{PHONE_ID}/messages", json=receipt)

    assert answer.json() == {"success": True}
    assert wa.read_receipts == [delivery.message_id]


# --- the 24-hour customer-service window ----------------------------------------------------------------


async def test_the_window_decides_between_free_form_and_template(
    wa: WhatsAppStandIn, client: httpx.AsyncClient
) -> None:
    never_wrote = await send(client, ALICE, "text", {"body": "Alert!"})
    assert never_wrote.status_code == 400
    error = graph_error(never_wrote)
    assert error["code"] == 131047
    assert error["message"] == "(#131047) Re-engagement message"
    assert error["error_data"] == {
        "messaging_product": "whatsapp",
        "details": (
            "Message failed to send because more than 24 hours have passed since the customer last replied to this number."
        ),
    }

    assert (await send(client, ALICE, "template", alert_template(*ALERT))).status_code == 200

    await wa.user(ALICE).sends_text("What happened?")
    assert wa.window_open(ALICE)
    assert (await send(client, ALICE, "text", {"body": "Details follow"})).status_code == 200

    wa.advance(DAY + 1)
    assert not wa.window_open(ALICE)
    assert graph_error(await send(client, ALICE, "text", {"body": "Too late"}))["code"] == 131047
    assert wa.rejected_codes(ALICE) == [131047, 131047]
    assert wa.texts_to(ALICE)[-1] == "Details follow"


async def test_a_window_can_be_aged_without_the_clock(wa: WhatsAppStandIn, client: httpx.AsyncClient) -> None:
    wa.open_window(ALICE, seconds_ago=DAY - 60)
    wa.open_window(BOB, seconds_ago=DAY + 60)

    assert (await send(client, ALICE, "text", {"body": "still open"})).status_code == 200
    assert graph_error(await send(client, BOB, "text", {"body": "closed"}))["code"] == 131047


async def test_window_failures_can_arrive_by_webhook_as_meta_often_does(receiver: Receiver) -> None:
    with stand_in_for(receiver, faults=WhatsAppFaults(asynchronous_failures=True)) as wa:
        async with client_for(wa) as client:
            answer = await send(client, ALICE, "text", {"body": "Alert!"})
            message_id = answer.json()["messages"][0]["id"]
            for _ in range(200):
                if receiver.requests:
                    break
                await asyncio.sleep(0.01)

    assert answer.status_code == 200
    (status,) = receiver.bodies()[0]["entry"][0]["changes"][0]["value"]["statuses"]
    assert status["id"] == message_id
    assert status["status"] == "failed"
    assert status["errors"][0]["code"] == 131047
    assert wa.texts_to(ALICE) == []


# --- limits -------------------------------------------------------------------------------------------


async def test_the_pair_rate_limits_messages_to_one_user(receiver: Receiver) -> None:
    with stand_in_for(receiver, limits=WhatsAppLimits(per_user_interval=6.0)) as wa:
        async with client_for(wa) as client:
            first = await send(client, ALICE, "template", alert_template(*ALERT))
            too_soon = await send(client, ALICE, "template", alert_template(*ALERT))
            someone_else = await send(client, BOB, "template", alert_template(*ALERT))
            wa.advance(6.0)
            after_the_interval = await send(client, ALICE, "template", alert_template(*ALERT))

    assert first.status_code == 200
    assert too_soon.status_code == 400
    error = graph_error(too_soon)
    assert error["code"] == 131056
    assert error["message"] == "(#131056) (Business Account, Consumer Account) pair rate limit hit"
    assert someone_else.status_code == 200
    assert after_the_interval.status_code == 200
    assert len(wa.sent_to(ALICE)) == 2


async def test_a_pair_burst_borrows_from_future_quota(receiver: Receiver) -> None:
    with stand_in_for(receiver, limits=WhatsAppLimits(per_user_interval=6.0, per_user_burst=3)) as wa:
        async with client_for(wa) as client:
            burst = [await send(client, ALICE, "template", alert_template(*ALERT)) for _ in range(4)]
            wa.advance(6.0)
            after_one_interval = await send(client, ALICE, "template", alert_template(*ALERT))

    assert [r.status_code for r in burst] == [200, 200, 200, 400]
    assert after_one_interval.status_code == 200


async def test_a_burst_beyond_the_numbers_throughput_gets_130429(receiver: Receiver) -> None:
    limits = WhatsAppLimits(per_number_per_second=10, per_user_interval=None)
    with stand_in_for(receiver, limits=limits, clock=frozen_clock) as wa:
        async with client_for(wa) as client:
            burst = (send(client, f"4477009{i:05d}", "template", alert_template(*ALERT)) for i in range(15))
            answers = await asyncio.gather(*burst)

    codes = sorted(r.status_code for r in answers)
    assert codes == [200] * 10 + [400] * 5
    refused = [graph_error(r) for r in answers if r.status_code == 400]
    assert {e["code"] for e in refused} == {130429}
    assert refused[0]["message"] == "(#130429) Rate limit hit"
    assert wa.sent_count() == 10
    assert wa.rejected_codes() == [130429] * 5


async def test_the_default_throughput_is_80_per_second(receiver: Receiver) -> None:
    with stand_in_for(receiver, clock=frozen_clock) as wa:
        async with client_for(wa) as client:
            burst = (send(client, f"4477008{i:05d}", "template", alert_template(*ALERT)) for i in range(90))
            answers = await asyncio.gather(*burst)
            wa.advance(1.0)
            a_second_later = await send(client, ALICE, "template", alert_template(*ALERT))

    assert sum(r.status_code == 200 for r in answers) == 80
    assert a_second_later.status_code == 200


async def test_an_unreachable_user_gets_131026(receiver: Receiver) -> None:
    with stand_in_for(receiver, faults=WhatsAppFaults(unreachable_users={BOB})) as wa:
        async with client_for(wa) as client:
            answer = await send(client, BOB, "template", alert_template(*ALERT))

    assert answer.status_code == 400
    assert graph_error(answer)["code"] == 131026
    assert wa.rejected_codes(BOB) == [131026]


async def test_a_share_of_calls_fails_with_500(receiver: Receiver) -> None:
    with stand_in_for(receiver, faults=WhatsAppFaults(server_error_share=1.0)) as wa:
        async with client_for(wa) as client:
            answer = await send(client, ALICE, "template", alert_template(*ALERT))

    assert answer.status_code == 500
    assert graph_error(answer)["code"] == 131000


# --- templates -------------------------------------------------------------------------------------------


async def test_an_unknown_template_or_language_gets_132001(client: httpx.AsyncClient) -> None:
    unknown = await send(client, ALICE, "template", {"name": "no_such_template", "language": {"code": "en_GB"}})
    wrong_language = await send(client, ALICE, "template", {**alert_template(*ALERT), "language": {"code": "fr"}})

    assert unknown.status_code == 404
    error = graph_error(unknown)
    assert error["code"] == 132001
    assert error["message"] == "(#132001) Template name does not exist in the translation"
    assert error["error_data"]["details"] == "template name (no_such_template) does not exist in en_GB"
    assert graph_error(wrong_language)["error_data"]["details"] == "template name (police_alert) does not exist in fr"


async def test_template_parameters_are_checked(client: httpx.AsyncClient) -> None:
    too_few = await send(client, ALICE, "template", alert_template(*ALERT[:3]))
    with_a_newline = await send(
        client, ALICE, "template", alert_template(ALERT[0], ALERT[1], "line one\nline two", ALERT[3])
    )
    no_such_button = await send(client, ALICE, "template", alert_template(*ALERT, payloads=("a", "b", "c", "d", "e")))

    assert graph_error(too_few)["code"] == 132000
    assert graph_error(too_few)["error_data"]["details"] == (
        "body: number of localizable_params (3) does not match the expected number of params (4)"
    )
    assert graph_error(with_a_newline)["code"] == 132018
    assert graph_error(no_such_button)["code"] == 131009


async def test_a_button_index_that_is_a_digit_but_no_number_gets_131009(client: httpx.AsyncClient) -> None:
    template = alert_template(*ALERT)
    template["components"][1]["index"] = "²"  # str.isdigit() says yes; int() refuses it

    answer = await send(client, ALICE, "template", template)

    assert graph_error(answer)["code"] == 131009


# --- authentication and malformed requests --------------------------------------------------------------


async def test_a_bad_or_missing_token_gets_190_and_401(wa: WhatsAppStandIn) -> None:
    async with client_for(wa, token="wrong") as bad, httpx.AsyncClient(base_url=f"{wa.api_base}/") as anonymous:
        wrong = await send(bad, ALICE, "template", alert_template(*ALERT))
        missing = await send(anonymous, ALICE, "template", alert_template(*ALERT))
        not_ascii = await anonymous.post(
            f"{PHONE_ID}/messages", json=HELLO, headers=[(b"Authorization", "Bearer jeton-périmé".encode("latin-1"))]
        )

    for answer in (wrong, missing, not_ascii):
        assert answer.status_code == 401
        error = graph_error(answer)
        assert error["code"] == 190
        assert error["message"] == "Invalid OAuth access token - Cannot parse access token"
    assert wa.sent_count() == 0


async def test_another_phone_number_id_is_an_unknown_object(wa: WhatsAppStandIn, client: httpx.AsyncClient) -> None:
    answer = await client.post("999/messages", json=message_body(ALICE, "text", {"body": "x"}))

    assert answer.status_code == 400
    assert graph_error(answer)["code"] == 100
    assert answer.json()["error"]["error_subcode"] == 33


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (without(HELLO, "messaging_product"), "(#100) The parameter messaging_product is required."),
        (without(HELLO, "to"), "(#100) The parameter to is required."),
        (message_body(ALICE, "sticker", {}), None),
        (
            message_body(ALICE, "text", {"body": "x" * 4097}),
            "(#100) Param text['body'] must be at most 4096 characters long.",
        ),
        (message_body(ALICE, "text", {}), "(#100) Param text['body'] is required."),
        (message_body(ALICE, "location", {"latitude": "north"}), None),
        (message_body(ALICE, "image", {"id": "404"}), None),
    ],
)
async def test_a_malformed_message_gets_100(
    wa: WhatsAppStandIn, client: httpx.AsyncClient, body: dict[str, Any], message: str | None
) -> None:
    wa.open_window(ALICE)

    answer = await client.post(f"{PHONE_ID}/messages", json=body)

    assert answer.status_code == 400
    error = graph_error(answer)
    assert error["code"] == 100
    if message is not None:
        assert error["message"] == message


async def test_a_body_that_is_not_json_gets_100(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        f"{PHONE_ID}/messages", content=b"{not json", headers={"Content-Type": "application/json"}
    )

    assert answer.status_code == 400
    assert graph_error(answer)["code"] == 100


# --- interactive limits -------------------------------------------------------------------------------------


def reply_buttons(*titles: str) -> dict[str, Any]:
    buttons = [{"type": "reply", "reply": {"id": f"b{i}", "title": t}} for i, t in enumerate(titles)]
    return {"type": "button", "body": {"text": "Choose"}, "action": {"buttons": buttons}}


def list_of(*section_rows: list[str]) -> dict[str, Any]:
    sections = [
        {"title": f"Section {s}", "rows": [{"id": f"r{s}-{i}", "title": t} for i, t in enumerate(rows)]}
        for s, rows in enumerate(section_rows)
    ]
    return {"type": "list", "body": {"text": "Choose"}, "action": {"button": "Options", "sections": sections}}


@pytest.mark.parametrize(
    ("interactive", "details"),
    [
        (
            reply_buttons("One", "Two", "Three", "Four"),
            "Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: 3",
        ),
        (reply_buttons("A title of 21 chars!!"), "Button title length invalid. Min length: 1, Max length: 20"),
        (
            list_of([f"Row {i}" for i in range(6)], [f"Row {i}" for i in range(5)]),
            "Total row count exceed max allowed count: 10",
        ),
        (list_of(["A row title of 25 chars!!"]), "Row title is too long. Max length is 24"),
    ],
)
async def test_interactive_limits_get_131009_as_meta_answers(
    wa: WhatsAppStandIn, client: httpx.AsyncClient, interactive: dict[str, Any], details: str
) -> None:
    wa.open_window(ALICE)

    answer = await send(client, ALICE, "interactive", interactive)

    assert answer.status_code == 400
    error = graph_error(answer)
    assert error["code"] == 131009
    assert error["message"] == "(#131009) Parameter value is not valid"
    assert error["error_data"] == {"messaging_product": "whatsapp", "details": details}


async def test_interactive_messages_at_the_limits_are_accepted(wa: WhatsAppStandIn, client: httpx.AsyncClient) -> None:
    wa.open_window(ALICE)

    three = await send(client, ALICE, "interactive", reply_buttons("One", "Two", "A title of 20 chars!"))
    ten_rows = await send(client, ALICE, "interactive", list_of(["r"] * 5, ["A row title of 24 chars!"] * 5))

    assert three.status_code == 200
    assert ten_rows.status_code == 200


# --- webhooks -------------------------------------------------------------------------------------------------


def only_change(body: dict[str, Any]) -> dict[str, Any]:
    assert body["object"] == "whatsapp_business_account"
    (entry,) = body["entry"]
    assert entry["id"] == "200000000000001"
    (change,) = entry["changes"]
    assert change["field"] == "messages"
    value = change["value"]
    assert value["messaging_product"] == "whatsapp"
    assert value["metadata"] == {"display_phone_number": "447700900000", "phone_number_id": PHONE_ID}
    return value


async def test_inbound_webhooks_are_signed_over_the_raw_body(wa: WhatsAppStandIn, receiver: Receiver) -> None:
    await wa.user(ALICE, name="Alice Smith").sends_text("Café on Eastgate/Foregate has a broken window")

    ((raw, headers),) = receiver.requests
    assert headers["x-hub-signature-256"] == signature_of(raw)
    assert headers["content-type"] == "application/json"
    # Meta escapes "/" and non-ASCII: an app that re-serialises the JSON would compute another HMAC.
    assert b"Eastgate\\/Foregate" in raw and b"Caf\\u00e9" in raw
    value = only_change(json.loads(raw))
    assert value["contacts"] == [{"profile": {"name": "Alice Smith"}, "wa_id": ALICE}]
    (message,) = value["messages"]
    assert message["from"] == ALICE
    assert message["id"].startswith("wamid.")
    assert message["timestamp"].isdigit()
    assert message["type"] == "text"
    assert message["text"] == {"body": "Café on Eastgate/Foregate has a broken window"}


async def test_each_inbound_kind_has_metas_shape(
    wa: WhatsAppStandIn, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    alice = wa.user(ALICE, name="Alice")
    await alice.sends_text("hi")
    buttons = await send(client, ALICE, "interactive", reply_buttons("Yes", "No"))
    topics = await send(client, ALICE, "interactive", list_of(["Burglary", "Vehicle crime"]))
    alert = await send(client, ALICE, "template", alert_template(*ALERT))
    buttons_id, topics_id, alert_id = (r.json()["messages"][0]["id"] for r in (buttons, topics, alert))

    await alice.sends_location(52.8067, -2.1162, name="Victoria Park", address="Stafford")
    await alice.taps_button("b0", on=buttons_id)
    await alice.picks_list_row("r0-1", on=topics_id)
    await alice.taps_quick_reply("Send information", on=alert_id)
    await alice.taps_quick_reply("Stop alerts", on=alert_id)
    await alice.sends_image(b"\xff\xd8photo", caption="The van")
    await alice.sends_text("It was red", reply_to=alert_id)

    for raw, headers in receiver.requests:
        assert headers["x-hub-signature-256"] == signature_of(raw)
    messages = [only_change(body)["messages"][0] for body in receiver.bodies()[1:]]
    business = {"from": "447700900000"}
    assert messages[0]["location"] == {
        "latitude": 52.8067,
        "longitude": -2.1162,
        "name": "Victoria Park",
        "address": "Stafford",
    }
    assert messages[1]["type"] == "interactive"
    assert messages[1]["interactive"] == {"type": "button_reply", "button_reply": {"id": "b0", "title": "Yes"}}
    assert messages[1]["context"] == {**business, "id": buttons_id}
    assert messages[2]["interactive"] == {"type": "list_reply", "list_reply": {"id": "r0-1", "title": "Vehicle crime"}}
    assert messages[2]["context"] == {**business, "id": topics_id}
    assert messages[3]["type"] == "button"
    assert messages[3]["button"] == {"payload": "tip:42", "text": "Send information"}
    assert messages[3]["context"] == {**business, "id": alert_id}
    assert messages[4]["button"] == {"payload": "stop", "text": "Stop alerts"}
    assert messages[5]["type"] == "image"
    image = messages[5]["image"]
    assert image["mime_type"] == "image/jpeg" and image["caption"] == "The van" and image["id"] in wa.media
    assert messages[6]["context"] == {**business, "id": alert_id}
    assert len(wa.inbound) == 8


async def test_a_tap_must_match_a_button_the_message_had(wa: WhatsAppStandIn, client: httpx.AsyncClient) -> None:
    wa.open_window(ALICE)
    buttons = await send(client, ALICE, "interactive", reply_buttons("Yes", "No"))

    with pytest.raises(ValueError, match="no reply button"):
        await wa.user(ALICE).taps_button("maybe", on=buttons.json()["messages"][0]["id"])
    with pytest.raises(ValueError, match="not to"):
        await wa.user(BOB).taps_button("b0", on=buttons.json()["messages"][0]["id"])


async def test_status_webhooks_follow_a_sent_message(
    wa: WhatsAppStandIn, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    message_id = (await send(client, ALICE, "template", alert_template(*ALERT))).json()["messages"][0]["id"]

    for status in ("sent", "delivered", "read"):
        await wa.report_status(message_id, status)
    await wa.report_status(message_id, "failed", error_code=131026)

    statuses = [only_change(body)["statuses"][0] for body in receiver.bodies()]
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read", "failed"]
    for status in statuses:
        assert status["id"] == message_id
        assert status["recipient_id"] == ALICE
        assert status["timestamp"].isdigit()
    assert statuses[0]["pricing"]["category"] == "utility"
    assert statuses[3]["errors"] == [
        {
            "code": 131026,
            "title": "Message undeliverable",
            "message": "Message undeliverable",
            "error_data": {"details": "Message Undeliverable."},
            "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
        }
    ]
    for raw, headers in receiver.requests:
        assert headers["x-hub-signature-256"] == signature_of(raw)
    with pytest.raises(KeyError):
        await wa.report_status("wamid.never-sent", "delivered")


async def test_playing_a_user_needs_a_callback_and_changes_nothing_without_one() -> None:
    wa = WhatsAppStandIn(TOKEN, PHONE_ID, APP_SECRET)  # no webhook goes out, so no server is needed

    with pytest.raises(RuntimeError, match="callback_url"):
        await wa.user(ALICE).sends_text("hello?")

    assert wa.inbound == []
    assert not wa.window_open(ALICE)


async def test_the_verification_handshake_returns_the_apps_answer(wa: WhatsAppStandIn) -> None:
    right = await wa.verify_subscription(VERIFY_TOKEN, challenge="1158201444")
    wrong = await wa.verify_subscription("not-the-token")

    assert (right.status_code, right.text) == (200, "1158201444")
    assert wrong.status_code == 403


# --- media ----------------------------------------------------------------------------------------------------------


async def test_media_upload_lookup_and_download(wa: WhatsAppStandIn, client: httpx.AsyncClient) -> None:
    photo = b"\x89PNG\r\n\x1a\nfake image bytes"
    uploaded = await upload(client, "tip.png", photo, "image/png")
    media_id = uploaded.json()["id"]

    lookup = await client.get(media_id)
    download = await client.get(lookup.json()["url"])
    async with httpx.AsyncClient() as anonymous:
        without_token = await anonymous.get(lookup.json()["url"])

    assert uploaded.status_code == 200 and media_id.isdigit()
    assert lookup.json() == {
        "messaging_product": "whatsapp",
        "url": lookup.json()["url"],
        "mime_type": "image/png",
        "sha256": hashlib.sha256(photo).hexdigest(),
        "file_size": len(photo),
        "id": media_id,
    }
    assert lookup.json()["url"].startswith(f"{wa.base_url}/whatsapp_business/attachments/?mid={media_id}")
    assert (download.status_code, download.content, download.headers["content-type"]) == (200, photo, "image/png")
    assert without_token.status_code == 401
    assert graph_error(await client.get("1234"))["code"] == 100
    assert (await client.delete(media_id)).json() == {"success": True}
    assert (await client.get(media_id)).status_code == 400


async def test_a_users_photo_can_be_fetched_by_its_media_id(wa: WhatsAppStandIn, client: httpx.AsyncClient) -> None:
    delivery = await wa.user(ALICE).sends_image(b"\xff\xd8jpeg bytes", caption="Broken window")
    media_id = delivery.payload["entry"][0]["changes"][0]["value"]["messages"][0]["image"]["id"]

    url = (await client.get(media_id)).json()["url"]
    download = await client.get(url)

    assert download.content == b"\xff\xd8jpeg bytes"


async def test_an_upload_without_messaging_product_gets_100(client: httpx.AsyncClient) -> None:
    answer = await client.post(f"{PHONE_ID}/media", files={"file": ("a.png", b"x", "image/png")})

    assert graph_error(answer)["message"] == "(#100) The parameter messaging_product is required."


# --- inspection routes -----------------------------------------------------------------------------------------------


async def test_sandbox_routes_expose_the_record(
    wa: WhatsAppStandIn, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    await send(client, ALICE, "text", {"body": "refused: no window"})
    await send(client, ALICE, "template", alert_template(*ALERT))
    async with httpx.AsyncClient(base_url=wa.base_url) as sandbox:
        played = await sandbox.post(
            f"/_sandbox/users/{BOB}/messages", json={"type": "text", "body": "hello", "name": "Bob"}
        )
        await sandbox.post("/_sandbox/clock", json={"advance": 60})
        stats = (await sandbox.get("/_sandbox/stats")).json()
        messages = (await sandbox.get("/_sandbox/messages", params={"to": ALICE})).json()
        rejected = (await sandbox.get("/_sandbox/rejected")).json()
        inbound = (await sandbox.get("/_sandbox/inbound")).json()
        windows = (await sandbox.get("/_sandbox/windows")).json()

    assert played.status_code == 200 and played.json()["status_code"] == 200
    assert receiver.bodies()[0]["entry"][0]["changes"][0]["value"]["contacts"][0]["profile"]["name"] == "Bob"
    assert (
        stats["sent"] == 1 and stats["rejected"] == {"131047": 1} and stats["inbound"] == 1 and stats["webhooks"] == 1
    )
    assert [(m["type"], m["content"]["name"]) for m in messages] == [("template", "police_alert")]
    assert [(r["to"], r["code"], r["http_status"]) for r in rejected] == [(ALICE, 131047, 400)]
    assert inbound[0]["message"]["text"] == {"body": "hello"}
    assert windows[BOB]["open"] is True
