"""The tips queue's Block Kit: a tip redrawn after officers' actions, the Reply and spam modals, reading them back."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bots.slack_officer.blocks.tips import (
    read_block_tipster,
    read_reply,
    reply_modal,
    spam_modal,
    status_line,
    tip_message,
)
from core.model import TIPSTER, AuditEntry, Tip, TipNote, TipState
from core.services.tips import NEXT_STATES, QueuedTip
from core.tip_rendering import officer_buttons

AT = datetime(2026, 11, 25, 14, 5, tzinfo=UTC)


def a_tip(state: TipState = TipState.NEW, **fields: object) -> Tip:
    defaults: dict[str, object] = {
        "resident_id": 7,
        "text": "Van <!channel> & <http://x|y>",
        "reference": "T-2026-000001",
        "id": 1,
        "media": ("a.jpg", "b.jpg"),
        "lat": 52.8,
        "lon": -2.1,
        "state": state,
    }
    return Tip(**{**defaults, **fields})  # type: ignore[arg-type]


def change(action: str, actor: str, **detail: object) -> AuditEntry:
    return AuditEntry(actor=actor, action=action, subject="T-2026-000001", detail=detail, at=AT)


def test_the_buttons_follow_the_state_and_match_what_core_allows():
    for state, allowed in NEXT_STATES.items():
        actions = {b.data.split(":")[1] for b in officer_buttons(a_tip(state))}
        assert ("ack" in actions) == (TipState.ACKNOWLEDGED in allowed)
        assert ("done" in actions) == (TipState.ACTIONED in allowed)
        assert ("spam" in actions) == (TipState.SPAM in allowed)
        assert ("reply" in actions) == (state is not TipState.SPAM)


def test_the_status_line_says_who_did_what_latest_first_and_when_the_tipster_was_blocked():
    queued = QueuedTip(
        a_tip(TipState.SPAM),
        None,
        [
            change("tip.acknowledged", "U01OFFICER1", blocked_tipster=False),
            change("tip.spam", "U01OFFICER2", blocked_tipster=True),
        ],
    )
    line = status_line(queued, "Europe/London")
    assert line == (
        "Status: *Marked as spam* by <@U01OFFICER2> at Wed 25 Nov 14:05 — tipster blocked: their future "
        "tips stay out of the queue · acknowledged by <@U01OFFICER1> at Wed 25 Nov 14:05"
    )
    assert status_line(QueuedTip(a_tip(), None, []), "Europe/London") == "Status: *New*"
    by_shell = QueuedTip(a_tip(TipState.ACTIONED), None, [change("tip.actioned", "cli:ops")])
    assert "by `cli:ops`" in status_line(by_shell, "Europe/London")  # not a Slack user: no mention


def test_a_redrawn_tip_keeps_what_the_tipster_wrote_literal_and_drops_spent_buttons():
    message = tip_message(QueuedTip(a_tip(TipState.SPAM), None, [change("tip.spam", "U01OFFICER1")]), "Europe/London")
    assert "Van &lt;!channel&gt; &amp; &lt;http://x|y&gt;" in message["text"] and "2 photos attached" in message["text"]
    assert [b["type"] for b in message["blocks"]] == ["section"]  # spam: no buttons left
    acknowledged = tip_message(QueuedTip(a_tip(TipState.ACKNOWLEDGED), None, []), "Europe/London")
    (actions,) = [b for b in acknowledged["blocks"] if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == [
        "tipq:reply:T-2026-000001",
        "tipq:done:T-2026-000001",
        "tipq:spam:T-2026-000001",
    ]
    assert all(e["value"] == e["action_id"] for e in actions["elements"])


def test_the_reply_modal_shows_the_latest_notes_within_slacks_limits_and_reads_back():
    notes = [
        TipNote(tip_id=1, author=TIPSTER if n % 2 else "U01OFFICER1", text=f"note {n} " + "x" * 2000, created_at=AT)
        for n in range(14)
    ]
    modal = reply_modal(a_tip(), 2, notes, "Mercia Vale Police", {"ref": "T-2026-000001"}, "Europe/London")
    assert len(modal["title"]["text"]) <= 24 and len(modal["blocks"]) <= 100
    assert all(len(b["text"]["text"]) <= 3000 for b in modal["blocks"] if b["type"] == "section")
    shown = json.dumps(modal["blocks"])
    assert "4 earlier messages are in the thread" in shown and "note 13" in shown and "note 3 " not in shown
    assert json.loads(modal["private_metadata"]) == {"ref": "T-2026-000001"}
    assert read_reply({"reply": {"value": {"type": "plain_text_input", "value": "Thanks"}}}) == "Thanks"
    assert read_reply({}) == ""


def test_the_spam_modal_reads_whether_to_block():
    modal = spam_modal(a_tip(), {"ref": "T-2026-000001"})
    (checkbox,) = [b for b in modal["blocks"] if b["type"] == "input"]
    assert checkbox["optional"] and len(checkbox["element"]["options"][0]["text"]["text"]) <= 75
    ticked = {"block_tipster": {"value": {"type": "checkboxes", "selected_options": [{"value": "block"}]}}}
    assert read_block_tipster(ticked) is True
    assert read_block_tipster({"block_tipster": {"value": {"type": "checkboxes", "selected_options": []}}}) is False
    assert read_block_tipster({}) is False
