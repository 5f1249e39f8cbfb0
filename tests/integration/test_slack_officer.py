"""The officers' Slack app through signed requests and the sandbox's Slack: raise, preview, approve, send,
follow the delivery, update, cancel, and who may do what. Served in-process on SQLite."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import sqlalchemy as sa

from bots.slack_officer.deps import ACK_BUDGET_SECONDS
from core.model import AlertState
from sandbox.slack_workspace import OFFICER_ID, OFFICERS_CHANNEL_ID, SECOND_OFFICER_ID, STAFF_ID, SUPERVISOR_ID
from storage.tables import alerts as alerts_table
from storage.tables import audit_log
from tests.support.residents import STAFFORD, add_residents, offset, resident_at
from tests.support.slack_officer import button_value, card_text, eventually, force_config, officer_app


async def seed(app, *, testers: int = 0) -> None:
    near = [resident_at(*STAFFORD), resident_at(*offset(*STAFFORD, north_m=300), topics=frozenset({"missing"}))]
    far = [resident_at(*offset(*STAFFORD, north_m=4000))]
    practice = [resident_at(*offset(*STAFFORD, east_m=200), is_tester=True) for _ in range(testers)]
    await add_residents(app.lookout.uow, *near, *far, *practice)


async def refused(app, at_least: int):
    found = await rows(app, audit_log, audit_log.c.action == "refused")
    return found if len(found) >= at_least else None


async def rows(app, table, *where):
    async with app.lookout.engine.connect() as conn:
        return (await conn.execute(sa.select(table).where(*where))).all()


async def test_raise_preview_with_picture_send_and_final_report(database_url, clock):
    async with officer_app(database_url, clock=clock) as app:
        await seed(app)
        card = await app.raise_alert()
        text = card_text(card)
        assert "Would reach 2 residents" in text and "Telegram 2" in text
        assert "within 1 km of Eastgate Street, Stafford" in text  # residents read a street, not a postcode
        assert "Sam &lt;9&gt; &amp; his dog" in text and "&lt;!channel&gt;" in text  # typed text stays literal
        (picture,) = [f for f in app.slack.files.values() if f.completed]
        assert picture.content.startswith(b"\x89PNG") and picture.filename.endswith("-area.png")
        assert picture.shares and picture.shares[0][0] == OFFICERS_CHANNEL_ID

        started = time.monotonic()
        async with app.delivering():
            await app.press(OFFICER_ID, card, "alert_send")
            final = await eventually(
                lambda: "Delivered in" in card_text(app.card(card)), timeout=15, what="the final report"
            )
        took = time.monotonic() - started
        assert final
        done = card_text(app.card(card))
        assert "2 sent · 0 failed · 0 blocked the bot · 0 skipped (of 2)" in done and "Telegram: 2 sent" in done
        assert app.card(card).blocks[0]["text"]["text"].startswith("Sent:")
        assert len(app.telegram.sent) == 2
        assert app.updates_of(card) <= 1 + took / 3  # the status message changes at most once every 3 s
        (alert,) = await rows(app, alerts_table)
        assert alert.state == AlertState.SENT.value
        actions = [(r.actor, r.action) for r in await rows(app, audit_log, audit_log.c.subject == alert.reference)]
        assert {(OFFICER_ID, "draft"), (OFFICER_ID, "preview"), (OFFICER_ID, "send")} <= set(actions)


async def test_mistakes_come_back_inline_on_their_fields_and_nothing_is_saved(database_url, clock):
    # Three lookups a second apart (the geocoder's pace): room beyond the 1.5 s budget, which has its own test.
    async with officer_app(database_url, clock=clock) as app:
        modal = await app.open_compose()
        assert modal["callback_id"] == "alert_compose"
        contact = next(b for b in modal["blocks"] if b.get("block_id") == "contact")
        assert contact["element"]["initial_value"].startswith("Call 101")  # prefilled from the force config

        answer = await app.submit(OFFICER_ID, modal["id"], incident_number="12345", headline="  ", radius="5km")
        assert answer.json()["response_action"] == "errors"
        errors = answer.json()["errors"]
        assert set(errors) == {"incident_number", "headline", "radius"}
        assert "MV-20261125-0456" in errors["incident_number"]  # the force's example
        assert "between 50 m and 3 km" in errors["radius"]
        assert app.slack.open_views(OFFICER_ID)  # the modal stays open with the officer's text

        unknown = await app.submit(OFFICER_ID, modal["id"], where="ST99 9ZZ")  # a well-formed postcode nobody knows
        assert set(unknown.json()["errors"]) == {"where"}
        malformed = await app.submit(OFFICER_ID, modal["id"], where="ZZ9 9ZZ")
        assert "not a UK postcode" in malformed.json()["errors"]["where"]

        app.nominatim.fail_with(503)
        down = await app.submit(OFFICER_ID, modal["id"], where="ST16 2DH")  # not looked up before, so not cached
        assert set(down.json()["errors"]) == {"where"} and "try again" in down.json()["errors"]["where"].lower()
        # In an officer's words: another way to say where, not the resident's "share your location".
        assert (
            "or a named area" in down.json()["errors"]["where"]
            and "share your location" not in down.json()["errors"]["where"]
        )
        app.nominatim.fail_with(None)

        area = await app.submit(OFFICER_ID, modal["id"], where_kind="area", named_area=None, where=None)
        assert set(area.json()["errors"]) == {"named_area"}
        location = await app.submit(OFFICER_ID, modal["id"], where_kind="location", where="95, 2")
        assert "Latitude 95.0 is outside" in location.json()["errors"]["where"]

        assert await rows(app, alerts_table) == []
        assert app.cards() == [] and not [f for f in app.slack.files.values() if f.completed]


async def test_a_slow_address_lookup_finishes_after_the_answer(database_url, clock):
    async with officer_app(database_url, clock=clock, ack_budget=ACK_BUDGET_SECONDS) as app:
        await seed(app)
        app.nominatim.set_delay(2.0)  # past the 1.5 s budget, within the geocoder's 5 s
        modal = await app.open_compose()
        started = time.monotonic()
        answer = await app.submit(OFFICER_ID, modal["id"], where_kind="address", where="12 Eastgate Street, Stafford")
        assert time.monotonic() - started < 3.0
        assert answer.json()["response_action"] == "update" and "Looking up" in json.dumps(answer.json()["view"])
        (card,) = await eventually(app.cards, what="the preview after a slow lookup")
        assert "within 1 km of Eastgate Street, Stafford" in card_text(
            card
        )  # a circle around the address, named by its street
        assert "12 Eastgate" not in card_text(card)  # the house number is no business of every resident
        (shown,) = app.slack.open_views(OFFICER_ID)
        assert "saved as a draft" in json.dumps(shown)

        modal = await app.open_compose()
        answer = await app.submit(OFFICER_ID, modal["id"], where_kind="postcode", where="ST99 9ZZ", headline="")
        assert answer.json()["response_action"] == "update"
        (again,) = await eventually(
            lambda: [v for v in app.slack.open_views(OFFICER_ID) if v.get("callback_id") == "alert_compose"],
            what="the form coming back with its problems",
        )
        shown = json.dumps(again["blocks"])
        assert "Please correct" in shown and "ST99 9ZZ" in shown  # the officer's text kept, problems marked
        assert len(await rows(app, alerts_table)) == 1


async def test_someone_not_an_officer_is_refused_politely_and_audited(database_url, clock):
    async with officer_app(database_url, clock=clock) as app:
        await seed(app)
        answer = await app.simulated.slash_command(STAFF_ID, "/alert", "", OFFICERS_CHANNEL_ID)
        assert answer.status_code == 200 and "Only officers" in answer.text
        assert any("Only officers" in t for t in app.ephemeral_texts(STAFF_ID))
        assert app.slack.open_views(STAFF_ID) == []

        card = await app.raise_alert()
        await app.press(STAFF_ID, card, "alert_send")
        await eventually(lambda: len([t for t in app.ephemeral_texts(STAFF_ID) if "Only officers" in t]) == 2)
        help_answer = await app.simulated.slash_command(STAFF_ID, "/alert", "help", OFFICERS_CHANNEL_ID)
        assert "/alert list" in help_answer.text  # anyone may read the help

        refusals = await eventually(lambda: refused(app, 2), what="two audited refusals")
        assert {(r.actor, r.detail["attempted"]) for r in refusals} == {(STAFF_ID, "/alert new"), (STAFF_ID, "send")}
        (alert,) = await rows(app, alerts_table)
        assert alert.state == AlertState.DRAFT.value


async def test_above_the_threshold_a_supervisor_approves_but_never_their_own(database_url, tmp_path, clock):
    async with officer_app(database_url, force=force_config(tmp_path, approval_threshold=1), clock=clock) as app:
        await seed(app)
        card = await app.raise_alert()
        assert "Needs a supervisor's approval" in card_text(card) and "more than the 1 a single officer" in card_text(
            card
        )

        await app.press(OFFICER_ID, card, "alert_send")
        await eventually(lambda: any("needs a supervisor's approval" in t for t in app.ephemeral_texts(OFFICER_ID)))
        await app.press(OFFICER_ID, card, "alert_approve")
        await eventually(lambda: any("Only supervisors" in t for t in app.ephemeral_texts(OFFICER_ID)))

        own = await app.raise_alert(SUPERVISOR_ID, headline="Bogus callers")
        await app.press(SUPERVISOR_ID, own, "alert_approve")
        await eventually(lambda: any("can't approve your own alert" in t for t in app.ephemeral_texts(SUPERVISOR_ID)))

        await app.press(SUPERVISOR_ID, card, "alert_approve")
        await eventually(
            lambda: f"Approved by <@{SUPERVISOR_ID}>" in card_text(app.card(card)), what="the approval on the card"
        )
        assert "Needs a supervisor's approval" not in card_text(app.card(card))
        await app.press(OFFICER_ID, card, "alert_send")
        await eventually(lambda: app.card(card).blocks[0]["text"]["text"].startswith("Sending"), what="the status")

        states = {r.headline: (r.state, r.approver) for r in await rows(app, alerts_table)}
        assert states == {"Missing boy, 9": ("sending", SUPERVISOR_ID), "Bogus callers": ("draft", None)}
        refusals = {(r.actor, r.detail["attempted"]) for r in await refused(app, 3)}
        assert refusals == {(OFFICER_ID, "send"), (OFFICER_ID, "approve"), (SUPERVISOR_ID, "approve")}


async def test_exercise_alerts_are_labelled_and_reach_only_testers(database_url, clock):
    async with officer_app(database_url, clock=clock) as app:
        await seed(app, testers=1)
        card = await app.raise_alert(status="Exercise")
        text = card_text(card)
        assert card.blocks[0]["text"]["text"].startswith("EXERCISE — Preview")
        assert "EXERCISE — 🚨 Mercia Vale Police" in text and "only residents who opted in as testers" in text
        assert "Would reach 1 resident" in text


async def test_slack_retrying_a_request_never_raises_or_sends_twice(database_url, clock):
    async with officer_app(database_url, clock=clock) as app:
        await seed(app)
        modal = await app.open_compose()
        await app.submit(OFFICER_ID, modal["id"])
        submission = app.slack.interactions[-1]
        assert submission.kind == "view_submission"
        body = urlencode({"payload": json.dumps(submission.body)})
        retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
        again = await app.simulated.post_signed(body, "application/x-www-form-urlencoded", headers=retry)
        assert again.status_code == 200 and again.content == b""
        (card,) = await eventually(app.cards)
        await asyncio.sleep(0.3)
        assert len(app.cards()) == 1 and len(await rows(app, alerts_table)) == 1

        await app.press(OFFICER_ID, card, "alert_send")
        press = app.slack.interactions[-1]
        again = await app.simulated.post_signed(
            urlencode({"payload": json.dumps(press.body)}), "application/x-www-form-urlencoded", headers=retry
        )
        assert again.status_code == 200
        await eventually(lambda: app.card(card).blocks[0]["text"]["text"].startswith("Sending"))
        await asyncio.sleep(0.3)
        assert not any("can't be sent" in t for t in app.ephemeral_texts(OFFICER_ID))  # the retry was not handled again
        sends = [r for r in await rows(app, audit_log) if r.action == "send"]
        assert len(sends) == 1

        second = await app.raise_alert(headline="Bogus callers")  # pressed twice in quick succession: sent once
        await asyncio.gather(app.press(OFFICER_ID, second, "alert_send"), app.press(OFFICER_ID, second, "alert_send"))
        await eventually(lambda: any("is sending and can't be sent" in t for t in app.ephemeral_texts(OFFICER_ID)))
        assert len([r for r in await rows(app, audit_log) if r.action == "send"]) == 2


async def test_edit_replaces_the_draft_and_discard_drops_one(database_url, clock):
    async with officer_app(database_url, clock=clock) as app:
        await seed(app)
        card = await app.raise_alert()
        seen = len(app.slack.views)
        await app.press(OFFICER_ID, card, "alert_edit")
        modal = await app.next_modal(OFFICER_ID, seen)
        prefilled = {b["block_id"]: b["element"] for b in modal["blocks"] if b.get("type") == "input"}
        assert modal["title"]["text"].startswith("Edit A-")
        assert prefilled["headline"]["initial_value"] == "Missing boy, 9"
        assert prefilled["where"]["initial_value"] == "ST16 2LZ" and prefilled["radius"]["initial_value"] == "1km"
        assert [o["value"] for o in prefilled["topics"]["initial_options"]] == ["missing"]

        await app.submit(OFFICER_ID, modal["id"], headline="Missing boy, 9, found near the lock", radius="500m")
        await eventually(lambda: len(app.cards()) == 2, what="the edited preview")
        edited = app.cards()[1]
        assert "within 500 m of Eastgate Street, Stafford" in card_text(edited)
        await eventually(lambda: "Replaced by" in card_text(app.card(card)), what="the old card closed")
        assert not [b for b in app.card(card).blocks if b["type"] == "actions"]

        await app.press(OFFICER_ID, edited, "alert_discard")
        await eventually(lambda: "Discarded by" in card_text(app.card(edited)))
        states = sorted(r.state for r in await rows(app, alerts_table))
        assert states == ["discarded", "discarded"]


async def test_update_and_cancel_go_to_the_original_recipients(database_url, clock):
    async with officer_app(database_url, clock=clock) as app:
        await seed(app)
        card = await app.raise_alert()
        reference = json.loads(app.cards()[0].blocks[-2]["elements"][0]["value"])["ref"]
        async with app.delivering():
            await app.press(OFFICER_ID, card, "alert_send")
            await eventually(lambda: "Delivered in" in card_text(app.card(card)), timeout=15)

            modal = await app.command_modal(OFFICER_ID, f"update {reference.lower()}")
            assert modal["callback_id"] == "alert_update"
            headline = next(b for b in modal["blocks"] if b.get("block_id") == "headline")
            assert headline["element"]["initial_value"] == "Missing boy, 9"
            prefilled = {
                "headline": {"value": "Missing boy, 9"},
                "contact": {"value": "Call 101."},
            }  # as Slack sends them back
            refused_answer = await app.simulated.view_submission(
                OFFICER_ID, modal["id"], {**prefilled, "message": {"value": " "}}
            )
            assert refused_answer.json()["errors"] == {"message": "this can't be empty"}
            await app.simulated.view_submission(
                OFFICER_ID, modal["id"], {**prefilled, "message": {"value": "Sam has been found safe."}}
            )
            await eventually(lambda: len(app.cards()) == 2, what="the update's status message")
            update = app.cards()[1]
            assert update.blocks[0]["text"]["text"].startswith(("Sending: Update", "Sent: Update"))
            await eventually(lambda: len(app.telegram.sent) == 4, timeout=15, what="the update delivered")

            modal = await app.command_modal(OFFICER_ID, f"cancel {reference}")
            assert modal["callback_id"] == "alert_cancel" and "2" in json.dumps(modal["blocks"])
            await app.simulated.view_submission(OFFICER_ID, modal["id"], {"reason": {"value": "Found safe and well."}})
            await eventually(lambda: len(app.cards()) == 3, what="the cancellation's status message")
            await eventually(lambda: len(app.telegram.sent) == 6, timeout=15, what="the cancellation delivered")

        texts = [m.message.text for m in app.telegram.sent]
        assert (
            sum("Sam has been found safe." in t for t in texts) == 2
            and sum("Found safe and well." in t for t in texts) == 2
        )
        by_type = {(r.type, r.state) for r in await rows(app, alerts_table)}
        assert ("Alert", "cancelled") in by_type and {t for t, _ in by_type} == {"Alert", "Update", "Cancel"}
        actions = [r.action for r in await rows(app, audit_log) if r.actor == OFFICER_ID]
        assert {"update", "cancel"} <= set(actions)

        await app.simulated.slash_command(OFFICER_ID, "/alert", f"cancel {reference}")
        await eventually(
            lambda: any("is cancelled and can't be cancelled" in t for t in app.ephemeral_texts(OFFICER_ID))
        )
        await app.simulated.slash_command(OFFICER_ID, "/alert", "update A-2026-999999")
        await eventually(lambda: any("There is no alert 'A-2026-999999'" in t for t in app.ephemeral_texts(OFFICER_ID)))


async def test_list_stats_and_help(database_url, clock):
    async with officer_app(database_url, clock=clock) as app:
        await seed(app)
        await app.raise_alert()
        await app.simulated.slash_command(OFFICER_ID, "/alert", "list")
        listed = await eventually(lambda: [p for p in app.slack.response_url_posts if p.accepted])
        assert f"A-{clock().year}-000001" in json.dumps(listed[-1].blocks) and "Missing boy, 9" in json.dumps(
            listed[-1].blocks
        )
        await app.simulated.slash_command(OFFICER_ID, "/alert", "stats")
        stats = await eventually(lambda: [p for p in app.slack.response_url_posts if p.accepted][1:])
        shown = json.dumps(stats[0].blocks)
        assert "Subscribers now" in shown and "Telegram 3" in shown and "Drafts discarded" in shown
        help_answer = await app.simulated.slash_command(OFFICER_ID, "/alert", "help")
        assert "/alert update A-2026-000123" in help_answer.text
        unknown = await app.simulated.slash_command(OFFICER_ID, "/alert", "launch")
        assert "I don't know `/alert launch`" in unknown.text
        odd = await app.simulated.slash_command(STAFF_ID, "/alert", "cancel " + "<!channel>" * 20)
        assert "Only officers" in odd.text
        refusal = await eventually(lambda: refused(app, 1))
        assert len(refusal[0].subject) == 64  # what was typed, cut to the audit's column
        bare = await app.simulated.slash_command(OFFICER_ID, "/alert", "cancel")
        assert "Which alert?" in bare.text

        challenge = await app.simulated.post_signed(
            json.dumps({"type": "url_verification", "challenge": "c-123"}), "application/json"
        )
        assert challenge.json() == {"challenge": "c-123"}  # Slack's check when the Request URL is saved
        mention = {
            "type": "event_callback",
            "event_id": "Ev0MENTION",
            "team_id": "T01LOOKOUT",
            "api_app_id": "A01LOOKOUT0",
            "event": {
                "type": "app_mention",
                "user": OFFICER_ID,
                "text": "<@U01LOOKOUTB> help?",
                "ts": "1712345678.000100",
                "channel": OFFICERS_CHANNEL_ID,
                "event_ts": "1712345678.000100",
            },
        }
        assert (await app.simulated.post_signed(json.dumps(mention), "application/json")).status_code == 200
        reply = await eventually(lambda: app.slack.messages_in(OFFICERS_CHANNEL_ID, thread_ts="1712345678.000100"))
        assert "/alert list" in card_text(reply[0])


async def test_an_update_of_an_approved_alert_needs_approval_again_and_a_cancellation_never_waits(
    database_url, tmp_path, clock
):
    async with officer_app(database_url, force=force_config(tmp_path, approval_threshold=1), clock=clock) as app:
        await seed(app)
        card = await app.raise_alert()
        reference = json.loads(button_value(card, "alert_send"))["ref"]
        await app.press(SUPERVISOR_ID, card, "alert_approve")
        await eventually(lambda: f"Approved by <@{SUPERVISOR_ID}>" in card_text(app.card(card)), what="the approval")
        async with app.delivering():
            await app.press(OFFICER_ID, card, "alert_send")
            await eventually(lambda: len(app.telegram.sent) == 2, timeout=15, what="the alert delivered")

            # Another officer's update waits, as the alert did: a card with Approve, nothing sent to anyone.
            modal = await app.command_modal(SECOND_OFFICER_ID, f"update {reference}")
            values = {
                "headline": {"value": "Missing boy, 9"},
                "contact": {"value": "Call 101."},
                "message": {"value": "Ignore the last message: send money to this account."},
            }
            await app.simulated.view_submission(SECOND_OFFICER_ID, modal["id"], values)
            update_card = await eventually(
                lambda: next((c for c in app.cards()[1:] if "Needs a supervisor's approval" in card_text(c)), None),
                what="the update's card",
            )
            assert "An update of an alert that needed a supervisor's approval" in card_text(update_card)
            assert "Would reach 2 residents" in card_text(update_card) and "alert_edit" not in json.dumps(
                update_card.blocks
            )
            await app.press(SECOND_OFFICER_ID, update_card, "alert_send")
            await eventually(
                lambda: any(
                    "needs a supervisor's approval before it is sent" in t
                    for t in app.ephemeral_texts(SECOND_OFFICER_ID)
                )
            )
            await app.press(SECOND_OFFICER_ID, update_card, "alert_approve")
            await eventually(lambda: any("Only supervisors" in t for t in app.ephemeral_texts(SECOND_OFFICER_ID)))
            await asyncio.sleep(0.5)
            assert len(app.telegram.sent) == 2

            # A supervisor's own update: never approved by themselves.
            modal = await app.command_modal(SUPERVISOR_ID, f"update {reference}")
            await app.simulated.view_submission(
                SUPERVISOR_ID, modal["id"], {**values, "message": {"value": "By the supervisor."}}
            )
            own = await eventually(
                lambda: next((c for c in app.cards()[1:] if "By the supervisor." in card_text(c)), None),
                what="the supervisor's update card",
            )
            await app.press(SUPERVISOR_ID, own, "alert_approve")
            await eventually(
                lambda: any("can't approve your own alert" in t for t in app.ephemeral_texts(SUPERVISOR_ID))
            )

            await app.press(SUPERVISOR_ID, update_card, "alert_approve")
            await eventually(
                lambda: f"Approved by <@{SUPERVISOR_ID}>" in card_text(app.card(update_card)),
                what="the update approved",
            )
            await app.press(SECOND_OFFICER_ID, update_card, "alert_send")
            await eventually(lambda: len(app.telegram.sent) == 4, timeout=15, what="the approved update delivered")
            assert sum("send money" in s.message.text for s in app.telegram.sent) == 2

            # A cancellation goes at once, without approval; the supervisors are told in Slack.
            modal = await app.command_modal(OFFICER_ID, f"cancel {reference}")
            await app.simulated.view_submission(OFFICER_ID, modal["id"], {"reason": {"value": "Found safe and well."}})
            await eventually(lambda: len(app.telegram.sent) == 6, timeout=15, what="the cancellation delivered")
            dm = "D" + SUPERVISOR_ID[1:]
            notice = await eventually(
                lambda: [m for m in app.slack.messages_in(dm) if "was cancelled" in m.text],
                timeout=15,
                what="the supervisors told",
            )
            assert (
                reference in notice[0].text
                and f"<@{OFFICER_ID}>" in notice[0].text
                and "Found safe and well." in notice[0].text
            )
            assert "from slack" in notice[0].text

        sent = [r for r in await rows(app, alerts_table) if r.type == "Update"]
        assert {(r.author, r.approver, r.state) for r in sent} == {
            (SECOND_OFFICER_ID, SUPERVISOR_ID, "cancelled"),
            (SUPERVISOR_ID, None, "draft"),
        }
        audited = {(r.actor, r.action, r.source) for r in await rows(app, audit_log)}
        assert {
            (OFFICER_ID, "cancel", "slack"),
            (SECOND_OFFICER_ID, "update", "slack"),
            (SUPERVISOR_ID, "approve", "slack"),
        } <= audited


async def test_an_expired_alert_cant_be_updated(database_url, clock):
    async with officer_app(database_url, clock=clock) as app:
        await seed(app)
        card = await app.raise_alert()
        reference = json.loads(button_value(card, "alert_send"))["ref"]
        await app.press(OFFICER_ID, card, "alert_send")
        await eventually(lambda: app.card(card).blocks[0]["text"]["text"].startswith("Sending"), what="the status")
        async with app.lookout.engine.begin() as conn:  # its expiry passes (the scheduler has not run yet)
            await conn.execute(sa.update(alerts_table).values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
        await app.simulated.slash_command(OFFICER_ID, "/alert", f"update {reference}")
        await eventually(
            lambda: any(
                f"{reference} has expired, so it can't be updated" in t for t in app.ephemeral_texts(OFFICER_ID)
            )
        )
        assert [r.type for r in await rows(app, alerts_table)] == ["Alert"]


async def test_who_it_is_for_is_a_required_choice_and_everyone_means_everyone(database_url, clock):
    async with officer_app(database_url, clock=clock) as app:
        await seed(app)
        # A resident who chose Burglary only: an alert for everyone in the area reaches them too.
        await add_residents(
            app.lookout.uow, resident_at(*offset(*STAFFORD, east_m=300), topics=frozenset({"burglary"}))
        )
        modal = await app.open_compose()
        reach = next(b for b in modal["blocks"] if b.get("block_id") == "reach")
        assert not reach.get("optional") and "initial_option" not in reach["element"]  # no default to fall back on
        answer = await app.submit(OFFICER_ID, modal["id"], reach=None)
        assert set(answer.json()["errors"]) == {"reach"} and "everyone in the area" in answer.json()["errors"]["reach"]
        assert await rows(app, alerts_table) == []

        for_topic = card_text(await app.raise_alert())
        assert "Would reach 2 residents" in for_topic and "Only residents who chose Missing people" in for_topic
        for_everyone = card_text(await app.raise_alert(reach="everyone", topics=None))
        assert "Would reach 3 residents" in for_everyone and "Everyone in the area" in for_everyone
