"""SLACK_OFFICERS_CHANNEL: an alert sent from the command line (a real ``lookout alert send``) or by the scheduler gets its
card in the officers' channel, kept current by the web app's status board, with the same buttons as a Slack-raised one."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import sqlalchemy as sa

from sandbox.slack_workspace import OFFICER_ID, OFFICERS_CHANNEL_ID
from storage.tables import alerts as alerts_table
from tests.support.processes import lookout_env, run_json
from tests.support.residents import STAFFORD, add_residents, offset, resident_at
from tests.support.slack_officer import card_text, eventually, officer_app

COMPOSE = [
    "--incident",
    "MV-20261125-0456",
    "--headline",
    "Bogus callers",
    "--message",
    "Two men claiming to be from the water board.",
    "--everyone",
    "--at",
    f"{STAFFORD[0]},{STAFFORD[1]}",
    "--radius",
    "500m",
    "--yes",
]
SENT_BUTTONS = ["alert_card_update", "alert_card_resolve", "alert_card_cancel", "alert_card_report"]


def buttons(card) -> list[str]:
    return [e.get("action_id") for b in card.blocks or [] if b.get("type") == "actions" for e in b["elements"]]


def card_of(app, reference: str):
    found = [m for m in app.cards(OFFICERS_CHANNEL_ID) if reference in m.blocks[0]["text"]["text"]]
    return found[-1] if found else None


async def test_cli_and_scheduled_alerts_post_their_card_in_the_officers_channel(database_url, clock):
    async with officer_app(database_url, officers_channel=OFFICERS_CHANNEL_ID, clock=clock) as app:
        await add_residents(app.lookout.uow, resident_at(*STAFFORD), resident_at(*offset(*STAFFORD, north_m=100)))
        env = lookout_env(database_url, SLACK_BOT_TOKEN="xoxb-cli", SLACK_OFFICERS_CHANNEL=OFFICERS_CHANNEL_ID)
        async with app.delivering():
            sent = await asyncio.to_thread(run_json, ["alert", "send", *COMPOSE], env)
            reference = sent["reference"]
            card = await eventually(lambda: card_of(app, reference), timeout=15, what="the CLI alert's card")
            final = await eventually(
                lambda: "Delivered in" in card_text(app.card(card)), timeout=15, what="its final report"
            )
            assert final and app.card(card).blocks[0]["text"]["text"] == f"Sent: {reference}"
            assert buttons(app.card(card)) == SENT_BUTTONS

            # An update from the command line: its own card, as in Slack.
            update = await asyncio.to_thread(
                run_json, ["alert", "update", reference, "--message", "Both men arrested."], env
            )
            update_card = await eventually(
                lambda: card_of(app, update["reference"]), timeout=15, what="the update's card"
            )
            assert "Update" in update_card.blocks[0]["text"]["text"]

            # Scheduled from the command line, sent by the scheduler's job once its time has come.
            scheduled = await asyncio.to_thread(run_json, ["alert", "send", *COMPOSE, "--send-at", "30m"], env)
            assert scheduled["state"] == "scheduled" and card_of(app, scheduled["reference"]) is None
            async with app.lookout.engine.begin() as conn:  # the half hour passes
                await conn.execute(
                    sa.update(alerts_table)
                    .where(alerts_table.c.reference == scheduled["reference"])
                    .values(send_at=clock() - timedelta(seconds=1))
                )
            assert await app.lookout.alerts.send_due_scheduled(timedelta(minutes=5))
            due = await eventually(
                lambda: card_of(app, scheduled["reference"]), timeout=15, what="the scheduled alert's card"
            )
            await eventually(lambda: "Delivered in" in card_text(app.card(due)), timeout=15, what="its final report")

        # A Slack-raised alert keeps its one card where the officer pressed Send: none extra in the channel.
        before = len(app.cards(OFFICERS_CHANNEL_ID))
        async with app.delivering():
            raised = await app.raise_alert()
            await app.press(OFFICER_ID, raised, "alert_send")
            await eventually(
                lambda: "Delivered in" in card_text(app.card(raised)), timeout=15, what="the Slack alert's report"
            )
        assert len(app.cards(OFFICERS_CHANNEL_ID)) == before + 1
