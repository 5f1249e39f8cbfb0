"""Hostile input to ``POST /sms/webhook`` and ``POST /sms/status``: never a 5xx, nothing stored without a good signature.

Hypothesis builds signed Twilio forms with missing, odd and huge fields,
keywords, numbers that are not numbers, picture counts and URLs that are not
the provider's, and any bytes at all. The budget is bounded for ``make test``
(``LOOKOUT_FUZZ_EXAMPLES``).
"""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from core.settings import Settings
from runtime.app import build, create_app
from sandbox.sms import SmsStandIn
from storage.tables import conversations, inbound_updates, residents, tips
from tests.fuzz.common import FUZZ, rows_in

ACCOUNT = "AC" + "f" * 32
TOKEN = "fuzz-sms-token"
PUBLIC = "http://lookout.test"

weird_text = st.one_of(
    st.text(max_size=40),
    st.text(min_size=1500, max_size=1700),
    st.sampled_from(
        [
            "STOP",
            "stopall",
            "Start",
            "UNSTOP",
            "help",
            "INFO",
            "DELETE",
            "TOPICS",
            "places",
            "MYDATA",
            "1",
            "0",
            "99",
            "yes",
            "no",
            "done",
            "<b>",
            "&amp;",
            "\x00",
            "\ud800",
            "ST16 2LZ",
            "-1",
            "1.",
            "x" * 300,
        ]
    ),
)
sid = st.one_of(st.sampled_from(["SM" + "a" * 32, "MM" + "b" * 32, "SM" + "c" * 32]), st.text(max_size=40))
number = st.one_of(
    st.sampled_from(["+447700900601", "+447700900602", "+1", "447700900603", "", "abc"]), st.text(max_size=20)
)
form = st.fixed_dictionaries(
    {},
    optional={
        "MessageSid": sid,
        "From": number,
        "To": number,
        "Body": weird_text,
        "NumMedia": st.one_of(st.sampled_from(["0", "1", "2", "11"]), st.text(max_size=4)),
        "MediaUrl0": st.one_of(st.just("http://127.0.0.1:9/media"), weird_text),
        "MediaContentType0": st.sampled_from(["image/jpeg", "video/mp4", ""]),
        "MessageStatus": st.sampled_from(["queued", "sent", "delivered", "undelivered", "failed", "", "x" * 30]),
        "ErrorCode": st.one_of(st.sampled_from(["21610", "30003", "30006"]), st.text(max_size=6)),
    },
)


@pytest.fixture
async def app(database_url: str, clock):
    with SmsStandIn(ACCOUNT, TOKEN) as sms:
        lookout = build(
            Settings(
                LOOKOUT_DATABASE_URL=database_url,
                LOOKOUT_PUBLIC_URL=PUBLIC,
                SMS_ACCOUNT_SID=ACCOUNT,
                SMS_AUTH_TOKEN=TOKEN,
                SMS_FROM=sms.number,
                SMS_API_BASE=sms.api_base,
                LOOKOUT_GEOCODER_DOMAIN="127.0.0.1:9",
                LOOKOUT_GEOCODER_SCHEME="http",
            ),
            clock=clock,
        )
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(lookout)), base_url=PUBLIC) as client:
            yield client
        await lookout.aclose()


def post(client: httpx.AsyncClient, path: str, fields: dict[str, str], signature: str | None = None):
    body = urlencode(fields, encoding="utf-8", errors="surrogatepass")
    if signature is None:
        signature = RequestValidator(TOKEN).compute_signature(f"{PUBLIC}{path}", fields)
    return client.post(
        path,
        content=body.encode(),
        headers={"content-type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
    )


@FUZZ
@given(fields=form, path=st.sampled_from(["/sms/webhook", "/sms/status"]))
async def test_signed_forms_never_get_a_5xx(app, fields: dict[str, str], path: str) -> None:
    try:
        answer = await post(app, path, fields)
    except UnicodeEncodeError:
        return  # a lone surrogate cannot even be signed or sent: nothing reached the app
    assert answer.status_code < 500, (answer.status_code, answer.text, fields)


@FUZZ
@given(body=st.binary(max_size=400), path=st.sampled_from(["/sms/webhook", "/sms/status"]))
async def test_any_body_gets_an_answer_not_a_crash(app, body: bytes, path: str) -> None:
    answer = await app.post(
        path, content=body, headers={"content-type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "abc"}
    )
    assert answer.status_code in (400, 403), (answer.status_code, body)


@FUZZ
@given(fields=form, signature=st.one_of(st.text(alphabet=st.characters(max_codepoint=127), max_size=60), st.just("")))
async def test_nothing_is_stored_without_a_good_signature(app, engine, fields: dict[str, str], signature: str) -> None:
    try:
        answer = await post(app, "/sms/webhook", fields, signature)
    except (UnicodeEncodeError, httpx.LocalProtocolError):
        return  # refused by httpx before anything was sent
    assert answer.status_code in (400, 403)
    for table in (inbound_updates, residents, tips, conversations):
        assert await rows_in(engine, table) == 0
