"""Buttons: the alert card's Send, Approve, Edit and Discard, and once sent Update, Resolved, Cancel and Report; a tip's Acknowledge, Reply, Mark actioned and Mark spam;
the compose modal's "Start from a template"."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bots.slack_officer.actions.card import (
    approve_pressed,
    cancel_pressed,
    discard_pressed,
    edit_pressed,
    report_pressed,
    resolve_pressed,
    send_pressed,
    update_pressed,
)
from bots.slack_officer.actions.compose import template_chosen
from bots.slack_officer.actions.tips import (
    ACK,
    DONE,
    REPLY,
    SPAM,
    acknowledge_pressed,
    done_pressed,
    reply_pressed,
    spam_pressed,
)
from bots.slack_officer.blocks.cards import APPROVE, CANCEL, DISCARD, EDIT, REPORT, RESOLVE, SEND, UPDATE
from bots.slack_officer.blocks.compose import TEMPLATE


def register(app: AsyncApp) -> None:
    app.action(SEND)(send_pressed)
    app.action(APPROVE)(approve_pressed)
    app.action(EDIT)(edit_pressed)
    app.action(DISCARD)(discard_pressed)
    app.action(UPDATE)(update_pressed)
    app.action(RESOLVE)(resolve_pressed)
    app.action(CANCEL)(cancel_pressed)
    app.action(REPORT)(report_pressed)
    # A tip's buttons carry its reference in the action_id (tipq:<action>:<reference>), so they match by pattern.
    app.action(ACK)(acknowledge_pressed)
    app.action(REPLY)(reply_pressed)
    app.action(DONE)(done_pressed)
    app.action(SPAM)(spam_pressed)
    # Every compose input's action_id is the same; the template select is the only one that dispatches.
    app.action({"block_id": TEMPLATE})(template_chosen)
