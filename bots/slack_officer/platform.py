"""The officers' Slack app as the composition root sees it: the adapter from the settings, ``/slack/events`` on the app."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from core.model import Channel
from core.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bots.platform import Background, Host
    from bots.slack_officer.adapter import SlackAdapter
    from core.force import ForceConfig
    from core.outbound import ChannelAdapter


class SlackPlatform:
    channel = Channel.SLACK

    def build_adapter(self, settings: Settings, *, force: ForceConfig, engine: AsyncEngine) -> SlackAdapter | None:
        if not (settings.slack_bot_token and settings.slack_signing_secret):
            return None
        from bots.slack_officer.adapter import SlackAdapter, make_client

        return SlackAdapter(make_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_base))

    def mount(self, app: FastAPI, host: Host, adapter: ChannelAdapter) -> Sequence[Background]:
        """The slash command, buttons and forms; the status board (keeping sent alerts' cards current) runs beside the app."""
        from bots.map_tiles.configured import tile_client
        from bots.slack_officer.adapter import SlackAdapter
        from bots.slack_officer.app import add_slack_route, build_slack_officer
        from core.services.roles import Roles

        assert isinstance(adapter, SlackAdapter) and host.settings.slack_signing_secret is not None
        officer = build_slack_officer(
            client=adapter.client,
            signing_secret=host.settings.slack_signing_secret.get_secret_value(),
            alerts=host.alerts,
            force=host.force,
            geocoder=host.geocoder,
            roles=Roles(officers=host.settings.officer_ids, supervisors=host.settings.supervisor_ids),
            tips=host.tips,
            uow=host.uow,
            clock=host.clock,
            tiles=tile_client(host.settings, host.force),
        )
        add_slack_route(app, officer, inbound=host.inbound)
        return (officer,)


PLATFORM = SlackPlatform()
