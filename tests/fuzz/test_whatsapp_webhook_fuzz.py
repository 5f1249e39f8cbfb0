"""Hostile input to ``POST /whatsapp/webhook``: never a 5xx, never a crash, nothing stored without a good signature.

Hypothesis builds signed Cloud API webhooks with wrong types, missing fields,
odd ids, huge and odd strings, NaN/±inf/out-of-range coordinates, unknown
message kinds and button ids, and any bytes at all. The budget is bounded for
``make test`` (``LOOKOUT_FUZZ_EXAMPLES``, default 60 an example kind).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.settings import Settings
from runtime.app import build, create_app
from sandbox.whatsapp import WhatsAppLimits, WhatsAppStandIn
from storage.tables import conversations, inbound_updates, residents, tips
from tests.fuzz.common import FUZZ, json_values, rows_in

TOKEN = "fuzz-token"
PHONE_ID = "100000000000001"
APP_SECRET = "fuzz-app-secret"


weird_text = st.one_of(
    st.text(max_size=50),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=4000, max_size=5000),
    st.sampled_from(
        [
            "STOP",
            "start",
            "/help",
            "MENU",
            "TOPICS",
            "places",
            "yes",
            "No",
            "done",
            "<b>",
            "&amp;",
            "\x00",
            "\ud800",
            "tip \udfff end",
            "ST16 2LZ",
            "tip:1",
            "ans:1",
            "tp:all",
            "age:yes",
            "gp:99",
            "pl:rm:7",
            "page:5",
            "lg:xx",
            "x" * 300,
        ]
    ),
)
coordinate = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(), st.text(max_size=5), st.none())
wa_id = st.sampled_from(["447700900501", "447700900502", "12345", "4477009005019999", "+447700900503", "", "abc"])
content = st.one_of(
    st.fixed_dictionaries({}, optional={"body": weird_text}),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["button_reply", "list_reply", "nfm_reply"])},
        optional={
            "button_reply": st.fixed_dictionaries({"id": weird_text, "title": weird_text}),
            "list_reply": st.fixed_dictionaries({"id": weird_text, "title": weird_text}),
        },
    ),
    st.fixed_dictionaries({}, optional={"payload": weird_text, "text": weird_text}),
    st.fixed_dictionaries({"latitude": coordinate, "longitude": coordinate}, optional={"name": weird_text}),
    st.fixed_dictionaries({}, optional={"id": weird_text, "caption": weird_text, "mime_type": weird_text}),
    st.integers(),
    st.none(),
)
message = st.builds(
    lambda sender, ident, kind, body, stamp, context: {
        "from": sender,
        "id": ident,
        "timestamp": stamp,
        "type": kind,
        kind: body,
        **({"context": context} if context else {}),
    },
    wa_id,
    st.one_of(st.text(min_size=1, max_size=20).map(lambda t: f"wamid.{t}"), st.integers(), st.text(max_size=300)),
    st.sampled_from(
        ["text", "interactive", "button", "location", "image", "audio", "reaction", "sticker", "order", "x"]
    ),
    content,
    st.one_of(st.integers(min_value=-(2**40), max_value=2**40).map(str), st.text(max_size=8), st.none()),
    st.one_of(st.none(), st.fixed_dictionaries({"id": weird_text}), st.integers()),
)
status = st.fixed_dictionaries(
    {
        "id": st.text(max_size=20),
        "status": st.sampled_from(["sent", "delivered", "read", "failed", "deleted", ""]),
        "recipient_id": wa_id,
        "timestamp": st.text(max_size=12),
    },
    optional={
        "errors": st.lists(st.fixed_dictionaries({"code": st.one_of(st.integers(), st.text(max_size=5))}), max_size=2)
    },
)
webhook = st.builds(
    lambda messages, statuses, number: {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"phone_number_id": number},
                            "contacts": [{"profile": {"name": "Fuzz"}, "wa_id": "447700900501"}],
                            "messages": messages,
                            "statuses": statuses,
                        },
                    }
                ],
            }
        ],
    },
    st.lists(message, max_size=3),
    st.lists(status, max_size=2),
    st.sampled_from([PHONE_ID, PHONE_ID, "999"]),
)


@pytest.fixture
async def app(database_url: str, clock):
    with WhatsAppStandIn(
        TOKEN, PHONE_ID, APP_SECRET, limits=WhatsAppLimits(per_number_per_second=None, per_user_interval=None)
    ) as wa:
        lookout = build(
            Settings(
                LOOKOUT_DATABASE_URL=database_url,
                WHATSAPP_TOKEN=TOKEN,
                WHATSAPP_PHONE_NUMBER_ID=PHONE_ID,
                WHATSAPP_APP_SECRET=APP_SECRET,
                WHATSAPP_API_BASE=wa.api_base,
                LOOKOUT_GEOCODER_DOMAIN="127.0.0.1:9",
                LOOKOUT_GEOCODER_SCHEME="http",
            ),
            clock=clock,
        )
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(lookout)), base_url="http://lookout.test"
        ) as client:
            yield client
        await lookout.aclose()


def post(client: httpx.AsyncClient, body: bytes, signature: str | None = None):
    if signature is None:
        signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return client.post(
        "/whatsapp/webhook",
        content=body,
        headers={"content-type": "application/json", "X-Hub-Signature-256": signature},
    )


@FUZZ
@given(body=webhook)
async def test_signed_webhooks_never_get_a_5xx(app, body: dict[str, Any]) -> None:
    answer = await post(app, json.dumps(body, allow_nan=True).encode())
    assert answer.status_code < 500, (answer.status_code, answer.text, body)


@FUZZ
@given(body=st.one_of(json_values.map(lambda v: json.dumps(v, allow_nan=True).encode()), st.binary(max_size=300)))
async def test_any_signed_body_gets_an_answer_not_a_crash(app, body: bytes) -> None:
    answer = await post(app, body)
    assert answer.status_code in (200, 400, 413), (answer.status_code, body)


@FUZZ
@given(
    body=webhook,
    signature=st.one_of(st.text(max_size=80), st.sampled_from(["sha256=", "sha256=" + "0" * 64, "sha1=abc"])),
)
async def test_nothing_is_stored_without_a_good_signature(app, engine, body: dict[str, Any], signature: str) -> None:
    try:
        answer = await post(app, json.dumps(body, allow_nan=True).encode(), signature)
    except UnicodeEncodeError:
        return  # httpx refuses a non-latin-1 header before anything is sent: nothing reached the app
    assert answer.status_code == 401
    for table in (inbound_updates, residents, tips, conversations):
        assert await rows_in(engine, table) == 0
