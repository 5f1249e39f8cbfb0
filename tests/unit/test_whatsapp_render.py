"""How conversation prompts look on WhatsApp: markup, buttons or lists, pages, and Meta's size limits."""

from __future__ import annotations

import pytest

from bots.whatsapp.messages import MAX_BODY, MAX_BUTTON_TITLE, MAX_ROW_DESCRIPTION, MAX_ROW_TITLE, MAX_ROWS, MAX_TEXT
from bots.whatsapp.render import page_of, page_options, render_prompt, whatsapp_text
from core.conversation import manage, onboarding
from core.conversation.prompts import Document, Option, Prompt
from core.conversation.state import Conversation, Step
from core.conversation.texts import available_languages
from core.conversation.turn import Services, Turn
from core.geo.areas import CircleArea
from core.model import Address, Alert, AlertType, Audience, Channel
from core.rendering import render_alert
from tests.support.clock import FakeClock


def test_markup_becomes_whatsapps_and_commands_become_keywords() -> None:
    assert whatsapp_text("<b>Done</b>. Send /stop or /help; <i>thanks</i>") == "*Done*. Send STOP or HELP; _thanks_"
    # Escaped values are shown as typed, never as markup; paths and unknown words are left alone.
    assert (
        whatsapp_text("&lt;b&gt;bold&lt;/b&gt; &amp; 1/2 of /etc and /stopwatch")
        == "<b>bold</b> & 1/2 of /etc and /stopwatch"
    )


def test_up_to_three_short_choices_are_reply_buttons_with_the_reply_context() -> None:
    prompt = Prompt("Sure?", "en", (Option("st:yes", "Yes, delete it all"), Option("st:no", "No, keep my alerts")))

    (message,) = render_prompt(prompt, reply_to="wamid.X")

    assert message["interactive"]["type"] == "button" and message["context"] == {"message_id": "wamid.X"}
    assert [b["reply"] for b in message["interactive"]["action"]["buttons"]] == [
        {"id": "st:yes", "title": "Yes, delete it all"},
        {"id": "st:no", "title": "No, keep my alerts"},
    ]


def test_long_labels_or_many_choices_become_a_list_with_titles_cut_and_said_in_full() -> None:
    long_label = "Construction and plant hire, scaffolding"
    prompt = Prompt("Pick", "en", (Option("a", "A"), Option("b", long_label)))

    (message,) = render_prompt(prompt)

    rows = message["interactive"]["action"]["sections"][0]["rows"]
    assert message["interactive"]["type"] == "list" and message["interactive"]["action"]["button"] == "Choose"
    assert len(rows[1]["title"]) <= MAX_ROW_TITLE and rows[1]["title"].endswith("…")
    assert rows[1]["description"] == long_label


def test_long_lists_are_paged_keeping_pinned_options_and_pages_wrap_around() -> None:
    options = (
        Option("tp:done", "Done", pinned=True),
        *(Option(f"tp:{n}", f"Topic {n}", ticked=n == 3) for n in range(20)),
    )
    prompt = Prompt("Tick", "en", options)

    pages = [page_options(prompt, n) for n in range(4)]

    assert all(len(page) <= MAX_ROWS and page[0].id == "tp:done" for page in pages)
    assert pages[0][-1].id == "page:1" and pages[2][-1].id == "page:0" and pages[3] == pages[0]
    shown = [o.id for page in pages[:3] for o in page if o.id.startswith("tp:") and o.id != "tp:done"]
    assert shown == [f"tp:{n}" for n in range(20)]  # every option once, in order
    assert page_of(prompt, "tp:12") == 1 and page_of(prompt, "tp:done") == 0
    rows = render_prompt(prompt, page=0)[0]["interactive"]["action"]["sections"][0]["rows"]
    assert rows[4]["title"] == "✅ Topic 3" and rows[1]["title"] == "▫️ Topic 0"


def test_a_location_request_a_long_text_and_a_document_as_text() -> None:
    (ask,) = render_prompt(Prompt("Where?", "en", ask_location=True))
    assert ask["interactive"] == {
        "type": "location_request_message",
        "body": {"text": "Where?"},
        "action": {"name": "send_location"},
    }

    lines = "\n".join(f"line {n} " + "x" * 90 for n in range(100))
    parts = render_prompt(Prompt(lines, "en"))
    assert len(parts) > 1 and all(len(p["text"]["body"]) <= MAX_TEXT for p in parts)
    assert "\n".join(p["text"]["body"] for p in parts).count("line ") == 100

    (document,) = render_prompt(
        Prompt(
            "Everything we hold. /stop deletes it.", "en", document=Document("d.json", "application/json", b'{"a": 1}')
        )
    )
    assert document["text"]["body"] == 'Everything we hold. STOP deletes it.\n\n{"a": 1}'


@pytest.mark.parametrize("language", available_languages())
def test_every_question_with_choices_fits_whatsapps_limits_in_every_language(language: str, force) -> None:
    turn = Turn(
        Address(Channel.WHATSAPP, "447700900123"),
        Conversation(),
        Services(force, None, None, None, None, FakeClock()),  # type: ignore[arg-type]
        resident=None,
        language=language,
    )
    prompts = [
        onboarding.ask_age(turn),
        onboarding.ask_place(turn),
        onboarding.ask_label(turn),
        manage.help_prompt(turn),
        manage.language(turn),
        manage.stop(turn),
    ]
    turn.conversation.step = Step.TOPICS
    prompts.append(onboarding.ask_topics(turn))
    for prompt in prompts:
        for page in range(3):
            for message in render_prompt(prompt, page=page):
                interactive = message.get("interactive")
                if interactive is None:
                    continue
                assert len(interactive["body"]["text"]) <= MAX_BODY, prompt.text[:60]
                for button in interactive["action"].get("buttons", []):
                    assert len(button["reply"]["title"]) <= MAX_BUTTON_TITLE
                for row in interactive["action"].get("sections", [{}])[0].get("rows", []):
                    assert len(row["title"]) <= MAX_ROW_TITLE and len(row.get("description", "")) <= MAX_ROW_DESCRIPTION
                assert not interactive["body"]["text"].endswith("…"), "a question was cut short"


def test_a_list_with_a_recommended_answer_is_first_two_buttons_the_answer_and_one_opening_the_list() -> None:
    options = (
        Option("tp:recommended", "All local crime (recommended)", quick=True, short="⭐ All local crime"),
        *(Option(f"tp:{n}", f"Topic {n}", ticked=False) for n in range(12)),
        Option("tp:done", "Done ✔️", pinned=True),
    )
    prompt = Prompt("Which alerts?", "en", options, list_button="Choose topics")

    (fresh,) = render_prompt(prompt)  # a new question
    assert fresh["interactive"]["type"] == "button"
    assert [b["reply"] for b in fresh["interactive"]["action"]["buttons"]] == [
        {"id": "tp:recommended", "title": "⭐ All local crime"},
        {"id": "page:0", "title": "Choose topics"},
    ]
    (browsing,) = render_prompt(prompt, page=0)  # "Choose topics" tapped, or ticking in the list
    assert browsing["interactive"]["type"] == "list" and browsing["interactive"]["action"]["button"] == "Choose topics"
    titles = [r["title"] for r in browsing["interactive"]["action"]["sections"][0]["rows"]]
    assert titles[:2] == ["Done ✔️", "⭐ All local crime"] and all(len(t) <= MAX_ROW_TITLE for t in titles)


def test_an_alert_reads_force_first_with_its_headline_bold() -> None:
    fields: dict[str, object] = dict(
        incident_number="MV-20261125-0456",
        headline="Bogus callers",
        message="Two men claiming to be from the water board.",
        contact="Call 101.",
        area=CircleArea(52.8067, -2.1174, 500),
        area_description="within 500 m of Eastgate Street, Stafford",
        topics=("all",),
        sectors=(),
        audience=Audience.RESIDENTS,
        author="cli:test",
        id=7,
        reference="A-2026-000007",
    )
    whatsapp = render_alert(Alert(**fields), "Mercia Vale Police", Channel.WHATSAPP).text
    assert whatsapp.split("\n\n")[:2] == [
        "*🚨 Mercia Vale Police: Bogus callers*",
        "Two men claiming to be from the water board.",
    ]
    telegram = render_alert(Alert(**fields), "Mercia Vale Police", Channel.TELEGRAM).text
    assert telegram.startswith("<b>🚨 Mercia Vale Police: Bogus callers</b>\n\n")
    update = render_alert(
        Alert(**{**fields, "type": AlertType.UPDATE, "original_id": 7}), "Mercia Vale Police", Channel.WHATSAPP
    ).text
    assert update.startswith("*🔄 Update — Mercia Vale Police: Bogus callers*")
