"""Hostile input to ``POST /telegram/webhook``: never a 5xx, never a crash, nothing stored without the secret.

Hypothesis builds Telegram updates with wrong types, missing fields, huge and
odd strings, NaN/±inf/out-of-range coordinates and deep nesting, and mutates
real ones. The budget is bounded for ``make test`` (``LOOKOUT_FUZZ_EXAMPLES``,
default 60 an example kind); set it higher for a longer run.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.settings import Settings
from runtime.app import build, create_app
from sandbox.telegram import TelegramLimits, TelegramStandIn
from storage.tables import conversations, inbound_updates, residents, tips
from tests.fuzz.common import FUZZ, json_values, rows_in

TOKEN = "123456:FUZZ"
SECRET = "fuzz-secret-0123456789"


weird_text = st.one_of(
    st.text(max_size=50),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=4000, max_size=6000),
    st.sampled_from(
        [
            "/start",
            "/stop",
            "/topics",
            "/mydata",
            "<b>",
            "&amp;",
            "\x00",
            "\ud800",
            "tip \udfff end",
            "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
            "ST16 2LZ",
            "tip:1",
            "ans:1",
            "tp:all",
            "age:1",
            "x" * 65,
        ]
    ),
)
coordinate = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(), st.text(max_size=5), st.none())
chat_id = st.sampled_from([5550001, 5550002, -100123, 0, 2**63 - 1])
user = st.fixed_dictionaries(
    {"id": chat_id, "is_bot": st.booleans(), "first_name": weird_text},
    optional={"language_code": st.sampled_from(["en", "pl", "xx", ""])},
)
chat = st.fixed_dictionaries({"id": chat_id, "type": st.sampled_from(["private", "group", "channel", "nonsense"])})
message = st.fixed_dictionaries(
    {
        "message_id": st.integers(min_value=-5, max_value=10**6),
        "date": st.integers(min_value=0, max_value=2**31),
        "chat": chat,
    },
    optional={
        "from": user,
        "text": weird_text,
        "location": st.fixed_dictionaries(
            {"latitude": coordinate, "longitude": coordinate}, optional={"live_period": st.integers()}
        ),
        "photo": st.lists(
            st.fixed_dictionaries(
                {
                    "file_id": weird_text,
                    "file_unique_id": st.text(max_size=5),
                    "width": st.integers(),
                    "height": st.integers(),
                }
            ),
            max_size=3,
        ),
        "reply_to_message": st.fixed_dictionaries(
            {"message_id": st.integers(), "date": st.integers(min_value=0), "chat": chat}
        ),
    },
)
callback = st.fixed_dictionaries(
    {"id": st.text(min_size=1, max_size=10), "from": user, "chat_instance": st.text(max_size=10)},
    optional={"data": weird_text, "message": message},
)
update = st.one_of(
    st.fixed_dictionaries({"update_id": st.integers(min_value=0, max_value=2**40), "message": message}),
    st.fixed_dictionaries({"update_id": st.integers(min_value=0, max_value=2**40), "callback_query": callback}),
    st.fixed_dictionaries(
        {"update_id": st.one_of(st.integers(), st.text(), st.none())},
        optional={"message": st.integers(), "edited_message": message},
    ),
)


@pytest.fixture
async def app(database_url: str, clock):
    with TelegramStandIn(TOKEN, limits=TelegramLimits(per_bot_per_second=None, per_chat_interval=None)) as telegram:
        lookout = build(
            Settings(
                LOOKOUT_DATABASE_URL=database_url,
                TELEGRAM_BOT_TOKEN=TOKEN,
                TELEGRAM_API_BASE=telegram.base_url,
                TELEGRAM_WEBHOOK_SECRET=SECRET,
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


def post(client: httpx.AsyncClient, body: bytes, secret: str | None = SECRET):
    headers = {"content-type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return client.post("/telegram/webhook", content=body, headers=headers)


@FUZZ
@given(body=update)
async def test_authenticated_updates_never_get_a_5xx(app, body: dict[str, Any]) -> None:
    answer = await post(app, json.dumps(body, allow_nan=True).encode())
    assert answer.status_code < 500, (answer.status_code, answer.text, body)


@FUZZ
@given(body=st.one_of(json_values.map(lambda v: json.dumps(v, allow_nan=True).encode()), st.binary(max_size=300)))
async def test_any_body_gets_an_answer_not_a_crash(app, body: bytes) -> None:
    answer = await post(app, body)
    assert answer.status_code in (200, 400, 413), (answer.status_code, body)


@FUZZ
@given(body=update, secret=st.one_of(st.none(), st.text(max_size=40)))
async def test_nothing_is_stored_without_the_secret(app, engine, body: dict[str, Any], secret: str | None) -> None:
    if secret == SECRET:
        secret = None
    try:
        answer = await post(app, json.dumps(body, allow_nan=True).encode(), secret)
    except UnicodeEncodeError:
        return  # httpx refuses a non-latin-1 header before anything is sent: nothing reached the app
    assert answer.status_code == 403
    for table in (inbound_updates, residents, tips, conversations):
        assert await rows_in(engine, table) == 0
