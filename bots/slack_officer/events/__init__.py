"""Events API: a mention of the app gets a short guide in its thread."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bots.slack_officer.events.mention import app_mentioned


def register(app: AsyncApp) -> None:
    app.event("app_mention")(app_mentioned)
