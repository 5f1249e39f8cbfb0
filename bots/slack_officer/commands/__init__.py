"""Slash commands: ``/alert`` and its sub-commands."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bots.slack_officer.commands.alert import COMMAND, alert_command


def register(app: AsyncApp) -> None:
    app.command(COMMAND)(alert_command)
