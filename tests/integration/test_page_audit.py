"""What the email pages do is audited as coming from the web: the door an action came through is on its audit row."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from bots.email.links import LinkSigner
from core.model import Channel
from core.settings import Settings
from runtime.app import build, create_app
from sandbox.smtp import SmtpSink
from storage.tables import audit_log
from tests.support.residents import STAFFORD, add_residents, resident_at

SUBSCRIBER = "grace.hopper@example.org"


async def test_unsubscribing_on_the_page_is_audited_as_from_the_web(database_url: str, uow_factory, clock) -> None:
    await add_residents(uow_factory, resident_at(*STAFFORD, channel=Channel.EMAIL, ident=SUBSCRIBER))
    with SmtpSink() as sink:
        settings = Settings(
            _env_file=None,
            LOOKOUT_DATABASE_URL=database_url,
            LOOKOUT_SMTP_URL=sink.url,
            LOOKOUT_LINK_SECRET="audit-link-secret-0123456789",
            LOOKOUT_PUBLIC_URL="http://lookout.test",
            LOOKOUT_GEOCODER_DOMAIN="127.0.0.1:9",
            LOOKOUT_GEOCODER_SCHEME="http",
        )
        lookout = build(settings, clock=clock)
        try:
            link = LinkSigner.from_settings(settings).unsubscribe_url(SUBSCRIBER)
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=create_app(lookout)), base_url="http://lookout.test"
            ) as web:
                page = await web.post(link, data={})
            async with lookout.uow(read_only=True) as work:
                rows = (
                    await work.connection.execute(sa.select(audit_log.c.actor, audit_log.c.action, audit_log.c.source))
                ).all()
        finally:
            await lookout.aclose()
    assert page.status_code == 200
    assert [(r.actor, r.action, r.source) for r in rows] == [("resident", "erase", "web")]
