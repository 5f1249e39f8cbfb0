"""The WhatsApp adapter against the Cloud API stand-in: what it sends, and Meta's errors as delivery results."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from bots.whatsapp.adapter import REPLY_TO_TIP, THROUGHPUT_PAUSE_S, WhatsAppAdapter
from bots.whatsapp.graph import CloudApi
from core.model import Address, Channel
from core.outbound import Button, OutboundMessage, TemplateCall
from sandbox.whatsapp import WhatsAppFaults, WhatsAppLimits, WhatsAppStandIn
from tests.support.processes import free_port

TOKEN = "adapter-token"
PHONE_ID = "100000000000001"
ALICE = "447700900123"
TO_ALICE = Address(Channel.WHATSAPP, ALICE)
TEMPLATE = TemplateCall(
    "police_alert",
    "en_GB",
    ("Burglary in progress", "Eastgate Street, Stafford", "MV-20261125-0456", "Call 101."),
    (Button("Send information", "tip:7"), Button("Stop alerts", "stop")),
)
ALERT = OutboundMessage(
    "Police alert: Burglary in progress\n\nTwo men seen in gardens.",
    buttons=(Button("I have information", "tip:7"),),
    template=TEMPLATE,
)


def stand_in(**options: object) -> WhatsAppStandIn:
    options.setdefault("limits", WhatsAppLimits(per_user_interval=None))
    return WhatsAppStandIn(TOKEN, PHONE_ID, **options)  # type: ignore[arg-type]


@pytest.fixture
def wa() -> Iterator[WhatsAppStandIn]:
    with stand_in() as running:
        yield running


@pytest.fixture
async def adapter(wa: WhatsAppStandIn) -> AsyncIterator[WhatsAppAdapter]:
    adapter = WhatsAppAdapter(CloudApi(TOKEN, PHONE_ID, wa.api_base))
    yield adapter
    await adapter.aclose()


async def test_inside_the_window_an_alert_is_free_form_with_its_button_and_replies_in_context(wa, adapter) -> None:
    wa.open_window(ALICE)
    first = await adapter.send(TO_ALICE, ALERT)
    update = await adapter.send(
        TO_ALICE, OutboundMessage("Update: one man detained.", reply_to=first.provider_message_id)
    )

    assert first.ok and update.ok
    shown, follow_up = wa.sent_to(ALICE)
    assert shown.id == first.provider_message_id and shown.type == "interactive"
    assert shown.content["action"]["buttons"] == [
        {"type": "reply", "reply": {"id": "tip:7", "title": "I have information"}}
    ]
    assert follow_up.type == "text" and follow_up.reply_to == first.provider_message_id


async def test_text_too_long_for_buttons_goes_as_text_that_says_how_to_answer(wa, adapter) -> None:
    wa.open_window(ALICE)
    long_alert = OutboundMessage("x" * 2000, buttons=(Button("I have information", "tip:7"),))

    assert (await adapter.send(TO_ALICE, long_alert)).ok
    (shown,) = wa.sent_to(ALICE)
    assert shown.type == "text" and shown.text.endswith(REPLY_TO_TIP)


async def test_outside_the_window_the_template_goes_with_its_parameters_and_payloads(wa, adapter) -> None:
    result = await adapter.send(TO_ALICE, OutboundMessage(ALERT.text, template=TEMPLATE, template_only=True))

    assert result.ok
    (shown,) = wa.sent_to(ALICE)
    assert shown.type == "template" and wa.rejected_codes() == []
    assert "Burglary in progress" in shown.text and "MV-20261125-0456" in shown.text
    buttons = [c for c in shown.content["components"] if c["type"] == "button"]
    assert [b["parameters"][0]["payload"] for b in buttons] == ["tip:7", "stop"]


async def test_a_window_closed_after_all_resends_the_alert_as_the_template(wa, adapter) -> None:
    wa.open_window(ALICE, seconds_ago=25 * 3600)  # our record says open; Meta knows better

    result = await adapter.send(TO_ALICE, ALERT)

    assert result.ok
    assert wa.rejected_codes(ALICE) == [131047]
    (shown,) = wa.sent_to(ALICE)
    assert shown.type == "template" and shown.id == result.provider_message_id


async def test_a_closed_window_without_a_template_is_final_but_the_resident_stays(adapter) -> None:
    result = await adapter.send(
        TO_ALICE, OutboundMessage("Reply from Mercia Vale Police …", buttons=(Button("Answer", "ans:3"),))
    )

    assert not result.ok and not result.retryable and not result.recipient_gone
    assert "131047" in (result.permanent_reason or "")


async def test_meta_errors_become_delivery_results() -> None:
    faults = WhatsAppFaults(unreachable_users={"447700900666"})
    with stand_in(faults=faults, limits=WhatsAppLimits(per_number_per_second=1, per_user_interval=6.0)) as wa:
        adapter = WhatsAppAdapter(CloudApi(TOKEN, PHONE_ID, wa.api_base))
        template_only = OutboundMessage("…", template=TEMPLATE, template_only=True)
        try:
            sent = await adapter.send(TO_ALICE, template_only)
            throughput = await adapter.send(Address(Channel.WHATSAPP, "447700900555"), template_only)
            wa.advance(1.0)
            pair = await adapter.send(TO_ALICE, template_only)
            wa.advance(1.0)
            gone = await adapter.send(Address(Channel.WHATSAPP, "447700900666"), template_only)
            not_approved = OutboundMessage("…", template=TemplateCall("nope", "en_GB", ()), template_only=True)
            unknown = await adapter.send(Address(Channel.WHATSAPP, "447700900777"), not_approved)
        finally:
            await adapter.aclose()

    assert sent.ok
    assert throughput.retryable and throughput.retry_after == THROUGHPUT_PAUSE_S and throughput.pause_channel
    # The pair rate is one resident's: wait for them (about 6 s), but keep the channel going.
    assert pair.retryable and pair.retry_after == 6.0 and not pair.pause_channel
    assert not gone.ok and not gone.retryable and gone.recipient_gone and "131026" in (gone.permanent_reason or "")
    assert (
        not unknown.ok
        and not unknown.retryable
        and not unknown.recipient_gone
        and "132001" in (unknown.permanent_reason or "")
    )


async def test_server_errors_a_bad_token_and_a_dead_network_are_retried() -> None:
    with stand_in(faults=WhatsAppFaults(server_error_share=1.0)) as wa:
        failing = WhatsAppAdapter(CloudApi(TOKEN, PHONE_ID, wa.api_base))
        wrong_token = WhatsAppAdapter(CloudApi("not-the-token", PHONE_ID, wa.api_base))
        try:
            server_error = await failing.send(TO_ALICE, OutboundMessage("…", template=TEMPLATE, template_only=True))
            refused_token = await wrong_token.send(
                TO_ALICE, OutboundMessage("…", template=TEMPLATE, template_only=True)
            )
        finally:
            await failing.aclose()
            await wrong_token.aclose()
    nowhere = WhatsAppAdapter(CloudApi(TOKEN, PHONE_ID, f"http://127.0.0.1:{free_port()}/v21.0", timeout=2))
    try:
        unreachable = await nowhere.send(TO_ALICE, ALERT)
    finally:
        await nowhere.aclose()

    for result in (server_error, refused_token, unreachable):
        assert result.retryable and not result.ok, result
    assert "131000" in (server_error.error or "") and "190" in (refused_token.error or "")
