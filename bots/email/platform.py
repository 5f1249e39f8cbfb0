"""Email as the composition root sees it: the SMTP adapter from the settings, the ``/subscribe`` pages on the app."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from core.model import Channel
from core.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bots.email.adapter import EmailAdapter
    from bots.platform import Background, Host
    from core.force import ForceConfig
    from core.outbound import ChannelAdapter


class EmailPlatform:
    channel = Channel.EMAIL

    def build_adapter(self, settings: Settings, *, force: ForceConfig, engine: AsyncEngine) -> EmailAdapter | None:
        """Email signs its links in the force's name and keeps its bounce counts in the database."""
        if not (settings.smtp_url and settings.link_secret):
            return None
        from bots.email.adapter import EmailAdapter
        from bots.email.links import LinkSigner
        from bots.email.mailer import Mailer, SmtpTarget
        from storage.bounces import SqlBounceCounts

        return EmailAdapter(
            Mailer(SmtpTarget.from_url(settings.smtp_url.get_secret_value())),
            LinkSigner.from_settings(settings),
            SqlBounceCounts(engine),
            sender=settings.email_from,
            force_name=force.name,
            per_second=settings.email_per_second,
            bounce_limit=settings.email_bounce_limit,
        )

    def mount(self, app: FastAPI, host: Host, adapter: ChannelAdapter) -> Sequence[Background]:
        """The sign-up, manage, tip and unsubscribe pages; the queued manage-link emails go out beside the app."""
        from bots.email.pages import add_subscribe_pages

        return (add_subscribe_pages(app, host),)


PLATFORM = EmailPlatform()
