"""How alerts, updates, cancellations and officers' replies read as email: parts from the core, then the templates."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from bots.email.links import LinkSigner, Purpose
from bots.email.messages import email_for, paragraphs
from core.geo.areas import CircleArea
from core.model import Alert, AlertStatus, AlertType, Audience, Channel, Tip, TipNote
from core.outbound import OutboundMessage
from core.rendering import render_alert
from core.tip_rendering import render_reply_to_tipster
from sandbox.mailbox import opening_links_in_new_tabs

FORCE = "Mercia Vale Police"
SENDER = "Mercia Vale Police alerts <alerts@mercia-vale.police.example>"
TO = "ada@example.org"
SIGNER = LinkSigner("unit-test-link-secret", "https://lookout.example")
HOSTILE = "Men in a \"white\" van & <script>alert(1)</script> at O'Brien's"


def alert(**changes: object) -> Alert:
    fields: dict[str, object] = dict(
        incident_number="MV-20261125-0456",
        headline="Burglary in progress",
        message="Two men seen at the back of houses.",
        contact="Call 101 quoting the incident number.",
        area=CircleArea(52.8067, -2.1174, 500),
        area_description="Stafford town centre",
        topics=("all",),
        sectors=(),
        audience=Audience.RESIDENTS,
        author="cli:test",
        id=7,
        reference="A-2026-000007",
    )
    fields.update(changes)
    return Alert(**fields)  # type: ignore[arg-type]


def mail(message: OutboundMessage):
    return email_for(message, TO, sender=SENDER, force_name=FORCE, links=SIGNER)


def links(text: str, path: str) -> list[str]:
    return re.findall(rf"https://lookout\.example{re.escape(path)}\?t=[A-Za-z0-9_.\-]+", text)


def token(url: str) -> str:
    return parse_qs(urlsplit(url).query)["t"][0]


def test_an_alert_says_what_happened_before_its_incident_and_contact_and_links_a_tip_for_its_recipient() -> None:
    message = render_alert(alert(), FORCE, Channel.EMAIL)
    assert message.parts is not None and message.buttons == ()  # a link, signed per recipient, not a button
    email = mail(message)
    assert email["Subject"] == "Police alert: Burglary in progress"
    assert email["From"] == SENDER and email["To"] == TO and email["Importance"] == "high"  # Immediate
    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    for body in (text, html):
        # What happened first (then where), and only then the incident number and who to call.
        assert (
            body.index("Two men seen")
            < body.index("Stafford town centre")
            < body.index("MV-20261125-0456")
            < body.index("Call 101")
        )
        assert "Stafford town centre" in body and "Mercia Vale Police" in body
        (tip,) = links(body, "/subscribe/tip")
        assert SIGNER.read(Purpose.TIP, token(tip)) == {"email": TO, "alert": 7}
        (manage,) = links(body, "/subscribe/manage")
        assert SIGNER.read(Purpose.MANAGE, token(manage)) == {"email": TO}
        (unsubscribe,) = links(body, "/subscribe/unsubscribe")
        assert SIGNER.read(Purpose.UNSUBSCRIBE, token(unsubscribe)) == {"email": TO}
    assert email["List-Unsubscribe"] == f"<{links(text, '/subscribe/unsubscribe')[0]}>"
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert '<html lang="en">' in html and 'name="viewport"' in html


def test_an_update_links_tips_to_the_original_and_threads_under_the_original_email() -> None:
    original_id = "<179564287547.14767.6870860625022123720@mercia-vale.police.example>"
    update = alert(id=9, type=AlertType.UPDATE, original_id=7, message="The men left in a red car.")
    email = mail(render_alert(update, FORCE, Channel.EMAIL, reply_to=original_id))
    assert email["Subject"] == "Update: Burglary in progress"
    assert email["In-Reply-To"] == original_id and email["References"] == original_id
    (tip,) = links(email.get_body(("plain",)).get_content(), "/subscribe/tip")
    assert SIGNER.read(Purpose.TIP, token(tip))["alert"] == 7


def test_a_cancellation_offers_no_tip_but_keeps_manage_and_unsubscribe() -> None:
    cancel = alert(id=10, type=AlertType.CANCEL, original_id=7, message="Found safe and well.")
    email = mail(render_alert(cancel, FORCE, Channel.EMAIL, reply_to="not-a-message-id"))
    assert email["Subject"] == "Cancelled: Burglary in progress"
    assert email["In-Reply-To"] is None  # only a Message-ID of ours may name the thread
    for body in (email.get_body(("plain",)).get_content(), email.get_body(("html",)).get_content()):
        assert "MV-20261125-0456" in body and "Found safe and well." in body
        assert (
            not links(body, "/subscribe/tip")
            and links(body, "/subscribe/manage")
            and links(body, "/subscribe/unsubscribe")
        )
    assert email["List-Unsubscribe"].startswith("<https://lookout.example/subscribe/unsubscribe?t=")


def test_practice_alerts_say_so_in_the_subject_and_at_the_top() -> None:
    email = mail(render_alert(alert(status=AlertStatus.EXERCISE), FORCE, Channel.EMAIL))
    assert email["Subject"] == "EXERCISE — Police alert: Burglary in progress"
    assert "EXERCISE: a practice message, not a real alert." in email.get_body(("html",)).get_content()


def test_what_officers_and_residents_typed_is_escaped_in_html_and_left_as_typed_in_text() -> None:
    email = mail(
        render_alert(
            alert(headline=HOSTILE, message=f"{HOSTILE}\nSecond line", contact=HOSTILE, area_description=HOSTILE),
            FORCE,
            Channel.EMAIL,
        )
    )
    html = email.get_body(("html",)).get_content()
    assert "<script>" not in html and HOSTILE not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&amp; " in html
    assert "&#34;white&#34;" in html and "O&#39;Brien&#39;s" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; at O&#39;Brien&#39;s<br>Second line" in html
    assert HOSTILE in email.get_body(("plain",)).get_content()
    assert "\n" not in str(email["Subject"])


def test_an_officers_reply_to_an_email_tipster_is_an_email_with_the_reply_escaped() -> None:
    tip = Tip(resident_id=3, text="I saw them", alert_id=7, reference="T-2026-000045", id=45)
    note = TipNote(
        tip_id=45,
        author="U01OFFICER1",
        text='Thanks! Was the van "white" <or> cream & old?',
        created_at=datetime.now(UTC),
    )
    email = mail(render_reply_to_tipster(tip, note, FORCE, Channel.EMAIL))
    assert email["Subject"] == "A reply from Mercia Vale Police about your information"
    html = email.get_body(("html",)).get_content()
    text = email.get_body(("plain",)).get_content()
    assert "Thanks! Was the van &#34;white&#34; &lt;or&gt; cream &amp; old?" in html
    assert 'Thanks! Was the van "white" <or> cream & old?' in text and "T-2026-000045" in text
    assert "nobody reads replies" in text
    (tip_link,) = links(text, "/subscribe/tip")  # the way to tell officers more
    assert SIGNER.read(Purpose.TIP, token(tip_link)) == {"email": TO, "alert": 7}
    assert email["List-Unsubscribe"]


def test_a_reply_about_a_tip_on_no_alert_has_no_tip_link() -> None:
    tip = Tip(resident_id=3, text="Something odd", reference="T-2026-000046", id=46)
    note = TipNote(tip_id=46, author="U01OFFICER1", text="Thank you.", created_at=datetime.now(UTC))
    text = mail(render_reply_to_tipster(tip, note, FORCE, Channel.EMAIL)).get_body(("plain",)).get_content()
    assert not links(text, "/subscribe/tip") and "Reply with information" not in text


def test_any_other_message_becomes_an_email_in_the_forces_name() -> None:
    email = mail(OutboundMessage(text="Hello <there> & welcome"))
    assert email["Subject"] == "A message from Mercia Vale Police"
    assert "Hello &lt;there&gt; &amp; welcome" in email.get_body(("html",)).get_content()
    assert email["List-Unsubscribe"] and email["Importance"] is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("one", [["one"]]),
        ("one\ntwo\n\nthree", [["one", "two"], ["three"]]),
        ("\r\n a \r\n\r\n\r\nb  \n", [["a"], ["b"]]),
    ],
)
def test_paragraphs_split_on_blank_lines(text: str, expected: list[list[str]]) -> None:
    assert paragraphs(text) == expected


def test_the_console_preview_opens_an_emails_links_in_a_new_tab() -> None:
    assert (
        opening_links_in_new_tabs('<html><head lang="x"><title>t</title>')
        == '<html><head lang="x"><base target="_blank"><title>t</title>'
    )
    assert opening_links_in_new_tabs("<p>no head</p>") == '<base target="_blank"><p>no head</p>'
