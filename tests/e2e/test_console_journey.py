"""Issue #4's journey over HTTP, no browser: the real app, the one-port sandbox, and the console's endpoints only.

A resident who is not subscribed yet joins in Telegram by sharing a location
and picking a topic; an officer raises an alert by ``/alert`` and its modal and
sends it from the preview; the resident receives it with the incident number
and contact, presses "I have information" and sends a tip, which appears in the
Slack tips channel as a reply in the alert's thread.
"""

from __future__ import annotations

from sandbox.slack_workspace import OFFICERS_CHANNEL_ID, TIPS_CHANNEL_ID
from tests.support.console import (
    ALERT_FORM,
    CONTACT,
    INCIDENT,
    TOWN_CENTRE,
    app_with_sandbox,
    eventually,
    flatten,
    slack_text,
)


# The storage is tested on both databases elsewhere; this is about the doors, so SQLite alone.
def test_subscribe_raise_by_slash_command_receive_and_send_a_tip_into_the_slack_thread(database_url: str) -> None:
    with app_with_sandbox(database_url) as service:
        before = service.state()
        assert before["telegram"]["webhook"]["registered"] and before["counters"]["telegram"]["sent"] == 0

        # The resident joins: age, location, a label, one topic instead of everything, not a business.
        service.say("/start")
        service.tap("12 or older")
        assert service.state()["telegram"]["keyboard"]["rows"][0][0]["request_location"]
        service.share_location(*TOWN_CENTRE)
        service.bot_said("near Greengate Street, Stafford")  # the shared location, confirmed by its street
        service.tap("Home")
        service.bot_said("Which alerts would you like?")  # a reply may follow the webhook's answer: wait for it
        service.tap("Bogus callers")  # unticks All local crime: bogus callers only
        service.tap("Done")
        service.bot_said("signing up for a business")
        service.tap("I'm a resident")
        assert "Bogus callers" in flatten(service.bot_said("You're all set")["nodes"])

        # The officer: /alert, the form, then Send on the preview card.
        service.slash("/alert")
        modal = service.modal("alert_compose")
        wrong = service.submit(modal["id"], {**ALERT_FORM, "incident_number": {"value": "x"}})
        assert set(wrong["errors"]) == {"incident_number"}  # inline on its field, the modal stays open
        assert not service.submit(modal["id"], ALERT_FORM).get("errors")
        card = eventually(
            lambda: next(
                (m for m in service.slack(OFFICERS_CHANNEL_ID)["messages"] if "alert_send" in str(m["blocks"])), None
            ),
            what="the preview card",
        )
        assert "Would reach 1 resident" in slack_text(card)
        service.press(OFFICERS_CHANNEL_ID, card, "alert_send")

        alert = service.bot_said(INCIDENT, "the alert reaching the resident")
        assert CONTACT in flatten(alert["nodes"]) and alert["nodes"][0]["t"] == "b"  # the title in bold
        assert service.state()["counters"]["telegram"]["sent"] >= 1

        # The tip: "I have information", what they saw, Done, anonymous.
        service.tap("I have information")
        service.say("Two men in hi-vis knocking on doors in Eastgate Street & <b>Mill Lane</b>")
        service.bot_said("Got it. Add more")
        service.tap("Done")  # "Done — next question": it asks one more
        service.bot_said("Can officers contact you")
        service.tap("Stay anonymous")
        thanks = flatten(service.bot_said("reached the officers")["nodes"])
        reference = next(word.strip(".") for word in thanks.split() if word.startswith("T-"))

        # In Slack: the alert's thread in the tips channel, the tip a reply in it with its reference and buttons.
        def tip_in_thread():
            for root in service.slack(TIPS_CHANNEL_ID)["messages"]:
                for reply in root["replies"]:
                    if reference in slack_text(reply):
                        return root, reply
            return None

        root, tip = eventually(tip_in_thread, what="the tip in the Slack tips thread")
        assert "Tips for A-" in slack_text(root) and INCIDENT in slack_text(root)
        assert "Eastgate Street &amp; &lt;b&gt;Mill Lane&lt;/b&gt;" in tip["text"]  # shown literally in Slack
        assert f"tipq:reply:{reference}" in str(tip["blocks"])

        # A forged button press is refused at the console's door, never sent.
        assert service.console("telegram/button", {"message_id": alert["id"], "data": "tip:forged"}).status_code == 400
