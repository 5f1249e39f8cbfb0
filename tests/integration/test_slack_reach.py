"""A sent alert's buttons (on its card and in ``/alert list``) and its report: signed Slack requests to the real app,
the sandbox's Slack stand-in, both databases."""

from __future__ import annotations

import csv
import io
import json

import pytest
import sqlalchemy as sa

from core.model import Address, AlertState
from core.services.feedback import NotSentToYou
from sandbox.slack_workspace import OFFICER_ID, OFFICERS_CHANNEL_ID, STAFF_ID
from storage.tables import alerts as alerts_table
from storage.tables import audit_log
from storage.tables import residents as residents_table
from tests.support.residents import STAFFORD, add_residents, offset, resident_at
from tests.support.slack_officer import card_text, eventually, officer_app

SENT_BUTTONS = ["alert_card_update", "alert_card_resolve", "alert_card_cancel", "alert_card_report"]


def card_text_of(view) -> str:
    return json.dumps(view.get("blocks"), ensure_ascii=False)


def action_ids(blocks) -> list[str]:
    return [e.get("action_id") for b in blocks or [] if b.get("type") == "actions" for e in b["elements"]]


async def rows(app, table, *where):
    async with app.lookout.engine.connect() as conn:
        return (await conn.execute(sa.select(table).where(*where))).all()


async def sent_alert(app):
    near = [resident_at(*STAFFORD), resident_at(*offset(*STAFFORD, north_m=300), topics=frozenset({"missing"}))]
    await add_residents(app.lookout.uow, *near, resident_at(*offset(*STAFFORD, north_m=4000)))
    card = await app.raise_alert()
    assert action_ids(card.blocks) == ["alert_send", "alert_edit", "alert_discard"]  # a draft has none of them yet
    await app.press(OFFICER_ID, card, "alert_send")
    await eventually(lambda: "Delivered in" in card_text(app.card(card)), timeout=15, what="the final report")
    reference = json.loads(app.card(card).blocks[-2]["elements"][0]["value"])["ref"]
    return card, reference


async def test_the_sent_card_reports_reach_with_a_map_and_csv_files(database_url, clock):
    async with officer_app(database_url, clock=clock) as app:
        async with app.delivering():
            card, reference = await sent_alert(app)
        assert action_ids(app.card(card).blocks) == SENT_BUTTONS  # kept on the final report
        # Residents answer "was this useful?" (the core service every app's button reaches): one each, the last counts.
        (alert,) = await rows(app, alerts_table, alerts_table.c.reference == reference)
        addresses = [Address.parse(r.address) for r in await rows(app, residents_table)]
        await app.lookout.feedback.record(addresses[0], alert.id, False)
        await app.lookout.feedback.record(addresses[0], alert.id, True)
        await app.lookout.feedback.record(addresses[1], alert.id, False)
        with pytest.raises(NotSentToYou):  # the resident 4 km away was never sent it
            await app.lookout.feedback.record(addresses[2], alert.id, True)

        await app.press(OFFICER_ID, app.card(card), "alert_card_report")
        report = await eventually(
            lambda: [m for m in app.cards() if card_text(m).startswith(f"Report: {reference}")], what="the report"
        )
        shown = card_text(report[0])
        assert "2 of 2 sent" in shown and "*Telegram*: 2 sent · 0 failed · 0 skipped" in shown
        assert "0 tips" in shown and "Minute by minute" in shown and "(2 so far)" in shown
        assert "1 found it useful* · :-1: 1 not useful (useful/not useful by app: Telegram 1/1)" in shown
        files = await eventually(
            lambda: [f for f in app.slack.files.values() if f.completed and f.thread_ts == report[0].ts],
            what="the report's files",
        )
        by_name = {f.filename: f for f in files}
        assert set(by_name) == {
            f"{reference}-reach.png",
            f"{reference}-deliveries.csv",
            f"{reference}-cells.csv",
            f"{reference}-feedback.csv",
        }
        feedback = by_name[f"{reference}-feedback.csv"].content.decode()
        assert feedback == f"alert,channel,useful,not_useful\n{reference},telegram,1,1\n"
        assert by_name[f"{reference}-reach.png"].content.startswith(b"\x89PNG")
        assert by_name[f"{reference}-reach.png"].shares[0][0] == OFFICERS_CHANNEL_ID
        deliveries = list(csv.DictReader(io.StringIO(by_name[f"{reference}-deliveries.csv"].content.decode())))
        assert {(r["channel"], r["state"]) for r in deliveries} == {("telegram", "sent")}
        assert sum(int(r["deliveries"]) for r in deliveries) == 2 and all(r["alert"] == reference for r in deliveries)
        cells = list(csv.DictReader(io.StringIO(by_name[f"{reference}-cells.csv"].content.decode())))
        assert cells and {r["state"] for r in cells} == {"sent"}  # the resident 4 km away is in no cell of the area
        assert sum(int(r["residents"]) for r in cells) == 2
        assert "alert_card_report" in action_ids(report[0].blocks)

        (audited,) = await rows(app, audit_log, audit_log.c.action == "report")
        assert audited.actor == OFFICER_ID and audited.subject == reference

        # By command too; someone not an officer is refused, and an unsent alert has no report yet.
        await app.simulated.slash_command(OFFICER_ID, "/alert", f"report {reference.lower()}")
        await eventually(
            lambda: len([m for m in app.cards() if card_text(m).startswith("Report:")]) == 2, what="a second report"
        )
        bare = await app.simulated.slash_command(OFFICER_ID, "/alert", "report")
        assert "Which alert?" in bare.text
        await app.simulated.block_action(
            STAFF_ID,
            "alert_card_report",
            json.dumps({"id": 1, "ref": reference}),
            channel_id=card.channel,
            message_ts=card.ts,
        )
        await eventually(lambda: any("Only officers" in t for t in app.ephemeral_texts(STAFF_ID)), what="the refusal")
        draft = await app.raise_alert()
        draft_ref = json.loads(draft.blocks[-2]["elements"][0]["value"])["ref"]
        await app.simulated.slash_command(OFFICER_ID, "/alert", f"report {draft_ref}")
        await eventually(
            lambda: any("never sent, so there is no report yet" in t for t in app.ephemeral_texts(OFFICER_ID))
        )
        assert len(await rows(app, audit_log, audit_log.c.action == "report")) == 2


async def test_resolved_on_the_card_asks_to_confirm_and_reaches_everyone_the_alert_reached(database_url, clock):
    async with officer_app(database_url, clock=clock) as app:
        async with app.delivering():
            card, reference = await sent_alert(app)

            seen = len(app.slack.views)
            await app.press(OFFICER_ID, app.card(card), "alert_card_resolve")
            modal = await app.next_modal(OFFICER_ID, seen)
            assert modal["callback_id"] == "alert_resolve" and modal["title"]["text"] == f"Resolve {reference}"
            assert "2 residents already reached" in card_text_of(modal) or "*2* residents" in card_text_of(modal)
            await app.simulated.view_submission(
                OFFICER_ID, modal["id"], {"message": {"value": "Sam has been found safe and well. Thank you."}}
            )
            await eventually(lambda: len(app.telegram.sent) == 4, timeout=15, what="the resolution delivered")
            told = [m.message.text for m in app.telegram.sent[2:]]
            assert all("✅ Resolved —" in t and "Sam has been found safe and well" in t for t in told)
            (resolved,) = await rows(app, alerts_table, alerts_table.c.reference == reference)
            assert resolved.state == AlertState.RESOLVED.value

        # The alert's own card is redrawn: resolved, only its report left to ask for.
        await eventually(
            lambda: app.card(card).blocks[0]["text"]["text"] == f"Resolved: {reference}",
            what="the redrawn card",
        )
        assert action_ids(app.card(card).blocks) == ["alert_card_report"]
        (audited,) = await rows(app, audit_log, audit_log.c.action == "resolve")
        assert audited.actor == OFFICER_ID and audited.subject == reference
        # /alert resolve again: said at once, politely, and nothing more is sent.
        await app.simulated.slash_command(OFFICER_ID, "/alert", f"resolve {reference}")
        await eventually(
            lambda: any(f"{reference} is resolved and can't be resolved" in t for t in app.ephemeral_texts(OFFICER_ID))
        )
        assert len(app.telegram.sent) == 4


async def test_cancel_in_the_list_reaches_everyone_the_alert_reached(database_url, clock):
    async with officer_app(database_url, clock=clock) as app:
        async with app.delivering():
            card, reference = await sent_alert(app)

            # /alert list: the sent alert's row has the same buttons; Update on an update is not offered.
            await app.simulated.slash_command(OFFICER_ID, "/alert", "list")
            listed = await eventually(
                lambda: [e for e in app.slack.ephemeral_to(OFFICER_ID) if "alert_card_cancel" in json.dumps(e.blocks)],
                what="the list",
            )
            assert action_ids(listed[0].blocks).count("alert_card_cancel") == 1  # the update itself can't be cancelled
            row = next(b for b in listed[0].blocks if b.get("block_id") == "alert_list_1")
            assert [e["action_id"] for e in row["elements"]] == SENT_BUTTONS
            seen = len(app.slack.views)
            answer = await app.simulated.block_action(
                OFFICER_ID,
                "alert_card_cancel",
                row["elements"][2]["value"],
                channel_id=listed[0].channel,
                message_ts=listed[0].message_ts,
                block_id="alert_list_1",
            )
            assert answer.status_code == 200
            modal = await app.next_modal(OFFICER_ID, seen)
            assert modal["callback_id"] == "alert_cancel"
            await app.simulated.view_submission(OFFICER_ID, modal["id"], {"reason": {"value": "Found safe."}})
            await eventually(lambda: len(app.telegram.sent) == 4, timeout=15, what="the cancellation delivered")

        (original,) = await rows(app, alerts_table, alerts_table.c.reference == reference)
        assert original.state == AlertState.CANCELLED.value
        # The alert's own card is redrawn: cancelled, only its report left to ask for.
        await eventually(
            lambda: app.card(card).blocks[0]["text"]["text"] == f"Cancelled: {reference}", what="the redrawn card"
        )
        assert action_ids(app.card(card).blocks) == ["alert_card_report"]
        # A button left on an older message (the list): the state is checked again, politely, and nothing changes.
        await app.simulated.block_action(
            OFFICER_ID,
            "alert_card_update",
            row["elements"][0]["value"],
            channel_id=listed[0].channel,
            message_ts=listed[0].message_ts,
            block_id="alert_list_1",
        )
        await eventually(
            lambda: any(f"{reference} is cancelled and can't be updated" in t for t in app.ephemeral_texts(OFFICER_ID))
        )
        assert len(app.telegram.sent) == 4
