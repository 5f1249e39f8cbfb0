"""Modal submissions: compose (new or edited alert), update, resolve and cancel; a tip's reply and spam confirmation."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bots.slack_officer.blocks.compose import CALLBACK_ID as COMPOSE
from bots.slack_officer.blocks.follow_up import CANCEL_CALLBACK, RESOLVE_CALLBACK, UPDATE_CALLBACK
from bots.slack_officer.blocks.tips import REPLY_CALLBACK, SPAM_CALLBACK
from bots.slack_officer.views.compose import compose_submitted
from bots.slack_officer.views.follow_up import cancel_submitted, resolve_submitted, update_submitted
from bots.slack_officer.views.tip_reply import tip_reply_submitted
from bots.slack_officer.views.tip_spam import tip_spam_submitted


def register(app: AsyncApp) -> None:
    app.view(COMPOSE)(compose_submitted)
    app.view(UPDATE_CALLBACK)(update_submitted)
    app.view(CANCEL_CALLBACK)(cancel_submitted)
    app.view(RESOLVE_CALLBACK)(resolve_submitted)
    app.view(REPLY_CALLBACK)(tip_reply_submitted)
    app.view(SPAM_CALLBACK)(tip_spam_submitted)
