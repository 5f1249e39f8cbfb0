"""The SMS face's pure parts: keywords in, prompts drawn as numbered text, and Twilio's refusals read for the engine."""

from __future__ import annotations

import pytest

from bots.sms.adapter import result_for
from bots.sms.inbound import InboundSms, NotAnSms, parse_inbound, to_event
from bots.sms.render import render_prompt
from bots.sms.twilio_api import TwilioError
from core.conversation.events import Command, Photo, Text, Unsupported
from core.conversation.prompts import Document, Option, Prompt

SID = "SM" + "a" * 32


@pytest.mark.parametrize(
    ("body", "command"),
    [
        ("STOP", "optout"),
        ("stop", "optout"),
        (" Stopall ", "optout"),
        ("unsubscribe", "optout"),
        ("Cancel", "optout"),
        ("END", "optout"),
        ("quit.", "optout"),
        ("START", "start"),
        ("unstop", "start"),
        ("help", "help"),
        ("INFO", "help"),
        ("TOPICS", "topics"),
        ("places", "places"),
        ("Pause", "pause"),
        ("QUIET", "quiet"),
        ("mydata", "mydata"),
        ("DELETE", "stop"),
    ],
)
def test_keywords_in_any_case(body: str, command: str) -> None:
    assert to_event(InboundSms(SID, "+447700900001", body)) == Command(command)


def test_text_pictures_and_what_is_not_a_message() -> None:
    assert to_event(InboundSms(SID, "+447700900001", "yes")) == Text("yes")  # an answer, not Twilio's opt-in
    assert to_event(InboundSms(SID, "+447700900001", "stop the van")) == Text("stop the van")
    picture = InboundSms(SID, "+447700900001", "at no. 4", (("https://api.example/m/1", "image/jpeg"),))
    assert to_event(picture) == Photo("https://api.example/m/1", "at no. 4")
    assert to_event(InboundSms(SID, "+447700900001", "", (("https://api.example/m/2", "video/mp4"),))) == Unsupported(
        "media"
    )
    assert to_event(InboundSms(SID, "+447700900001", "  ")) == Unsupported("empty")
    for form in (
        {"MessageSid": SID, "From": "alice"},
        {"MessageSid": "x", "From": "+447700900001"},
        {"MessageSid": SID, "From": "+447700900001", "NumMedia": "²"},
        {"MessageSid": SID, "From": "+447700900001", "Body": "x" * 1601},
    ):
        with pytest.raises(NotAnSms):
            parse_inbound(form)


def test_choices_are_numbered_and_markup_and_commands_become_text() -> None:
    prompt = Prompt(
        "<b>Where</b> — “home”? Send /stop or /optout 📍",
        "en",
        (Option("lb:home", "Home"), Option("lb:work", "Work"), Option("tp:x", "Burglary", ticked=True)),
    )
    (text,) = render_prompt(prompt)
    assert text == 'Where - "home"? Send DELETE or STOP\n\nReply 1 for Home, 2 for Work or 3 for Burglary (chosen).'
    help_menu = Prompt("/places — your places", "en", (Option("menu:places", "PLACES"),), commands_menu=True)
    assert render_prompt(help_menu) == ["PLACES - your places"]  # the keywords are listed already


def test_a_long_answer_goes_as_several_texts_under_the_limit() -> None:
    document = Document("my.json", "application/json", ("line\n" * 1000).encode())
    texts = render_prompt(Prompt("Everything we hold", "en", document=document))
    assert len(texts) > 1 and all(len(t) <= 1600 for t in texts)


@pytest.mark.parametrize(
    ("error", "retry", "gone", "pause"),
    [
        (TwilioError(429, 20429, "Too Many Requests"), True, False, True),
        (TwilioError(400, 21610, "unsubscribed"), False, True, True),
        (TwilioError(400, 21211, "invalid"), False, True, True),
        (TwilioError(400, 21614, "not mobile"), False, True, True),
        (TwilioError(400, 30006, "landline"), False, True, True),
        (TwilioError(400, 30003, "unreachable"), True, False, False),  # this resident waits; the others keep going
        (TwilioError(400, 30005, "unknown"), True, False, False),
        (TwilioError(503, None, "down"), True, False, True),
        (TwilioError(400, 21602, "no body"), False, False, True),
    ],
)
def test_twilios_refusals_as_the_delivery_engine_reads_them(
    error: TwilioError, retry: bool, gone: bool, pause: bool
) -> None:
    result = result_for(error)
    assert (result.retryable, result.recipient_gone, result.pause_channel) == (retry, gone, pause)
    assert not result.ok and str(error.code or error.http_status) in (result.error or "")
