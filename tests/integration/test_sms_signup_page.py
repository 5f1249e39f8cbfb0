"""Signing up by text message on the web page: the number typed in any usual UK form, a code texted through the SMS
channel (the Twilio stand-in receives it on its Messages resource, in Twilio's wire format), typed on a second page.

The app runs on loopback (real HTTP) with email and SMS on, on both databases; the test's clock is the app's, so
a code's ten minutes pass when the test says. Nothing is kept before the right code; wrong codes and texts are capped.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from bots.email.links import LinkSigner, Purpose
from core.clock import Clock
from core.geo.cells import cell_to_int, snap
from storage.tables import inbound_updates, places, residents, subscriptions
from tests.support.clock import FakeClock
from tests.support.database import count, rows
from tests.support.sms_phone import SmsPhone
from tests.support.sms_signup import LINK_SECRET, STAFFORD_POSTCODE, Site, running, site_codes, text_of, token_in


@pytest.fixture
def clock() -> Clock:
    return FakeClock()


@pytest.fixture
def site(database_url: str, clock: Clock, caplog: pytest.LogCaptureFixture) -> Iterator[Site]:
    caplog.set_level(logging.INFO)
    with running(database_url, clock) as opened:
        yield opened
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, f"the app logged errors: {errors}"
    # A code is as good as a password for the number: none may reach the log.
    for code in site_codes(opened.sms):
        assert not any(code in r.getMessage() for r in caplog.records), "a code was logged"


def other_than(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def test_signing_up_by_text_subscribes_the_number_once_its_code_is_typed(site: Site) -> None:
    form = httpx.get(f"{site.url}/subscribe")
    assert form.status_code == 200
    page = text_of(form)
    assert (
        "alerts by email or text message" in page and "Text message (SMS)" in page and "UK mobile phone number" in page
    )
    assert 'autocomplete="tel-national"' in form.text
    privacy = text_of(httpx.get(f"{site.url}/subscribe/privacy"))
    assert "If you sign up by text message" in privacy and "type in the code we text you" in privacy

    sent = site.sign_up("+44 (0)7700 900-601", sector="retail", topics=["burglary", "bogus_callers"])
    assert sent.status_code == 200, text_of(sent)
    assert "Check your phone" in text_of(sent) and "07700 900601" in text_of(sent)
    number = "+447700900601"
    (text,) = site.sms.sent_to(
        number
    )  # posted to Twilio's Messages resource, From our number, counted as Twilio counts
    assert text.num_segments == 1 and text.body.startswith(tuple("0123456789"))
    assert "Mercia Vale Police" in text.body and "10 minutes" in text.body
    (code,) = site.codes_to(number)

    # Before the code, nothing about the person is kept: no resident, and the log of uses holds no number.
    assert site.residents() == []
    assert all("7700900601" not in r.update_id for r in rows(site.database_url, sa.select(inbound_updates)))
    token = token_in(sent)
    carried = LinkSigner(LINK_SECRET, site.url).read(Purpose.TEXT_CODE, token)
    assert carried["sms"] == number and code not in str(carried)  # the code only as a keyed hash

    wrong = site.enter(token, other_than(code))
    assert wrong.status_code == 400 and "That code isn't right" in text_of(wrong) and "4 tries left" in text_of(wrong)
    malformed = site.enter(token, "12ab")
    assert malformed.status_code == 400 and "Enter the 6-digit code" in text_of(malformed)
    assert site.residents() == []

    done = site.enter(token, f"{code[:3]} {code[3:]}")  # typed with a space, as the phone shows it
    assert done.status_code == 200, text_of(done)
    assert "Your alerts have started" in text_of(done) and "We'll text 07700 900601" in text_of(done)
    (resident,) = site.residents()
    assert (
        resident.address == f"sms:{number}"
        and resident.active
        and resident.age_confirmed
        and resident.sector == "retail"
    )
    assert {r.topic for r in rows(site.database_url, sa.select(subscriptions.c.topic))} == {"burglary", "bogus_callers"}
    (place,) = rows(site.database_url, sa.select(places.c.cell, places.c.label))
    assert place.cell == cell_to_int(snap(*STAFFORD_POSTCODE, 10)) and place.label == "Home"
    welcome = site.sms.texts_to(number)[-1]
    assert "signed up" in welcome and "STOP" in welcome and "HELP" in welcome

    again = site.enter(token, code)
    assert again.status_code == 200 and "already confirmed" in text_of(again)
    assert count(site.database_url, residents) == 1

    # The same resident as one who joined by text: the conversation knows them.
    phone = SmsPhone(site.sms, number)
    await phone.text("Topics")
    assert "Reply 1 for" in phone.last() and "Burglary (chosen)" in phone.last()


def test_wrong_codes_are_limited_codes_expire_and_texts_are_capped(site: Site, clock: FakeClock) -> None:
    number = "+447700900602"
    first = site.sign_up("07700900602")
    token = token_in(first)
    (code,) = site.codes_to(number)
    for left in (4, 3, 2, 1):
        wrong = site.enter(token, other_than(code))
        assert wrong.status_code == 400 and f"{left} {'try' if left == 1 else 'tries'} left" in text_of(wrong)
    last = site.enter(token, other_than(code))
    assert last.status_code == 400 and "can't be tried again" in text_of(last)
    for guess in (other_than(code), code):  # five tries made: even the right code is refused now
        spent = site.enter(token, guess)
        assert spent.status_code == 429 and "tried too many times" in text_of(spent)
    assert site.residents() == []

    # A new code for the same sign-up; it works for ten minutes by the site's clock.
    second = site.new_code(token)
    assert second.status_code == 200 and "Check your phone" in text_of(second)
    token = token_in(second)
    code = site.codes_to(number)[-1]
    clock.advance(minutes=10, seconds=1)
    late = site.enter(token, code)
    assert late.status_code == 410 and "This code has expired" in text_of(late) and "Send me a new code" in late.text
    assert site.residents() == []

    # The third text this hour to the number is the last: a fourth is refused, and says why.
    third = site.new_code(token)
    token = token_in(third)
    refused = site.new_code(token)
    assert refused.status_code == 429 and "at most 3 texts an hour to one number" in text_of(refused)
    assert len(site.codes_to(number)) == 3
    assert site.enter(token, site.codes_to(number)[-1]).status_code == 200
    assert [r.address for r in site.residents()] == [f"sms:{number}"]


def test_bad_numbers_and_refused_texts_get_a_clear_message_and_change_nothing(site: Site) -> None:
    cases = [
        ("", 400, "Enter your mobile phone number"),
        ("01785 123456", 400, "looks like a landline number"),
        ("+1 415 555 0100", 400, "only send texts to UK mobile numbers"),
        ("07700 9OO123", 400, "using digits only"),
        ("0770 090 06", 400, "11 digits starting 07"),
        ("07700 900699", 400, "couldn't send a text to this number"),  # the provider: not a mobile (21614)
        ("07700 900698", 400, "couldn't send a text to this number"),  # the provider: replied STOP before (21610)
        ("07700 900697", 503, "couldn't send the text just now"),  # the provider: too many requests (20429)
    ]
    site.sms.landlines.add("+447700900699")
    site.sms.opted_out.add("+447700900698")
    for mobile, status, message in cases:
        site.sms.max_per_second = 0 if mobile.endswith("697") else None
        answer = site.sign_up(mobile)
        assert answer.status_code == status, (mobile, text_of(answer))
        page = text_of(answer)
        assert "There is a problem" in page and message in page, (mobile, page)
        assert re.search(r'id="channel-sms"[^>]* checked>', answer.text)  # their choice kept
    assert site.residents() == [] and site.sms.sent == []

    # A text the provider did not take does not count against the number's three an hour.
    site.sms.max_per_second = None
    for _ in range(3):
        assert site.sign_up("07700 900697").status_code == 200
    assert site.sign_up("07700 900697").status_code == 429

    # A changed or made-up token: a clear page, nothing kept.
    token = token_in(site.sign_up("07700 900603"))
    for bad in (token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"), "x" * 40, ""):
        for path in ("/subscribe/code", "/subscribe/code/new"):
            answer = httpx.post(f"{site.url}{path}", data={"t": bad, "code": "123456"}, timeout=20)
            assert answer.status_code == 400 and "Nothing has been kept" in text_of(answer), path
    assert site.residents() == []

    # Email is still there beside it.
    by_email = site.sign_up(channel="email", email="ada@example.org")
    assert by_email.status_code == 200 and "Check your email" in text_of(by_email)


def test_sms_is_offered_only_when_it_is_on(database_url: str, clock: Clock) -> None:
    with running(database_url, clock, sms=False) as site:
        page = httpx.get(f"{site.url}/subscribe")
        assert "Text message" not in page.text and "alerts by email" in text_of(page)
        answer = site.sign_up("07700 900604")  # a posted channel=sms is read as email: the address is asked for
        assert answer.status_code == 400 and "Enter your email address" in text_of(answer)
        assert httpx.post(f"{site.url}/subscribe/code", data={"t": "x", "code": "123456"}).status_code in (404, 405)
        assert site.sms.sent == [] and site.residents() == []
