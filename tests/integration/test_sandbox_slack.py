"""The Slack stand-in speaks the Web API: slack_sdk talks to it unchanged but for the base URL,
and the simulated Slack signs its requests so that slack_sdk's verifier and bolt accept them."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.server import BackgroundServer
from sandbox.slack import SlackStandIn
from sandbox.slack_records import SlackFaults, SlackLimits
from sandbox.slack_users import SimulatedSlackClient
from sandbox.slack_workspace import (
    BOT_ID,
    BOT_USER_ID,
    GENERAL_CHANNEL_ID,
    OFFICER_ID,
    OFFICERS_CHANNEL_ID,
    SUPERVISOR_ID,
    TIPS_CHANNEL_ID,
)

TOKEN = "xoxb-sandbox"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
APPROVE_BLOCKS = [
    {"type": "section", "block_id": "summary", "text": {"type": "mrkdwn", "text": "*Missing boy, 9* near the canal"}},
    {
        "type": "actions",
        "block_id": "decide",
        "elements": [
            {
                "type": "button",
                "action_id": "approve",
                "text": {"type": "plain_text", "text": "Approve"},
                "value": "alert-7",
                "style": "primary",
            }
        ],
    },
]
COMPOSE_VIEW = {
    "type": "modal",
    "callback_id": "alert_compose",
    "private_metadata": "draft-7",
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
            "block_id": "topic",
            "label": {"type": "plain_text", "text": "Topic"},
            "element": {
                "type": "static_select",
                "action_id": "choice",
                "options": [{"text": {"type": "plain_text", "text": "Missing person"}, "value": "missing"}],
            },
        },
    ],
}


@pytest.fixture
def slack():
    with SlackStandIn(TOKEN, SECRET) as stand_in:
        yield stand_in


@pytest.fixture
def client(slack: SlackStandIn) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=slack.api_url)


async def eventually(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Bolt runs listeners after its ack, so their Web API calls land a moment after the HTTP answer."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError("the stand-in never saw what the app should have done")
        await asyncio.sleep(0.02)
    return result


async def api_error(call: Awaitable[Any]) -> SlackApiError:
    with pytest.raises(SlackApiError) as raised:
        await call
    return raised.value


# --- the Web API through slack_sdk ----------------------------------------------------------------


async def test_auth_users_and_the_usual_errors(client: AsyncWebClient, slack: SlackStandIn):
    me = await client.auth_test()
    assert me["user_id"] == BOT_USER_ID and me["bot_id"] == BOT_ID
    officer = await client.users_info(user=OFFICER_ID)
    assert officer["user"]["real_name"] == "PC Ada Brooks" and officer["user"]["is_bot"] is False
    assert (await client.users_info(user=SUPERVISOR_ID))["user"]["profile"]["title"].startswith("Sergeant")

    assert (await api_error(client.users_info(user="U0NOBODY"))).response["error"] == "user_not_found"
    assert (await api_error(client.chat_postMessage(channel="C0MISSING", text="x"))).response[
        "error"
    ] == "channel_not_found"
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=slack.api_url)
    assert (await api_error(wrong.auth_test())).response["error"] == "invalid_auth"
    anonymous = AsyncWebClient(base_url=slack.api_url)
    assert (await api_error(anonymous.api_call("auth.test"))).response["error"] == "not_authed"
    assert (await api_error(client.api_call("chat.nonsense"))).response["error"] == "unknown_method"
    async with httpx.AsyncClient() as http:  # the token may also travel as a form field
        token_as_field = await http.post(f"{slack.api_url}auth.test", data={"token": TOKEN})
    assert token_as_field.json()["ok"] is True


async def test_messages_threads_edits_ephemeral_and_deletes(client: AsyncWebClient, slack: SlackStandIn):
    parent = await client.chat_postMessage(channel=TIPS_CHANNEL_ID, text="Tip about alert 7", blocks=APPROVE_BLOCKS)
    ts = parent["ts"]
    assert parent["channel"] == TIPS_CHANNEL_ID and parent["message"]["blocks"] == APPROVE_BLOCKS
    first = await client.chat_postMessage(channel=TIPS_CHANNEL_ID, thread_ts=ts, text="Where exactly?")
    second = await client.chat_postMessage(channel="#lookout-tips", thread_ts=ts, text="By the lock gates")
    assert len({ts, first["ts"], second["ts"]}) == 3 and second["channel"] == TIPS_CHANNEL_ID

    thread = await client.conversations_replies(channel=TIPS_CHANNEL_ID, ts=ts)
    assert [m["text"] for m in thread["messages"]] == ["Tip about alert 7", "Where exactly?", "By the lock gates"]
    assert thread["messages"][0]["reply_count"] == 2 and thread["messages"][1]["parent_user_id"] == BOT_USER_ID
    page = await client.conversations_replies(channel=TIPS_CHANNEL_ID, ts=ts, limit=2)
    rest = await client.conversations_replies(
        channel=TIPS_CHANNEL_ID, ts=ts, cursor=page["response_metadata"]["next_cursor"]
    )
    assert page["has_more"] and [m["text"] for m in rest["messages"]] == ["By the lock gates"]

    updated = await client.chat_update(channel=TIPS_CHANNEL_ID, ts=ts, text="Tip about alert 7 (handled)", blocks=[])
    assert updated["message"]["edited"] and slack.message(TIPS_CHANNEL_ID, ts).blocks is None
    assert (await client.chat_delete(channel=TIPS_CHANNEL_ID, ts=first["ts"]))["ts"] == first["ts"]
    assert slack.texts_in(TIPS_CHANNEL_ID, thread_ts=ts) == ["Tip about alert 7 (handled)", "By the lock gates"]
    assert (await api_error(client.chat_update(channel=TIPS_CHANNEL_ID, ts="1.000001", text="x"))).response[
        "error"
    ] == "message_not_found"

    ephemeral = await client.chat_postEphemeral(channel=OFFICERS_CHANNEL_ID, user=OFFICER_ID, text="Only you see this")
    (seen,) = slack.ephemeral_to(OFFICER_ID)
    assert seen.message_ts == ephemeral["message_ts"] and seen.text == "Only you see this"
    assert (
        await api_error(client.chat_postEphemeral(channel=OFFICERS_CHANNEL_ID, user="U0NOBODY", text="x"))
    ).response["error"] == "user_not_in_channel"

    too_long = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    refused = (await api_error(client.chat_postMessage(channel=GENERAL_CHANNEL_ID, text="x", blocks=too_long))).response
    assert refused["error"] == "invalid_blocks" and "json-pointer:/blocks/0/text/text" in refused["errors"][0]
    empty = client.api_call(
        "chat.postMessage", json={"channel": GENERAL_CHANNEL_ID}
    )  # slack_sdk itself would only warn
    assert (await api_error(empty)).response["error"] == "no_text"


async def test_modals_need_a_fresh_trigger_used_once(client: AsyncWebClient, slack: SlackStandIn):
    trigger = slack.issue_trigger(OFFICER_ID)
    opened = (await client.views_open(trigger_id=trigger, view=COMPOSE_VIEW))["view"]
    assert opened["id"].startswith("V") and opened["hash"] and opened["callback_id"] == "alert_compose"
    assert opened["root_view_id"] == opened["id"] and opened["state"] == {"values": {}}
    assert (await api_error(client.views_open(trigger_id=trigger, view=COMPOSE_VIEW))).response[
        "error"
    ] == "exchanged_trigger_id"
    unknown = (await api_error(client.views_open(trigger_id="1.2.3", view=COMPOSE_VIEW))).response
    assert unknown["error"] == "invalid_arguments" and unknown["response_metadata"]["messages"] == [
        "invalid `trigger_id`"
    ]

    stale = (await api_error(client.views_update(view_id=opened["id"], hash="0.old", view=COMPOSE_VIEW))).response
    assert stale["error"] == "hash_conflict"
    updated = (
        await client.views_update(
            view_id=opened["id"], hash=opened["hash"], view={**COMPOSE_VIEW, "private_metadata": "v2"}
        )
    )["view"]
    assert updated["id"] == opened["id"] and updated["private_metadata"] == "v2"
    pushed = (await client.views_push(trigger_id=slack.issue_trigger(OFFICER_ID), view=COMPOSE_VIEW))["view"]
    assert pushed["previous_view_id"] == opened["id"] and pushed["root_view_id"] == opened["id"]
    assert [v["id"] for v in slack.open_views(OFFICER_ID)] == [opened["id"], pushed["id"]]
    assert [r.method for r in slack.views] == ["views.open", "views.update", "views.push"]

    long_title = {**COMPOSE_VIEW, "title": {"type": "plain_text", "text": "A title far longer than Slack allows"}}
    refused = (await api_error(client.views_open(trigger_id=slack.issue_trigger(OFFICER_ID), view=long_title))).response
    assert refused["error"] == "invalid_arguments" and "/view/title/text" in refused["response_metadata"]["messages"][0]

    slack.limits = SlackLimits(trigger_ttl_seconds=0.05)  # Slack's is 3 s; shortened so the test need not wait
    late = slack.issue_trigger(OFFICER_ID)
    await asyncio.sleep(0.1)
    assert (await api_error(client.views_open(trigger_id=late, view=COMPOSE_VIEW))).response[
        "error"
    ] == "expired_trigger_id"


async def test_modal_inputs_and_selects_are_held_to_slacks_limits(client: AsyncWebClient, slack: SlackStandIn):
    def with_select(**element: Any) -> dict[str, Any]:
        select = {"type": "static_select", "action_id": "choice", **element}
        return {
            **COMPOSE_VIEW,
            "blocks": [
                {
                    "type": "input",
                    "block_id": "t",
                    "dispatch_action": True,
                    "label": {"type": "plain_text", "text": "Template"},
                    "element": select,
                }
            ],
        }

    def option(text: str, value: str) -> dict[str, Any]:
        return {"text": {"type": "plain_text", "text": text}, "value": value}

    fine = with_select(
        options=[option("Missing person", "missing")], initial_option=option("Missing person", "missing")
    )
    assert (await client.views_open(trigger_id=slack.issue_trigger(OFFICER_ID), view=fine))["view"]["blocks"]
    cases = [
        (with_select(options=[option(f"T{i}", f"t{i}") for i in range(101)]), "/view/blocks/0/element/options"),
        (with_select(options=[option("x" * 76, "x")]), "/view/blocks/0/element/options/0/text/text"),
        (with_select(options=[option("x", "v" * 151)]), "/view/blocks/0/element/options/0/value"),
        (
            with_select(options=[option("x", "x")], initial_option=option("y", "y")),
            "/view/blocks/0/element/initial_option",
        ),
        ({**fine, "blocks": [{**fine["blocks"][0], "label": None}]}, "/view/blocks/0/label"),
    ]
    for view, pointer in cases:
        refused = (await api_error(client.views_open(trigger_id=slack.issue_trigger(OFFICER_ID), view=view))).response
        assert refused["error"] == "invalid_arguments" and pointer in refused["response_metadata"]["messages"][0], (
            pointer
        )


async def test_files_upload_v2_lands_in_the_thread(client: AsyncWebClient, slack: SlackStandIn):
    parent = await client.chat_postMessage(channel=TIPS_CHANNEL_ID, text="Tip 12: a white van")
    photo = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    uploaded = await client.files_upload_v2(
        channel=TIPS_CHANNEL_ID,
        thread_ts=parent["ts"],
        content=photo,
        filename="van.png",
        title="The van",
        initial_comment="Photo from the tipster",
    )
    file = uploaded["file"]
    assert file["id"].startswith("F") and file["title"] == "The van" and file["mimetype"] == "image/png"
    assert file["size"] == len(photo) and slack.files[file["id"]].content == photo
    assert file["shares"]["public"][TIPS_CHANNEL_ID][0]["thread_ts"] == parent["ts"]
    (step1,) = [p for m, p in slack.calls if m == "files.getUploadURLExternal"]
    assert step1["filename"] == "van.png" and int(step1["length"]) == len(photo)

    replies = (await client.conversations_replies(channel=TIPS_CHANNEL_ID, ts=parent["ts"]))["messages"]
    assert replies[1]["text"] == "Photo from the tipster" and replies[1]["files"][0]["id"] == file["id"]
    async with httpx.AsyncClient() as http:
        private = await http.get(file["url_private"], headers={"Authorization": f"Bearer {TOKEN}"})
        refused = await http.get(file["url_private"])
    assert private.content == photo and refused.status_code == 403
    unfinished = await client.files_getUploadURLExternal(filename="never.png", length=10)
    assert unfinished["upload_url"].startswith(slack.base_url)
    missing = await api_error(
        client.files_completeUploadExternal(files=[{"id": unfinished["file_id"]}], channel_id=TIPS_CHANNEL_ID)
    )
    assert missing.response["error"] == "file_not_found"


async def test_bursts_get_429_with_retry_after_and_the_retry_handler_waits(client: AsyncWebClient, slack: SlackStandIn):
    for n in range(3):  # Slack lets a short burst through
        await client.chat_postMessage(channel=OFFICERS_CHANNEL_ID, text=f"burst {n}")
    throttled = await api_error(client.chat_postMessage(channel=OFFICERS_CHANNEL_ID, text="one too many"))
    assert throttled.response.status_code == 429 and throttled.response["error"] == "ratelimited"
    assert throttled.response.headers["Retry-After"] == "1"
    await client.chat_postMessage(channel=GENERAL_CHANNEL_ID, text="another channel has its own allowance")

    patient = AsyncWebClient(token=TOKEN, base_url=slack.api_url)
    patient.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    assert (await patient.chat_postMessage(channel=OFFICERS_CHANNEL_ID, text="after waiting"))["ok"]
    assert slack.texts_in(OFFICERS_CHANNEL_ID)[-1] == "after waiting" and slack.rate_limited >= 2

    slack.limits = SlackLimits(post_per_channel_per_second=None)  # benchmarks measure the engine, not Slack
    for n in range(20):
        await client.chat_postMessage(channel=GENERAL_CHANNEL_ID, text=f"unlimited {n}")
    slack.faults = SlackFaults(server_error_share=1.0)
    outage = await api_error(client.chat_postMessage(channel=GENERAL_CHANNEL_ID, text="x"))
    assert outage.response.status_code == 503 and outage.response["error"] == "service_unavailable"
    slack.faults = SlackFaults(archived_channels={GENERAL_CHANNEL_ID})
    assert (await api_error(client.chat_postMessage(channel=GENERAL_CHANNEL_ID, text="x"))).response[
        "error"
    ] == "is_archived"


# --- Slack towards the app ------------------------------------------------------------------------


@pytest.fixture
def receiver():
    """A bare app that checks every request with slack_sdk's verifier and keeps what came."""
    received: list[dict[str, Any]] = []
    verifier = SignatureVerifier(SECRET)

    async def events(request: Request) -> Response:
        body = (await request.body()).decode()
        received.append(
            {
                "valid": verifier.is_valid_request(body, dict(request.headers)),
                "body": body,
                "content_type": request.headers["content-type"],
                "retry": request.headers.get("x-slack-retry-num"),
            }
        )
        return Response(status_code=200)

    server = BackgroundServer(Starlette(routes=[Route("/slack/events", events, methods=["POST"])]), "Slack receiver")
    server.start()
    yield server, received
    server.stop()


async def test_simulated_slack_signs_real_payload_shapes(slack: SlackStandIn, client: AsyncWebClient, receiver):
    server, received = receiver
    posted = await client.chat_postMessage(channel=OFFICERS_CHANNEL_ID, text="Preview", blocks=APPROVE_BLOCKS)
    opened = (await client.views_open(trigger_id=slack.issue_trigger(OFFICER_ID), view=COMPOSE_VIEW))["view"]
    async with SimulatedSlackClient(slack, f"{server.base_url}/slack/events") as simulated:
        await simulated.slash_command(OFFICER_ID, "/alert", "missing boy", OFFICERS_CHANNEL_ID)
        await simulated.block_action(
            SUPERVISOR_ID, "approve", "alert-7", channel_id=OFFICERS_CHANNEL_ID, message_ts=posted["ts"]
        )
        await simulated.view_submission(
            OFFICER_ID, opened["id"], {"headline": {"text": "Missing boy, 9"}, "topic": {"choice": "missing"}}
        )
        await simulated.message_event(OFFICER_ID, OFFICERS_CHANNEL_ID, "Seen near the lock", thread_ts=posted["ts"])
        await simulated.post_signed(
            "payload=%7B%7D", "application/x-www-form-urlencoded", signing_secret="not-the-secret"
        )
        await simulated.post_signed(
            "payload=%7B%7D", "application/x-www-form-urlencoded", timestamp=int(time.time()) - 600
        )
        await simulated.post_signed(
            "{}", "application/json", headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
        )

    assert [r["valid"] for r in received] == [True, True, True, True, False, False, True]
    assert received[-1]["retry"] == "1"
    command = {k: v[0] for k, v in parse_qs(received[0]["body"]).items()}
    assert received[0]["content_type"] == "application/x-www-form-urlencoded"
    assert (
        command["command"] == "/alert" and command["text"] == "missing boy" and command["user_name"] == "pc.ada.brooks"
    )
    assert command["channel_name"] == "lookout-officers" and command["response_url"].startswith(
        f"{slack.base_url}/commands/"
    )
    assert (await client.views_open(trigger_id=command["trigger_id"], view=COMPOSE_VIEW))["ok"]  # the trigger is live

    action = json.loads(parse_qs(received[1]["body"])["payload"][0])
    assert action["type"] == "block_actions" and action["user"]["id"] == SUPERVISOR_ID
    assert action["container"] == {
        "type": "message",
        "message_ts": posted["ts"],
        "channel_id": OFFICERS_CHANNEL_ID,
        "is_ephemeral": False,
    }
    assert action["actions"][0] | {"action_ts": None} == {
        "type": "button",
        "action_id": "approve",
        "block_id": "decide",
        "value": "alert-7",
        "style": "primary",
        "text": {"type": "plain_text", "text": "Approve"},
        "action_ts": None,
    }
    assert action["message"]["blocks"] == APPROVE_BLOCKS and action["response_url"].startswith(
        f"{slack.base_url}/actions/"
    )

    submission = json.loads(parse_qs(received[2]["body"])["payload"][0])
    assert submission["type"] == "view_submission" and submission["view"]["id"] == opened["id"]
    assert submission["view"]["callback_id"] == "alert_compose" and submission["view"]["private_metadata"] == "draft-7"
    values = submission["view"]["state"]["values"]
    assert values["headline"]["text"] == {"type": "plain_text_input", "value": "Missing boy, 9"}
    assert values["topic"]["choice"]["selected_option"]["text"]["text"] == "Missing person"
    assert slack.open_views(OFFICER_ID)[0]["id"] != opened["id"]  # a bare 200 closed the submitted modal

    event = json.loads(received[3]["body"])
    assert received[3]["content_type"] == "application/json" and event["type"] == "event_callback"
    assert event["event"]["thread_ts"] == posted["ts"] and event["event"]["user"] == OFFICER_ID
    assert slack.texts_in(OFFICERS_CHANNEL_ID, thread_ts=posted["ts"])[-1] == "Seen near the lock"
    assert [i.kind for i in slack.interactions][:4] == [
        "slash_command",
        "block_actions",
        "view_submission",
        "event_callback",
    ]


async def test_response_url_takes_five_posts_in_thirty_minutes(slack: SlackStandIn, client: AsyncWebClient, receiver):
    server, received = receiver
    posted = await client.chat_postMessage(channel=OFFICERS_CHANNEL_ID, text="Preview", blocks=APPROVE_BLOCKS)
    async with SimulatedSlackClient(slack, f"{server.base_url}/slack/events") as simulated:
        await simulated.block_action(
            SUPERVISOR_ID, "approve", "alert-7", channel_id=OFFICERS_CHANNEL_ID, message_ts=posted["ts"]
        )
    response_url = json.loads(parse_qs(received[0]["body"])["payload"][0])["response_url"]
    async with httpx.AsyncClient() as http:
        replaced = await http.post(response_url, json={"replace_original": True, "text": "Approved"})
        await http.post(response_url, json={"response_type": "in_channel", "text": "Alert 7 is out"})
        for n in range(3):
            await http.post(response_url, json={"text": f"note {n}"})
        sixth = await http.post(response_url, json={"text": "one use too many"})
    assert replaced.json() == {"ok": True} and sixth.status_code == 404 and sixth.text == "used_url"
    assert slack.message(OFFICERS_CHANNEL_ID, posted["ts"]).text == "Approved"
    assert slack.texts_in(OFFICERS_CHANNEL_ID)[-1] == "Alert 7 is out"
    assert [e.text for e in slack.ephemeral_to(SUPERVISOR_ID)] == ["note 0", "note 1", "note 2"]
    assert [p.accepted for p in slack.response_url_posts] == [True] * 5 + [False]
    assert slack.response_url_posts[0].replace_original and slack.response_url_posts[1].response_type == "in_channel"

    async with httpx.AsyncClient(base_url=f"{slack.base_url}/_sandbox") as inspect:  # what another process would see
        inspected = (await inspect.get("/response_urls")).json()
        stats = (await inspect.get("/stats")).json()
        messages = (await inspect.get(f"/channels/{OFFICERS_CHANNEL_ID}/messages")).json()
    assert len(inspected) == 6 and inspected[-1]["error"] == "used_url"
    assert stats["sent"] == 2 and stats["response_url_posts"] == 6 and stats["interactions"] == 1
    assert [m["text"] for m in messages] == ["Approved", "Alert 7 is out"]


async def test_a_bolt_app_runs_a_whole_officer_flow_against_the_stand_in(slack: SlackStandIn):
    app = AsyncApp(token=TOKEN, signing_secret=SECRET, client=AsyncWebClient(token=TOKEN, base_url=slack.api_url))
    heard: list[str] = []

    @app.command("/alert")
    async def alert(ack, body, client):
        await ack("Opening the form…")
        await client.views_open(trigger_id=body["trigger_id"], view=COMPOSE_VIEW)

    @app.view("alert_compose")
    async def compose(ack, view, client):
        headline = view["state"]["values"]["headline"]["text"]["value"]
        if len(headline) < 5:
            await ack(response_action="errors", errors={"headline": "Too short"})
            return
        await ack()
        blocks = [{**APPROVE_BLOCKS[0], "text": {"type": "mrkdwn", "text": headline}}, APPROVE_BLOCKS[1]]
        await client.chat_postMessage(channel=OFFICERS_CHANNEL_ID, text=headline, blocks=blocks)

    @app.action("approve")
    async def approve(ack, body, respond):
        await ack()
        await respond(replace_original=True, text=f"Approved by <@{body['user']['id']}>")

    @app.event("message")
    async def thread_reply(event):
        heard.append(event["text"])

    handler = AsyncSlackRequestHandler(app)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    server = BackgroundServer(Starlette(routes=[Route("/slack/events", events, methods=["POST"])]), "officer app")
    server.start()
    try:
        async with SimulatedSlackClient(slack, f"{server.base_url}/slack/events") as simulated:
            assert (await simulated.slash_command(OFFICER_ID, "/alert", "")).status_code == 200
            (modal,) = await eventually(lambda: slack.open_views(OFFICER_ID))
            assert slack.ephemeral_to(OFFICER_ID)[0].text == "Opening the form…"  # the ack text, as Slack shows it

            refused = await simulated.view_submission(OFFICER_ID, modal["id"], {"headline": {"text": "Boy"}})
            assert refused.json() == {"response_action": "errors", "errors": {"headline": "Too short"}}
            assert slack.open_views(OFFICER_ID)  # errors keep the modal open
            await simulated.view_submission(OFFICER_ID, modal["id"], {"headline": {"text": "Missing boy, 9"}})
            assert slack.open_views(OFFICER_ID) == []
            preview = await eventually(lambda: slack.messages_in(OFFICERS_CHANNEL_ID))

            await simulated.block_action(
                SUPERVISOR_ID, "approve", "alert-7", channel_id=OFFICERS_CHANNEL_ID, message_ts=preview[0].ts
            )
            await eventually(lambda: slack.message(OFFICERS_CHANNEL_ID, preview[0].ts).text.startswith("Approved"))
            assert slack.message(OFFICERS_CHANNEL_ID, preview[0].ts).text == f"Approved by <@{SUPERVISOR_ID}>"

            await simulated.message_event(OFFICER_ID, OFFICERS_CHANNEL_ID, "Reply in thread", thread_ts=preview[0].ts)
            await eventually(lambda: heard == ["Reply in thread"])
            forged = await simulated.post_signed(
                "payload=%7B%7D", "application/x-www-form-urlencoded", signing_secret="forged"
            )
            assert forged.status_code == 401
    finally:
        server.stop()
    assert {"auth.test", "views.open", "chat.postMessage"} <= {method for method, _ in slack.calls}
