"""Wire faults on the stand-ins (sandbox.faults): latency, resets, 5xx bursts and a timing-out geocoder, switched at run time."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from aiogram.exceptions import TelegramNetworkError

from bots.geocoding import GeopyGeocoder
from bots.telegram.adapter import TelegramAdapter, make_bot
from core.geocoding import GeocoderUnavailable
from core.model import Address, Channel
from core.outbound import OutboundMessage
from sandbox.faults import FaultInjector, WireFaults
from sandbox.nominatim import NominatimStandIn
from sandbox.service import Sandbox
from sandbox.telegram import TelegramLimits, TelegramStandIn

TOKEN = "123456:FAULTS"


@pytest.fixture
def telegram():
    with TelegramStandIn(TOKEN, limits=TelegramLimits(per_bot_per_second=None, per_chat_interval=None)) as stand_in:
        yield stand_in


def _send(base: str, chat: int = 7) -> httpx.Response:
    return httpx.post(f"{base}/bot{TOKEN}/sendMessage", data={"chat_id": chat, "text": "hello"}, timeout=5)


def test_a_burst_of_5xx_takes_the_next_calls_in_turn_then_stops(telegram: TelegramStandIn) -> None:
    answer = httpx.post(f"{telegram.base_url}/_faults", json={"errors_next": 4}, timeout=5)
    assert answer.status_code == 200 and answer.json()["faults"]["errors_next"] == 4

    statuses = [_send(telegram.base_url).status_code for _ in range(6)]

    assert statuses == [500, 502, 503, 500, 200, 200]
    assert telegram.sent_count() == 2  # failed calls never reached the stand-in's record
    assert httpx.get(f"{telegram.base_url}/_faults", timeout=5).json()["injected"] == {"500": 2, "502": 1, "503": 1}


def test_a_reset_closes_the_connection_unanswered_and_nothing_is_recorded(telegram: TelegramStandIn) -> None:
    server_errors: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: server_errors.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger("uvicorn.error").addHandler(handler)
    try:
        telegram.app.set(resets_next=2)
        for _ in range(2):
            with pytest.raises(httpx.TransportError):  # "connection reset by peer": no status line ever came
                _send(telegram.base_url)
        assert _send(telegram.base_url).status_code == 200
    finally:
        logging.getLogger("uvicorn.error").removeHandler(handler)

    assert telegram.sent_count() == 1
    assert telegram.app.injected() == {"reset": 2}
    assert server_errors == []  # uvicorn did not try to answer "500: no response" into the closed socket


async def test_the_telegram_adapter_sees_resets_and_5xx_as_retryable(telegram: TelegramStandIn) -> None:
    adapter = TelegramAdapter(make_bot(TOKEN, telegram.base_url))
    try:
        telegram.app.set(resets_next=1, errors_next=1)
        results = [await adapter.send(Address(Channel.TELEGRAM, "42"), OutboundMessage(text="alert")) for _ in range(3)]
    finally:
        await adapter.aclose()
    assert [(r.ok, r.retryable) for r in results] == [(False, True), (False, True), (True, False)]
    assert len(telegram.messages_to(42)) == 1


def test_latency_delays_calls_and_inspection_routes_are_never_faulted(telegram: TelegramStandIn) -> None:
    telegram.app.set(latency_seconds=0.2, reset_share=1.0)
    assert httpx.get(f"{telegram.base_url}/_sandbox/stats", timeout=5).status_code == 200  # not reset
    telegram.app.set(reset_share=0.0)

    assert _send(telegram.base_url).status_code == 200
    assert telegram.app.injected() == {"latency": 1}

    assert httpx.delete(f"{telegram.base_url}/_faults", timeout=5).json()["faults"] == {
        **vars(WireFaults()),
        "error_statuses": [500, 502, 503],
    }


def test_bad_fault_settings_are_refused_with_400(telegram: TelegramStandIn) -> None:
    for body in ({"reset_share": 2}, {"no_such_fault": 1}, {"error_statuses": [404]}, [1, 2]):
        answer = httpx.post(f"{telegram.base_url}/_faults", json=body, timeout=5)
        assert answer.status_code == 400, body
    assert not telegram.app.faults.on


async def test_the_geocoder_timing_out_is_a_polite_error() -> None:
    with NominatimStandIn() as nominatim:
        httpx.post(f"{nominatim.base_url}/_faults", json={"latency_seconds": 3}, timeout=5).raise_for_status()
        geocoder = GeopyGeocoder(domain=nominatim.domain, scheme="http", timeout=1.0)
        try:
            with pytest.raises(GeocoderUnavailable) as raised:
                await geocoder.search("ST16 3AA")
            nominatim.app.clear()
            assert (await geocoder.search("ST16 3AA"))[0].label  # answers again once the fault is off
        finally:
            await geocoder.aclose()
    assert "isn't answering" in str(raised.value)


def test_a_stand_in_mounted_in_the_one_port_sandbox_can_reset_too() -> None:
    with Sandbox() as sandbox:
        token = sandbox.config.telegram_token
        base = sandbox.telegram_api_base
        httpx.post(f"{base}/_faults", json={"resets_next": 1}, timeout=5).raise_for_status()
        with pytest.raises(httpx.TransportError):
            httpx.post(f"{base}/bot{token}/getMe", timeout=5)
        assert httpx.post(f"{base}/bot{token}/getMe", timeout=5).json()["ok"] is True
        assert sandbox.telegram.app.injected() == {"reset": 1}


async def test_a_reset_reaches_aiogram_as_a_network_error(telegram: TelegramStandIn) -> None:
    bot = make_bot(TOKEN, telegram.base_url)
    try:
        telegram.app.set(resets_next=1)
        with pytest.raises(TelegramNetworkError):
            await bot.get_me()
        assert (await bot.get_me()).is_bot
    finally:
        await bot.session.close()


def test_the_injector_wraps_any_asgi_app_and_passes_other_scopes_through() -> None:
    seen: list[str] = []

    async def app(scope, receive, send) -> None:
        seen.append(scope["type"])

    injector = FaultInjector(app, WireFaults(errors_next=1))
    asyncio.run(injector({"type": "lifespan"}, None, None))
    assert seen == ["lifespan"] and injector.faults.errors_next == 1  # only HTTP calls are faulted
