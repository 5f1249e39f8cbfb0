"""The tips queue in Slack: a tip's buttons through signed requests and the sandbox's Slack, served in-process.

Tips are submitted through the core (as the resident bots do) and posted by the
delivery worker into the tips channel; officers press Acknowledge, Reply, Mark
actioned and Mark spam, and the tip's message is redrawn for everyone. The
state changes and the tipster block are storage work, so those run on SQLite
and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import shutil
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from core.model import MessageKind, TipPhoto, TipState
from core.services.tips import NewTip
from sandbox.slack_records import SlackMessage
from sandbox.slack_workspace import OFFICER_ID, SECOND_OFFICER_ID, STAFF_ID, TIPS_CHANNEL_ID
from storage.tables import audit_log, deliveries, messages, refused_attempts, tip_notes
from storage.tables import tips as tips_table
from tests.support.residents import STAFFORD, add_residents, resident_at
from tests.support.slack_officer import card_text, eventually, force_config, officer_app

HOSTILE = "White van <!channel> <http://x|y> & two men"
RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}


async def rows(app, query: sa.Select) -> list:
    async with app.lookout.engine.connect() as conn:
        return (await conn.execute(query)).all()


def buttons(message: SlackMessage) -> list[str]:
    return [e["action_id"] for b in message.blocks or [] if b.get("type") == "actions" for e in b["elements"]]


def current(app, card: SlackMessage) -> SlackMessage:
    return app.card(card)


async def tip_in_the_queue(app, text: str = HOSTILE, **extra) -> tuple[object, object, SlackMessage]:
    """A resident's tip, posted by the worker as a reply in its thread: (resident, tip, its message)."""
    (resident,) = await add_residents(app.lookout.uow, resident_at(*STAFFORD))
    tip = await app.lookout.tips.submit(resident.address, NewTip(text, **extra))
    card = await eventually(
        lambda: next(
            (m for m in app.slack.messages_in(TIPS_CHANNEL_ID) if f"tipq:ack:{tip.reference}" in buttons(m)), None
        ),
        timeout=15,
        what="the tip in the tips channel",
    )
    return resident, tip, card


async def press(app, user: str, card: SlackMessage, action: str, reference: str):
    """Press ``tipq:<action>:<reference>`` on the message, whether or not the message still shows that button."""
    data = f"tipq:{action}:{reference}"
    answer = await app.simulated.block_action(user, data, data, channel_id=card.channel, message_ts=card.ts)
    assert answer.status_code == 200 and answer.content == b"", answer.text
    return answer


async def audited(app, reference: str) -> list[tuple[str, str]]:
    found = await rows(
        app,
        sa.select(audit_log.c.actor, audit_log.c.action)
        .where(audit_log.c.subject == reference)
        .order_by(audit_log.c.id),
    )
    return [(r.actor, r.action) for r in found]


async def test_acknowledge_then_actioned_redraw_the_tip_in_place_with_who_did_it(database_url, clock):
    async with officer_app(database_url, clock=clock) as app, app.delivering():
        _, tip, card = await tip_in_the_queue(
            app, photos=[TipPhoto("van.jpg", "image/jpeg", b"\xff\xd8\xff jpeg")], location=(52.8051, -2.1190)
        )
        assert card.is_reply and "Status: New" in card.text
        assert buttons(card) == [f"tipq:{a}:{tip.reference}" for a in ("ack", "reply", "done", "spam")]

        await press(app, OFFICER_ID, card, "ack", tip.reference)
        await eventually(lambda: "Acknowledged* by <@U01OFFICER1>" in current(app, card).text, what="the redraw")
        acknowledged = current(app, card)
        assert buttons(acknowledged) == [f"tipq:{a}:{tip.reference}" for a in ("reply", "done", "spam")]
        assert acknowledged.thread_ts == card.thread_ts  # redrawn in place, still in its thread
        text = card_text(acknowledged)
        assert "White van &lt;!channel&gt; &lt;http://x|y&gt; &amp; two men" in text  # still literal after the redraw
        assert "1 photo attached" in text and "openstreetmap.org/?mlat=52.805100" in text

        await press(app, SECOND_OFFICER_ID, card, "done", tip.reference)
        await eventually(lambda: "Actioned* by <@U01OFFICER2>" in current(app, card).text, what="the second redraw")
        actioned = current(app, card)
        assert "acknowledged by <@U01OFFICER1>" in actioned.text
        assert buttons(actioned) == [f"tipq:{a}:{tip.reference}" for a in ("reply", "spam")]
        updates = [p for m, p in app.slack.calls if m == "chat.update" and p.get("ts") == card.ts]
        assert len(updates) == 2 and all(p["channel"] == TIPS_CHANNEL_ID for p in updates)

        # A late press of a button that is gone (a colleague's screen behind): nothing changes, they are told why.
        await press(app, OFFICER_ID, card, "ack", tip.reference)
        await eventually(
            lambda: any("is actioned, so it can't be acknowledged" in t for t in app.ephemeral_texts(OFFICER_ID))
        )
        (state,) = await rows(app, sa.select(tips_table.c.state))
        assert state.state == TipState.ACTIONED.value
        assert await audited(app, tip.reference) == [
            (OFFICER_ID, "tip.acknowledged"),
            (SECOND_OFFICER_ID, "tip.actioned"),
        ]


async def test_reply_relays_to_the_resident_and_their_answer_lands_in_the_same_thread(database_url, clock):
    async with officer_app(database_url, clock=clock) as app, app.delivering():
        resident, tip, card = await tip_in_the_queue(app, "Someone trying car doors on Eastgate Street")
        seen = len(app.slack.views)
        await press(app, OFFICER_ID, card, "reply", tip.reference)
        modal = await app.next_modal(OFFICER_ID, seen)
        assert modal["callback_id"] == "tip_reply" and "trying car doors" in json.dumps(modal["blocks"])
        assert (OFFICER_ID, "tip.view") in await audited(app, tip.reference)  # showing the tip is an audited view

        empty = await app.simulated.view_submission(OFFICER_ID, modal["id"], {"reply": {"value": "   "}})
        assert empty.json()["response_action"] == "errors" and set(empty.json()["errors"]) == {"reply"}
        too_long = await app.simulated.view_submission(OFFICER_ID, modal["id"], {"reply": {"value": "x" * 2001}})
        assert "the most is 2000" in too_long.json()["errors"]["reply"]
        assert await rows(app, sa.select(tip_notes)) == []  # nothing kept, nothing sent

        sent = await app.simulated.view_submission(
            OFFICER_ID, modal["id"], {"reply": {"value": "Thank you. Which way did they go? <!here>"}}
        )
        assert sent.status_code == 200 and sent.content == b"" and app.slack.open_views(OFFICER_ID) == []
        relayed = await eventually(
            lambda: [s for s in app.telegram.sent if "Which way did they go?" in s.message.text],
            what="the reply reaching the resident",
        )
        assert relayed[0].to == resident.address and tip.reference in relayed[0].message.text
        assert OFFICER_ID not in relayed[0].message.text  # the tipster never sees the officer's id
        kinds = await rows(
            app,
            sa.select(messages.c.kind)
            .join(deliveries, deliveries.c.message_id == messages.c.id)
            .where(deliveries.c.address == str(resident.address))
            .order_by(messages.c.id),
        )
        # The first officer action on a tip also tells the tipster it was seen (once), queued before the reply.
        assert [k.kind for k in kinds] == [MessageKind.TIP_SEEN.value, MessageKind.REPLY_TO_TIPSTER.value]
        note = await eventually(
            lambda: [
                m for m in app.slack.messages_in(TIPS_CHANNEL_ID, thread_ts=card.thread_ts) if "replied to" in m.text
            ],
            what="the reply noted in the thread",
        )
        assert "<@U01OFFICER1> *replied to Anonymous tipster" in note[0].text and "&lt;!here&gt;" in note[0].text

        await app.lookout.tips.answer(resident.address, tip.reference, "Towards the park")
        answer = await eventually(
            lambda: [m for m in app.slack.messages_in(TIPS_CHANNEL_ID) if "Towards the park" in m.text],
            timeout=15,
            what="the resident's answer in Slack",
        )
        assert answer[0].thread_ts == card.thread_ts and buttons(answer[0]) == [f"tipq:reply:{tip.reference}"]
        assert [a for _, a in await audited(app, tip.reference)] == ["tip.view", "tip.reply"]


async def seen_messages(app, resident) -> list:
    return [s for s in app.telegram.sent if s.to == resident.address and "has seen your information" in s.message.text]


async def test_acknowledging_tells_the_tipster_once_that_an_officer_has_seen_it_never_who(database_url, clock):
    async with officer_app(database_url, clock=clock) as app, app.delivering():
        resident, tip, card = await tip_in_the_queue(app, "A man in a blue hoodie checking car doors")
        await press(app, OFFICER_ID, card, "ack", tip.reference)
        told = await eventually(lambda: seen_messages(app, resident) or None, what="the tipster told it was seen")
        (message,) = told
        assert (
            message.message.text == f"An officer has seen your information ({tip.reference}). Thank you for sending it."
        )
        assert OFFICER_ID not in message.message.text and "U01" not in message.message.text

        # Actioned by a colleague, then a reply: the tipster hears the reply, but "seen" only the once.
        await press(app, SECOND_OFFICER_ID, card, "done", tip.reference)
        await eventually(lambda: "Actioned* by" in current(app, card).text, what="the redraw")
        await app.lookout.tips.reply(tip.reference, OFFICER_ID, "Thank you, we have found the car.")
        await eventually(
            lambda: [s for s in app.telegram.sent if "we have found the car" in s.message.text],
            what="the reply reaching the resident",
        )
        assert len(await seen_messages(app, resident)) == 1
        kinds = await rows(
            app,
            sa.select(messages.c.kind)
            .join(deliveries, deliveries.c.message_id == messages.c.id)
            .where(deliveries.c.address == str(resident.address))
            .order_by(messages.c.id),
        )
        assert [k.kind for k in kinds] == [MessageKind.TIP_SEEN.value, MessageKind.REPLY_TO_TIPSTER.value]
        (row,) = await rows(app, sa.select(tips_table.c.seen_told_at))
        assert row.seen_told_at is not None


async def test_a_tip_marked_spam_tells_the_tipster_nothing(database_url, clock):
    async with officer_app(database_url, clock=clock) as app, app.delivering():
        resident, tip, _card = await tip_in_the_queue(app, "nonsense again")
        await app.lookout.tips.set_state(tip.reference, OFFICER_ID, TipState.SPAM)
        with_tip = await rows(app, sa.select(tips_table.c.state, tips_table.c.seen_told_at))
        assert [(r.state, r.seen_told_at) for r in with_tip] == [(TipState.SPAM.value, None)]
        assert (
            await rows(app, sa.select(deliveries.c.id).where(deliveries.c.address == str(resident.address))) == []
        )  # nothing queued to the tipster


async def test_spam_and_block_closes_the_tip_and_keeps_the_tipsters_next_tip_out(database_url, clock):
    async with officer_app(database_url, clock=clock) as app, app.delivering():
        resident, tip, card = await tip_in_the_queue(app, "nonsense")
        seen = len(app.slack.views)
        await press(app, OFFICER_ID, card, "spam", tip.reference)
        modal = await app.next_modal(OFFICER_ID, seen)
        assert modal["callback_id"] == "tip_spam" and "future tips out of the queue" in json.dumps(modal["blocks"])
        assert (await rows(app, sa.select(tips_table.c.state)))[0].state == TipState.NEW.value  # asking changes nothing

        done = await app.simulated.view_submission(OFFICER_ID, modal["id"], {"block_tipster": {"value": ["block"]}})
        assert done.status_code == 200 and done.content == b""
        await eventually(lambda: "Marked as spam* by <@U01OFFICER1>" in current(app, card).text, what="the redraw")
        assert "tipster blocked" in current(app, card).text and buttons(current(app, card)) == []

        posted = len(app.slack.messages_in(TIPS_CHANNEL_ID))
        later = await app.lookout.tips.submit(resident.address, NewTip("more nonsense"))
        assert later.state is TipState.SPAM
        await asyncio.sleep(1.5)  # a thread wait and then some: the worker would have posted it by now
        assert len(app.slack.messages_in(TIPS_CHANNEL_ID)) == posted
        ((detail,),) = await rows(app, sa.select(audit_log.c.detail).where(audit_log.c.action == "tip.spam"))
        assert detail == {"blocked_tipster": True}

        await press(app, SECOND_OFFICER_ID, card, "spam", tip.reference)  # a stale press: no second modal
        await eventually(lambda: any("already marked as spam" in t for t in app.ephemeral_texts(SECOND_OFFICER_ID)))
        assert app.slack.open_views(SECOND_OFFICER_ID) == []


async def test_spam_without_blocking_leaves_the_tipster_heard(database_url, clock):
    async with officer_app(database_url, clock=clock) as app, app.delivering():
        resident, tip, card = await tip_in_the_queue(app, "a joke")
        seen = len(app.slack.views)
        await press(app, OFFICER_ID, card, "spam", tip.reference)
        modal = await app.next_modal(OFFICER_ID, seen)
        await app.simulated.view_submission(OFFICER_ID, modal["id"], {"block_tipster": {"value": []}})
        await eventually(lambda: "Marked as spam*" in current(app, card).text, what="the redraw")
        assert "tipster blocked" not in current(app, card).text
        later = await app.lookout.tips.submit(resident.address, NewTip("a real one this time"))
        assert later.state is TipState.NEW
        await eventually(
            lambda: any("a real one this time" in m.text for m in app.slack.messages_in(TIPS_CHANNEL_ID)),
            timeout=15,
            what="the next tip in the queue",
        )


async def test_someone_not_an_officer_is_refused_politely_audited_and_nothing_changes(database_url, clock):
    async with officer_app(database_url, clock=clock) as app, app.delivering():
        _, tip, card = await tip_in_the_queue(app)
        for action in ("ack", "reply", "done", "spam"):
            await press(app, STAFF_ID, card, action, tip.reference)
        await eventually(lambda: len(app.ephemeral_texts(STAFF_ID)) == 4, what="four refusals")
        assert all(
            "only officers listed in SLACK_OFFICER_IDS can work tips" in t for t in app.ephemeral_texts(STAFF_ID)
        )
        assert app.slack.open_views(STAFF_ID) == []
        refused = await rows(
            app, sa.select(audit_log.c.actor, audit_log.c.detail).where(audit_log.c.action == "refused")
        )
        assert {(r.actor, r.detail["attempted"]) for r in refused} == {
            (STAFF_ID, "tip.ack"),
            (STAFF_ID, "tip.reply"),
            (STAFF_ID, "tip.done"),
            (STAFF_ID, "tip.spam"),
        }

        # A forged submission of the reply modal: refused on the form, audited, nothing relayed.
        metadata = json.dumps(
            {"ref": tip.reference, "channel": TIPS_CHANNEL_ID, "ts": card.ts, "thread_ts": card.thread_ts}
        )
        forged = await app.simulated.view_submission(
            STAFF_ID, "VFORGED0001", {"reply": {"value": "hello"}}, private_metadata=metadata, callback_id="tip_reply"
        )
        assert "only officers" in forged.json()["errors"]["reply"]
        await eventually(
            lambda: rows(
                app, sa.select(audit_log).where(audit_log.c.action == "refused", audit_log.c.subject == tip.reference)
            ),
            what="the audit",
        )
        # Refusals are counted per (who, what, hour): the forged reply adds to the reply's count, not a sixth audit row.
        refusals = await rows(app, sa.select(audit_log.c.source).where(audit_log.c.action == "refused"))
        assert len(refusals) == 4 and {r.source for r in refusals} == {"slack"}

        async def all_counted() -> dict | None:  # the counts are written after each refusal is answered
            found = dict(
                await rows(
                    app,
                    sa.select(refused_attempts.c.action, refused_attempts.c.count).where(
                        refused_attempts.c.actor == STAFF_ID
                    ),
                )
            )
            return found if sum(found.values()) >= 5 else None

        counted = await eventually(lambda: all_counted(), what="the refusals counted")
        assert counted == {"tip.ack": 1, "tip.reply": 2, "tip.done": 1, "tip.spam": 1}
        assert (await rows(app, sa.select(tips_table.c.state)))[0].state == TipState.NEW.value
        assert await rows(app, sa.select(tip_notes)) == []
        assert not [m for m, _ in app.slack.calls if m == "chat.update"]


async def test_slack_retrying_a_press_or_a_reply_never_does_it_twice(database_url, clock):
    async with officer_app(database_url, clock=clock) as app, app.delivering():
        resident, tip, card = await tip_in_the_queue(app)
        await press(app, OFFICER_ID, card, "ack", tip.reference)
        pressed = app.slack.interactions[-1]
        again = await app.simulated.post_signed(
            urlencode({"payload": json.dumps(pressed.body)}), "application/x-www-form-urlencoded", headers=RETRY
        )
        assert again.status_code == 200
        await eventually(lambda: "Acknowledged*" in current(app, card).text, what="the redraw")
        await asyncio.sleep(0.3)
        assert not app.ephemeral_texts(OFFICER_ID)  # the retry was dropped, not refused as "already acknowledged"
        assert [a for _, a in await audited(app, tip.reference)] == ["tip.acknowledged"]

        seen = len(app.slack.views)
        await press(app, OFFICER_ID, card, "reply", tip.reference)
        modal = await app.next_modal(OFFICER_ID, seen)
        await app.simulated.view_submission(
            OFFICER_ID, modal["id"], {"reply": {"value": "Thank you — is the van still there?"}}
        )
        submitted = app.slack.interactions[-1]
        again = await app.simulated.post_signed(
            urlencode({"payload": json.dumps(submitted.body)}), "application/x-www-form-urlencoded", headers=RETRY
        )
        assert again.status_code == 200
        await eventually(lambda: [s for s in app.telegram.sent if "still there" in s.message.text], what="the reply")
        await asyncio.sleep(0.5)
        assert len(await rows(app, sa.select(tip_notes))) == 1
        # One reply (and the one "an officer has seen your information" the acknowledgement sent), never two.
        to_tipster = [s.message.text for s in app.telegram.sent if s.to == resident.address]
        assert len(to_tipster) == 2 and sum("still there" in t for t in to_tipster) == 1


async def test_an_anonymous_tip_shows_nothing_that_links_it_to_the_same_residents_named_tips(
    database_url, tmp_path, clock
):
    """Post, buttons, modals' metadata, thread: one resident's anonymous tips share a keyed pseudonym of their
    own, never the one beside their name on the tips where they agreed to be contacted (nor an id or address)."""
    async with (
        officer_app(database_url, force=force_config(tmp_path, tips_per_minute=10), clock=clock) as app,
        app.delivering(),
    ):
        resident, secret_tip, secret_card = await tip_in_the_queue(app, "The man at number 9 deals from his garage")
        named = await app.lookout.tips.submit(
            resident.address,
            NewTip("Lost dog on Eastgate Street", may_contact=True, contact="Sam Jones (@samj) on Telegram"),
        )
        again = await app.lookout.tips.submit(resident.address, NewTip("He is at it again tonight"))
        named_card = await eventually(
            lambda: next((m for m in app.slack.messages_in(TIPS_CHANNEL_ID) if named.reference in m.text), None),
            timeout=15,
            what="the named tip",
        )
        again_card = await eventually(
            lambda: next((m for m in app.slack.messages_in(TIPS_CHANNEL_ID) if again.reference in m.text), None),
            timeout=15,
            what="the second one",
        )
        # The anonymous tip's whole life in Slack: a reply (its modal), the tipster's answer, the spam modal.
        seen = len(app.slack.views)
        await press(app, OFFICER_ID, secret_card, "reply", secret_tip.reference)
        reply_modal = await app.next_modal(OFFICER_ID, seen)
        await app.simulated.view_submission(OFFICER_ID, reply_modal["id"], {"reply": {"value": "Which garage?"}})
        await eventually(lambda: [s for s in app.telegram.sent if "Which garage?" in s.message.text], what="the reply")
        await app.lookout.tips.answer(resident.address, secret_tip.reference, "The blue one")
        await eventually(
            lambda: [m for m in app.slack.messages_in(TIPS_CHANNEL_ID) if "The blue one" in m.text],
            timeout=15,
            what="the answer in the thread",
        )
        seen = len(app.slack.views)
        await press(app, OFFICER_ID, secret_card, "spam", secret_tip.reference)
        spam_modal = await app.next_modal(OFFICER_ID, seen)

        anonymous_refs = (secret_tip.reference, again.reference)
        shown_on_anonymous = json.dumps(
            [
                [m.text, m.blocks]
                for m in app.slack.messages_in(TIPS_CHANNEL_ID)
                if any(ref in m.text for ref in anonymous_refs) and named.reference not in m.text
            ]
            + [reply_modal, spam_modal]
        )
        shown_on_named = json.dumps([named_card.text, named_card.blocks])
        assert "Sam Jones" in shown_on_named and named.tipster in shown_on_named
        assert (
            named.tipster not in shown_on_anonymous
            and "Sam Jones" not in shown_on_anonymous
            and "samj" not in shown_on_anonymous
        )
        assert secret_tip.tipster not in shown_on_named
        # Several anonymous tips from one source are seen as one source, with a key no one can try ids against.
        assert secret_tip.tipster == again.tipster and secret_tip.tipster in again_card.text
        assert secret_tip.tipster in shown_on_anonymous and "Anonymous tipster" in secret_card.text
        for token in (str(resident.address), resident.address.id):
            assert token not in shown_on_anonymous
        assert not re.search(
            rf"(?<![\w-]){resident.id}(?![\w-])",
            json.dumps([reply_modal["private_metadata"], spam_modal["private_metadata"]]),
        )
        # The old unkeyed pseudonym (a hash anyone can compute from the resident id) is nowhere.
        old = "Tipster " + hashlib.sha256(f"lookout-tipster:{resident.id}".encode()).hexdigest()[:6].upper()
        assert old not in shown_on_anonymous and old not in shown_on_named


async def test_refusals_in_a_loop_are_counted_not_appended_and_audit_rows_say_they_came_from_slack(database_url, clock):
    async with officer_app(database_url, clock=clock) as app, app.delivering():
        _, tip, card = await tip_in_the_queue(app)
        for _ in range(12):
            await press(app, STAFF_ID, card, "ack", tip.reference)
        await eventually(lambda: len(app.ephemeral_texts(STAFF_ID)) == 12, what="twelve polite refusals")
        await press(app, OFFICER_ID, card, "ack", tip.reference)
        await eventually(lambda: "Acknowledged*" in current(app, card).text, what="the redraw")
        refused = await rows(
            app, sa.select(audit_log.c.actor, audit_log.c.source).where(audit_log.c.action == "refused")
        )
        assert [(r.actor, r.source) for r in refused] == [(STAFF_ID, "slack")]
        (counted,) = await rows(app, sa.select(refused_attempts))
        assert (counted.actor, counted.action, counted.count, counted.source) == (STAFF_ID, "tip.ack", 12, "slack")
        assert counted.hour.minute == 0 and counted.hour.second == 0
        (done,) = await rows(app, sa.select(audit_log.c.source).where(audit_log.c.action == "tip.acknowledged"))
        assert done.source == "slack"


async def test_erasure_takes_the_tipsters_name_off_their_posts_and_keeps_what_they_saw(database_url, clock):
    async with officer_app(database_url, clock=clock) as app, app.delivering():
        resident, tip, card = await tip_in_the_queue(
            app, "Blue car, reg AB12 CDE", may_contact=True, contact="Sam Jones (@samj) on Telegram"
        )
        _, _anonymous, anonymous_card = await tip_in_the_queue(app, "Someone else's anonymous tip")
        assert "Sam Jones" in card.text
        assert await app.lookout.subscriptions.erase(resident.address)
        await eventually(lambda: "erased their data" in current(app, card).text, timeout=15, what="the post redacted")
        redacted = current(app, card)
        assert "Blue car, reg AB12 CDE" in redacted.text and tip.reference in redacted.text
        assert "Sam Jones" not in json.dumps([redacted.text, redacted.blocks]) and "samj" not in redacted.text
        assert buttons(redacted) == [] and redacted.thread_ts == card.thread_ts
        assert current(app, anonymous_card).text == anonymous_card.text  # nobody else's post is touched
        (kept,) = await rows(app, sa.select(messages.c.body).where(messages.c.kind == MessageKind.TIP_REDACTION.value))
        edit_made = (
            sa.select(deliveries.c.id)
            .join(messages, messages.c.id == deliveries.c.message_id)
            .where(messages.c.kind == MessageKind.TIP_REDACTION.value, deliveries.c.state == "sent")
        )
        await eventually(lambda: rows(app, edit_made), what="the edit recorded as made")
        await app.lookout.maintenance.purge_expired_data()  # the copy made for the edit goes once the edit is made
        (cleared,) = await rows(
            app, sa.select(messages.c.body).where(messages.c.kind == MessageKind.TIP_REDACTION.value)
        )
        assert "Blue car" in kept.body and cleared.body is None


NAMED = dict(may_contact=True, contact="Sam Jones (@samj) on Telegram")


def tip_posts_saying(app, text: str) -> list[SlackMessage]:
    return [m for m in app.slack.messages_in(TIPS_CHANNEL_ID) if text in m.text]


def without_the_tipster(post: SlackMessage) -> bool:
    shown = json.dumps([post.text, post.blocks])
    return "erased their data" in post.text and "Sam Jones" not in shown and "samj" not in shown


async def test_a_tip_still_queued_when_its_tipster_is_erased_goes_without_them(database_url, clock):
    async with officer_app(database_url, clock=clock) as app:
        (resident,) = await add_residents(app.lookout.uow, resident_at(*STAFFORD))
        tip = await app.lookout.tips.submit(
            resident.address,
            NewTip("Blue car, reg AB12 CDE", photos=[TipPhoto("car.jpg", "image/jpeg", b"\xff\xd8")], **NAMED),
        )
        assert await app.lookout.subscriptions.erase(resident.address)  # before the worker has posted it
        post_recorded = (
            sa.select(deliveries.c.id)
            .join(messages, messages.c.id == deliveries.c.message_id)
            .where(messages.c.kind == MessageKind.TIP_TO_OFFICERS.value, deliveries.c.state == "sent")
        )
        async with app.delivering():
            (post,) = await eventually(
                lambda: tip_posts_saying(app, "Blue car, reg AB12 CDE"), timeout=15, what="the tip's post"
            )
            # Slack has it before the worker has its answer: stopping the worker now would leave the row to send again.
            await eventually(lambda: rows(app, post_recorded), what="the post recorded as sent")
        assert without_the_tipster(post) and tip.reference in post.text and buttons(post) == []
        assert post.is_reply  # still in its thread
        assert "1 photo erased with the tipster's data before they were posted" in post.text and not post.files
        assert not [c for c in app.slack.calls if "Sam Jones" in json.dumps(c)]  # never sent anywhere with their name
        # The text it went as was kept only until it was posted: the hourly retention job clears it.
        await app.lookout.maintenance.purge_expired_data()
        kept = await rows(
            app,
            sa.select(messages.c.body).where(
                messages.c.kind == MessageKind.TIP_TO_OFFICERS.value, messages.c.body.is_not(None)
            ),
        )
        assert kept == []


async def test_a_tip_being_posted_when_its_tipster_is_erased_is_rewritten_as_it_lands(database_url, clock):
    async with officer_app(database_url, clock=clock) as app, app.delivering():
        await tip_in_the_queue(app, "Someone else's tip, which opens the day's thread")
        (resident,) = await add_residents(app.lookout.uow, resident_at(*STAFFORD))
        app.slack.app.set(latency_seconds=5)  # Slack slow to answer: the post is on the wire while the erasure runs
        tip = await app.lookout.tips.submit(resident.address, NewTip("Blue car, reg AB12 CDE", **NAMED))
        await eventually(lambda: app.slack.app.injected().get("latency"), what="the tip's post on its way")
        assert await app.lookout.subscriptions.erase(resident.address)
        assert tip_posts_saying(app, "Blue car") == []  # it had not landed: this is the post in flight
        app.slack.app.set(latency_seconds=0)
        (landed,) = await eventually(lambda: tip_posts_saying(app, "Blue car"), timeout=15, what="the post to land")
        assert "Sam Jones" in landed.text  # drawn before the erasure, so it went with their name...
        await eventually(
            lambda: without_the_tipster(current(app, landed)), timeout=15, what="the post rewritten"
        )  # ...and is rewritten
        rewritten = current(app, landed)
        assert (
            "Blue car, reg AB12 CDE" in rewritten.text and tip.reference in rewritten.text and buttons(rewritten) == []
        )


async def test_after_an_erasure_sqlite_keeps_no_readable_copy_in_the_database_or_its_wal(
    sqlite_template, tmp_path, clock
):
    # About SQLite's own files, so on SQLite alone (PostgreSQL's vacuum is its own business: docs/privacy.md).
    shutil.copy(sqlite_template, tmp_path / "erasure.db")
    database_url = f"sqlite:///{tmp_path / 'erasure.db'}"
    async with officer_app(database_url, clock=clock) as app, app.delivering():
        resident, tip, card = await tip_in_the_queue(
            app, "Saw it happen", may_contact=True, contact="Zebedee Quux (@zquux)"
        )
        await press(app, OFFICER_ID, card, "reply", tip.reference)
        modal = await app.next_modal(OFFICER_ID, 0)
        await app.simulated.view_submission(OFFICER_ID, modal["id"], {"reply": {"value": "Xylophone question?"}})
        await eventually(lambda: [s for s in app.telegram.sent if "Xylophone" in s.message.text], what="the reply")
        await app.lookout.tips.answer(resident.address, tip.reference, "Quokka answer")
        await eventually(
            lambda: [m for m in app.slack.messages_in(TIPS_CHANNEL_ID) if "Quokka" in m.text], what="the answer"
        )
        path = Path(make_url(database_url).database)

        def raw() -> bytes:
            return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())

        assert b"zquux" in raw() and b"Quokka answer" in raw()  # the check can see them while they are held
        assert await app.lookout.subscriptions.erase(resident.address)
        for gone in (b"zquux", b"Zebedee", b"Quokka answer", b"Xylophone question", str(resident.address).encode()):
            assert gone not in raw(), gone
