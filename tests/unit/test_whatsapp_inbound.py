"""Reading what Meta sends: the signature, the webhook's shape, and each message as a conversation event."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

import pytest

from bots.whatsapp.inbound import contact_for, keyword, to_event
from bots.whatsapp.payloads import NotAWebhook, parse_webhook
from bots.whatsapp.signature import signature_ok
from core.conversation.events import Choice, Command, Location, Photo, Text, Unsupported

pytestmark = pytest.mark.calendar  # make test runs it again with the clock moved

SECRET = b"app-secret"
PHONE_ID = "100000000000001"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
BODY = b'{"object":"whatsapp_business_account","entry":[]}'


def sign(body: bytes, secret: bytes = SECRET) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


@pytest.mark.parametrize(
    "header, body, secret, ok",
    [
        (sign(BODY), BODY, SECRET, True),
        (sign(BODY).upper().replace("SHA256=", "sha256="), BODY, SECRET, True),  # hex in capitals is the same digest
        (None, BODY, SECRET, False),
        ("", BODY, SECRET, False),
        (sign(BODY).removeprefix("sha256="), BODY, SECRET, False),
        ("sha1=" + "0" * 40, BODY, SECRET, False),
        ("sha256=" + "z" * 64, BODY, SECRET, False),
        ("sha256=é" + "0" * 63, BODY, SECRET, False),
        (sign(BODY) + "00", BODY, SECRET, False),
        (sign(BODY), BODY + b" ", SECRET, False),  # one byte more
        (sign(BODY, b"another secret"), BODY, SECRET, False),
        (sign(BODY), BODY, None, False),  # no secret configured: nothing is accepted
    ],
)
def test_the_signature_is_checked_over_the_raw_bytes(
    header: str | None, body: bytes, secret: bytes | None, ok: bool
) -> None:
    assert signature_ok(body, header, secret) is ok


def webhook(value: dict[str, Any], *, phone_number_id: str = PHONE_ID) -> dict[str, Any]:
    metadata = {"display_phone_number": "447700900000", "phone_number_id": phone_number_id}
    change = {"value": {"messaging_product": "whatsapp", "metadata": metadata, **value}, "field": "messages"}
    return {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [change]}]}


def message(kind: str, content: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"from": "447700900123", "id": "wamid.ABC=", "timestamp": "1764072000", "type": kind, kind: content, **extra}


def test_messages_statuses_and_names_are_read_and_other_numbers_skipped() -> None:
    value = {
        "contacts": [{"profile": {"name": "Sam Jones"}, "wa_id": "447700900123"}],
        "messages": [message("text", {"body": "hi"}, context={"from": "447700900000", "id": "wamid.OURS"})],
        "statuses": [
            {
                "id": "wamid.S",
                "status": "failed",
                "timestamp": "1764072001",
                "recipient_id": "447700900123",
                "errors": [
                    {
                        "code": 131026,
                        "title": "Message undeliverable",
                        "error_data": {"details": "Message Undeliverable."},
                    }
                ],
            }
        ],
    }
    batch = parse_webhook(webhook(value), PHONE_ID, NOW)
    other = parse_webhook(webhook(value, phone_number_id="999"), PHONE_ID, NOW)

    (inbound,) = batch.messages
    assert (inbound.wamid, inbound.wa_id, inbound.context_id, inbound.profile_name) == (
        "wamid.ABC=",
        "447700900123",
        "wamid.OURS",
        "Sam Jones",
    )
    assert inbound.sent_at == datetime(2025, 11, 25, 12, 0, tzinfo=UTC)
    (status,) = batch.statuses
    assert (status.status, status.error_code, status.error_text) == ("failed", 131026, "Message Undeliverable.")
    assert other.messages == [] and other.statuses == []
    assert contact_for(inbound) == "Sam Jones (+447700900123) on WhatsApp"


def test_a_timestamp_from_the_future_or_nonsense_counts_as_now() -> None:
    future = parse_webhook(
        webhook({"messages": [message("text", {"body": "hi"}, timestamp="99999999999")]}), PHONE_ID, NOW
    )
    nonsense = parse_webhook(webhook({"messages": [message("text", {"body": "hi"}, timestamp="soon")]}), PHONE_ID, NOW)
    assert future.messages[0].sent_at == NOW and nonsense.messages[0].sent_at == NOW


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        "text",
        {"object": "page", "entry": []},
        {"object": "whatsapp_business_account"},
        {"object": "whatsapp_business_account", "entry": [7]},
        {"object": "whatsapp_business_account", "entry": [{"changes": "x"}]},
        webhook({"messages": [{"id": "wamid.1", "type": "text"}]}),  # no sender
        webhook({"messages": [message("text", {"body": "hi"}, **{"from": "+44 7700"})]}),
        webhook({"messages": [message("text", {"body": "hi"}, id="w" * 200)]}),
        webhook({"statuses": [{"id": "wamid.1"}]}),
        webhook({"statuses": [{"id": "wamid.1", "status": "sent", "recipient_id": ""}]}),
        webhook({"statuses": [{"id": "", "status": "read", "recipient_id": "447700900123"}]}),
    ],
)
def test_anything_else_is_not_a_webhook(data: Any) -> None:
    with pytest.raises(NotAWebhook):
        parse_webhook(data, PHONE_ID, NOW)


def event_of(kind: str, content: dict[str, Any], **extra: Any):
    (inbound,) = parse_webhook(webhook({"messages": [message(kind, content, **extra)]}), PHONE_ID, NOW).messages
    return to_event(inbound)


def test_each_kind_of_message_becomes_its_event() -> None:
    context = {"context": {"from": "447700900000", "id": "wamid.OURS"}}
    assert event_of("text", {"body": "I saw a van"}, **context) == Text("I saw a van", "wamid.OURS")
    assert event_of("text", {"body": " Stop! "}) == Command("stop")
    assert event_of("text", {"body": "/places"}) == Command("places")
    assert event_of("text", {"body": "menu"}) == Command("help")
    assert event_of("text", {"body": "stop the van"}) == Text("stop the van")
    assert event_of(
        "interactive",
        {"type": "button_reply", "button_reply": {"id": "tip:7", "title": "I have information"}},
        **context,
    ) == Choice("tip:7", "wamid.OURS")
    assert event_of(
        "interactive", {"type": "list_reply", "list_reply": {"id": "tp:burglary", "title": "Burglary"}}
    ) == Choice("tp:burglary")
    assert event_of("button", {"payload": "stop", "text": "Stop alerts"}) == Choice("stop")
    assert event_of("location", {"latitude": 52.8, "longitude": -2.1}) == Location(52.8, -2.1)
    assert event_of("location", {"latitude": 152.8, "longitude": -2.1}) == Unsupported("location")
    assert event_of("image", {"id": "1037", "mime_type": "image/jpeg", "caption": "Blue jacket"}) == Photo(
        "1037", "Blue jacket"
    )
    assert event_of("image", {"mime_type": "image/jpeg"}) == Unsupported("image")
    assert event_of("audio", {"id": "1", "mime_type": "audio/ogg"}) == Unsupported("audio")
    assert event_of("text", {"body": "   "}) == Unsupported("empty")
    assert event_of("reaction", {"message_id": "wamid.OURS", "emoji": "👍"}) is None
    assert keyword("HELP.") == "help" and keyword("helpful") is None
