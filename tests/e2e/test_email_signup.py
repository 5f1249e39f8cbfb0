"""Email sign-up through the real app over HTTP, with a real SMTP server (aiosmtpd on loopback) receiving the mail.

``lookout serve`` runs as a process with email on; a person's browser is
played by httpx posting the pages' forms, and the links are followed from the
emails the sink received. Every bad input is answered with a clear message
and leaves the database as it was.
"""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
import sqlalchemy as sa

from bots.email.links import Purpose
from core.geo.cells import cell_to_int, snap
from storage.tables import places, residents, subscriptions, tips
from tests.support.database import count, rows
from tests.support.email_site import (
    STAFFORD_POSTCODE,
    STONE_STATION_ROAD,
    TIPS_CHANNEL,
    EmailSite,
    email_site,
    link_in,
)
from tests.support.processes import run_json
from tests.support.slack_tips import tip_in_slack

pytestmark = pytest.mark.calendar  # make test runs it again with the clock moved

ADA = "ada@example.org"


@pytest.fixture
def site(database_url: str):
    with email_site(database_url) as running:
        yield running


def sign_up(
    site: EmailSite,
    email: str = ADA,
    *,
    where: str = "ST16 2LZ",
    topics: tuple[str, ...] = ("burglary",),
    age: bool = True,
    **more: str,
) -> httpx.Response:
    form: dict[str, str | list[str]] = {
        "email": email,
        "where": where,
        "label": "home",
        "topics": list(topics),
        "sector": "",
    }
    if age:
        form["age"] = "yes"
    form.update(more)
    return httpx.post(f"{site.url}/subscribe", data=form, timeout=20)


def signed_up(site: EmailSite, email: str = ADA, **choices: object) -> None:
    """Sign up and see the page say the email went (so a failure shows the page's words, not a missing email)."""
    answer = sign_up(site, email, **choices)  # type: ignore[arg-type]
    assert answer.status_code == 200 and "Check your email" in text_of(answer), text_of(answer)


def confirm(site: EmailSite, link: str) -> httpx.Response:
    token = link.split("?t=", 1)[1]
    return httpx.post(f"{site.url}/subscribe/confirm", data={"t": token}, timeout=10)


def text_of(response: httpx.Response) -> str:
    """The page's words, without tags or runs of whitespace (what a person reads)."""
    words = re.sub(r"<[^>]+>", " ", response.text)
    return " ".join(words.replace("&#39;", "'").replace("&quot;", '"').replace("&amp;", "&").split())


def subscribed(site: EmailSite) -> list[str]:
    return [r.address for r in rows(site.database_url, sa.select(residents.c.address))]


def test_sign_up_then_confirm_from_the_email_link_subscribes_once(site: EmailSite) -> None:
    form = httpx.get(f"{site.url}/subscribe")
    assert form.status_code == 200
    assert "Mercia Vale Police" in form.text and '<html lang="en-GB">' in form.text
    headers = form.headers
    assert (
        "script-src" not in headers["content-security-policy"]
        and "frame-ancestors 'none'" in headers["content-security-policy"]
    )
    assert headers["referrer-policy"] == "no-referrer" and headers["x-frame-options"] == "DENY"
    assert "never the exact address" in text_of(form)  # the privacy summary

    answer = sign_up(site, "Ada@Example.org", topics=("burglary", "bogus_callers"), sector="retail")
    assert answer.status_code == 200, text_of(answer)
    assert "Check your email" in text_of(answer) and ADA in answer.text
    assert subscribed(site) == []  # double opt-in: nothing until the link is followed

    mail = site.mail_to(ADA, "Confirm")
    assert mail.message["From"] == site.env["LOOKOUT_EMAIL_FROM"]
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail.message["List-Unsubscribe"].startswith(f"<{site.url}/subscribe/unsubscribe?t=")
    assert "Burglary" in mail.body("plain") and "Retail" in mail.body("plain")
    link = link_in(mail, "/subscribe/confirm")
    assert link in mail.body("html").replace("&amp;", "&")

    # A mail scanner opening the link changes nothing: the page asks for a press.
    page = httpx.get(link)
    assert page.status_code == 200 and "Confirm and start my alerts" in page.text
    assert subscribed(site) == []

    done = confirm(site, link)
    assert done.status_code == 200 and "Your alerts have started" in text_of(done)
    assert subscribed(site) == [f"email:{ADA}"]
    (place,) = rows(site.database_url, sa.select(places.c.cell, places.c.label))
    _, lat, lon = STAFFORD_POSTCODE
    assert place.cell == cell_to_int(snap(lat, lon, 10)) and place.label == "Home"
    assert {r.topic for r in rows(site.database_url, sa.select(subscriptions.c.topic))} == {"burglary", "bogus_callers"}
    (resident,) = rows(site.database_url, sa.select(residents))
    assert resident.sector == "retail" and resident.age_confirmed

    # They change their topics; pressing the old confirmation again changes nothing back.
    manage = re.search(r'href="([^"]*/subscribe/manage\?t=[^"]+)"', done.text).group(1)
    token = manage.split("?t=", 1)[1]
    saved = httpx.post(
        f"{site.url}/subscribe/manage",
        data={"t": token, "action": "topics", "topics": ["missing"]},
        follow_redirects=True,
    )
    assert saved.status_code == 200 and "Your topics are saved" in saved.text
    again = confirm(site, link)
    assert again.status_code == 200 and "already confirmed" in text_of(again)
    assert {r.topic for r in rows(site.database_url, sa.select(subscriptions.c.topic))} == {"missing"}
    both = httpx.post(
        f"{site.url}/subscribe/manage",
        data={"t": token, "action": "topics", "topics": ["all", "burglary"]},
        follow_redirects=True,
    )
    assert both.status_code == 200  # ticked together, the specific topic wins: All local crime would bring everything
    assert {r.topic for r in rows(site.database_url, sa.select(subscriptions.c.topic))} == {"burglary"}
    assert count(site.database_url, residents) == 1


def test_an_ambiguous_address_offers_a_choice_of_places(site: EmailSite) -> None:
    first = sign_up(site, where="Station Road")
    assert first.status_code == 200
    page = text_of(first)
    assert "Which place do you mean?" in page and "Station Road, Stafford" in page and "Station Road, Stone" in page
    assert site.sink.messages_to(ADA) == []

    unchosen = sign_up(site, where="Station Road", searched="Station Road")
    assert unchosen.status_code == 400 and "Choose one of the places listed" in text_of(unchosen)

    labels = re.findall(r'id="place-(\d)" name="place" value="\d">\s*<label[^>]*>([^<]+)</label>', first.text)
    stone = next(index for index, name in labels if "Stone" in name)
    chosen = sign_up(site, where="Station Road", searched="Station Road", place=stone)
    assert chosen.status_code == 200 and "Check your email" in text_of(chosen)
    confirm(site, link_in(site.mail_to(ADA, "Confirm"), "/subscribe/confirm"))
    (place,) = rows(site.database_url, sa.select(places.c.cell))
    assert place.cell == cell_to_int(snap(*STONE_STATION_ROAD, 10))


def test_bad_input_gets_a_clear_message_and_changes_nothing(site: EmailSite) -> None:
    cases = [
        ({"email": "not-an-email"}, 400, "Enter an email address in the correct format"),
        ({"email": ""}, 400, "Enter your email address"),
        ({"email": "o'brien@example.org"}, 400, "characters such as apostrophes"),
        ({"where": "ST99 9ZZ"}, 400, "We couldn't find that place"),
        ({"where": ""}, 400, "Enter a postcode or address"),
        ({"age": False}, 400, "Confirm that you are 12 or older"),
        ({"topics": ()}, 400, "Choose at least one kind of alert"),
        ({"sector": "piracy"}, 400, "Choose a business sector from the list"),
        ({"email": "bounce@example.org"}, 503, "couldn't send the email"),  # the relay refuses the mailbox for good
        ({"email": "busy@example.org"}, 503, "couldn't send the email"),  # and for now
    ]
    for changes, status, message in cases:
        answer = sign_up(site, **changes)
        assert answer.status_code == status, (changes, text_of(answer))
        page = text_of(answer)
        assert "There is a problem" in page and message in page, (changes, page)
        assert "<title>Error: " in answer.text
    assert subscribed(site) == [] and site.sink.messages() == []

    # At most three confirmation emails an hour to one address.
    for _ in range(3):
        assert sign_up(site, "flood@example.org").status_code == 200
    flooded = sign_up(site, "flood@example.org")
    assert flooded.status_code == 429 and "at most 3 an hour to one address" in text_of(flooded)
    assert len(site.sink.messages_to("flood@example.org")) == 3

    # Links: tampered or expired, for every purpose.
    signed_up(site)
    link = link_in(site.mail_to(ADA, "Confirm"), "/subscribe/confirm")
    token = link.split("?t=", 1)[1]
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    payload = site.signer.read(Purpose.CONFIRM, token)
    expired = site.expired_token(Purpose.CONFIRM, payload, age_seconds=25 * 3600)
    for method in ("get", "post"):
        bad = httpx.request(method.upper(), f"{site.url}/subscribe/confirm", params={"t": tampered})
        assert bad.status_code == 400 and "This link isn't valid" in text_of(bad) and 'href="/subscribe"' in bad.text
        old = httpx.request(method.upper(), f"{site.url}/subscribe/confirm", params={"t": expired})
        assert old.status_code == 410 and "has expired" in text_of(old) and 'href="/subscribe"' in old.text
    missing = httpx.get(f"{site.url}/subscribe/confirm")
    assert missing.status_code == 400
    # A link made for one purpose does not work for another.
    assert httpx.get(f"{site.url}/subscribe/manage", params={"t": token}).status_code == 400

    manage_expired = site.expired_token(Purpose.MANAGE, {"email": ADA}, age_seconds=31 * 24 * 3600)
    old_manage = httpx.get(f"{site.url}/subscribe/manage", params={"t": manage_expired})
    assert old_manage.status_code == 410 and "we'll send you a fresh link" in text_of(old_manage)
    assert 'action="/subscribe/manage/link"' in old_manage.text
    tip_expired = site.expired_token(Purpose.TIP, {"email": ADA, "alert": 1}, age_seconds=15 * 24 * 3600)
    assert httpx.get(f"{site.url}/subscribe/tip", params={"t": tip_expired}).status_code == 410
    for path in ("manage", "unsubscribe", "tip"):
        answer = httpx.post(f"{site.url}/subscribe/{path}", data={"t": "x" * 40, "List-Unsubscribe": "One-Click"})
        assert answer.status_code == 400, path
    assert subscribed(site) == []

    # The real link still works, once.
    assert confirm(site, link).status_code == 200
    assert subscribed(site) == [f"email:{ADA}"]


def test_one_click_unsubscribe_from_the_mail_header_erases_and_repeats_harmlessly(site: EmailSite) -> None:
    signed_up(site)
    mail = site.mail_to(ADA, "Confirm")
    confirm(site, link_in(mail, "/subscribe/confirm"))
    assert subscribed(site) == [f"email:{ADA}"]

    # What a mail app does with the RFC 8058 headers: POST the body to the header's address, no page, no person.
    target = mail.message["List-Unsubscribe"].strip("<>")
    for _ in range(2):
        answer = httpx.post(
            target,
            content=mail.message["List-Unsubscribe-Post"],
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert answer.status_code == 200 and "Unsubscribed" in answer.text
        assert subscribed(site) == []
    # The same link from the email's body: a page with one button, then the same result.
    page = httpx.get(link_in(mail, "/subscribe/unsubscribe"))
    assert page.status_code == 200 and "Unsubscribe and delete my data" in page.text


def test_manage_places_topics_sector_pause_and_a_fresh_link_that_tells_nobody_who_is_signed_up(site: EmailSite) -> None:
    signed_up(site)
    confirm(site, link_in(site.mail_to(ADA, "Confirm"), "/subscribe/confirm"))

    # Asking for a fresh manage link: the same answer for a subscriber and a stranger; only the subscriber gets mail.
    asked = httpx.post(f"{site.url}/subscribe/manage/link", data={"email": ADA})
    stranger = httpx.post(f"{site.url}/subscribe/manage/link", data={"email": "nobody@example.org"})
    assert asked.status_code == stranger.status_code == 200
    assert text_of(asked).replace(ADA, "X") == text_of(stranger).replace("nobody@example.org", "X")
    manage = link_in(site.mail_to(ADA, "change your"), "/subscribe/manage")
    assert site.sink.messages_to("nobody@example.org") == []
    token = manage.split("?t=", 1)[1]

    def act(action: str, **fields: str | list[str]) -> httpx.Response:
        return httpx.post(
            f"{site.url}/subscribe/manage",
            data={"t": token, "action": action, **fields},
            follow_redirects=True,
            timeout=20,
        )

    page = httpx.get(manage)
    assert page.status_code == 200 and ADA in page.text and "Show everything we hold about you" in page.text
    assert "email:ada@example.org" in page.text  # "your data": the export
    assert "Remove" not in page.text  # the only place cannot be removed

    choices = act("add_place", where="Station Road", label="work")
    assert choices.status_code == 200 and "Which place do you mean?" in choices.text
    added = act("add_place", where="Station Road", searched="Station Road", place="0", label="work")
    assert "The place is added" in added.text
    assert sorted(r.label for r in rows(site.database_url, sa.select(places.c.label))) == ["Home", "Work"]
    removed = act("remove_place", index="0")
    assert "The place is removed" in removed.text
    assert [r.label for r in rows(site.database_url, sa.select(places.c.label))] == ["Work"]
    lonely = act("remove_place", index="0")
    assert lonely.status_code == 400 and "This is your only place" in text_of(lonely)

    assert "Choose at least one" in text_of(act("topics"))
    assert "Your topics are saved" in act("topics", topics=["fraud", "asb"]).text
    assert {r.topic for r in rows(site.database_url, sa.select(subscriptions.c.topic))} == {"fraud", "asb"}
    assert "business sector is saved" in act("sector", sector="farming").text
    assert rows(site.database_url, sa.select(residents.c.sector))[0].sector == "farming"
    assert "Your alerts are paused" in act("pause").text
    assert rows(site.database_url, sa.select(residents.c.paused_until))[0].paused_until is not None
    assert "Your alerts are on again" in act("resume").text
    assert rows(site.database_url, sa.select(residents.c.paused_until))[0].paused_until is None


def test_a_tip_from_an_alert_email_link_lands_in_the_slack_tips_thread(site: EmailSite) -> None:
    signed_up(site)
    confirm(site, link_in(site.mail_to(ADA, "Confirm"), "/subscribe/confirm"))
    _, lat, lon = STAFFORD_POSTCODE
    sent = run_json(
        [
            "alert",
            "send",
            "--incident",
            "MV-20261125-0456",
            "--headline",
            "Burglary on Eastgate Street",
            "--message",
            "Two men seen in gardens.",
            "--at",
            f"{lat},{lon}",
            "--radius",
            "1km",
            "--topics",
            "burglary",
            "--yes",
        ],
        site.env,
    )
    link = site.signer.tip_url(ADA, sent["id"])

    form = httpx.get(link)
    assert form.status_code == 200 and "Burglary on Eastgate Street" in form.text and sent["reference"] in form.text
    nonce = re.search(r'name="n" value="([^"]+)"', form.text).group(1)
    token = link.split("?t=", 1)[1]
    empty = httpx.post(f"{site.url}/subscribe/tip", data={"t": token, "n": nonce, "text": "  "})
    assert empty.status_code == 400 and "Tell us what you saw or heard" in text_of(empty)
    assert count(site.database_url, tips) == 0

    tip = {
        "t": token,
        "n": nonce,
        "text": "A white van <b>parked</b> by no. 12 at 9pm.",
        "contact_me": "yes",
        "contact": "",
    }
    answer = httpx.post(f"{site.url}/subscribe/tip", data=tip)
    assert answer.status_code == 200 and "Thank you" in answer.text
    reference = re.search(r"T-\d{4}-\d{6}", answer.text).group(0)
    (stored,) = rows(site.database_url, sa.select(tips))
    assert stored.alert_id == sent["id"] and not stored.anonymous and stored.contact == f"{ADA} (email)"
    in_slack = asyncio.run(tip_in_slack(site.slack, TIPS_CHANNEL, reference))
    assert in_slack.thread_ts is not None  # in the alert's thread, like every tip
    assert "white van" in str(in_slack.blocks)

    twice = httpx.post(f"{site.url}/subscribe/tip", data=tip)  # a reload, or a second press
    assert twice.status_code == 200 and "We already have this" in text_of(twice)
    assert count(site.database_url, tips) == 1

    # Flood control: the force allows 3 tips a minute; the next is refused politely and its text kept.
    for number in range(2):
        assert httpx.post(f"{site.url}/subscribe/tip", data={**tip, "n": f"more-{number}"}).status_code == 200
    flooded = httpx.post(f"{site.url}/subscribe/tip", data={**tip, "n": "one-too-many", "text": "And another thing"})
    assert (
        flooded.status_code == 429
        and "Please wait a minute" in text_of(flooded)
        and "And another thing" in flooded.text
    )
    assert count(site.database_url, tips) == 3
