"""Photo appeals, on SQLite and PostgreSQL: the photo goes out with the alert on each channel, "Resolved" (the
person found safe) reaches everyone reached and withdraws it where the platform allows, and the bytes go after the retention."""

from __future__ import annotations

import io
from datetime import timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

import httpx
import pytest
import sqlalchemy as sa
from PIL import Image

from bots.photo_files import prepare_photo
from bots.telegram.adapter import TelegramAdapter, make_bot
from bots.whatsapp.adapter import WhatsAppAdapter
from bots.whatsapp.graph import CloudApi
from core.alert_photos import photo_path
from core.cap import PhotoResource
from core.delivery.worker import DeliveryWorker
from core.errors import Conflict
from core.geo.areas import CircleArea
from core.model import AlertState, AlertType, Channel, DeliveryState
from core.outbound import OutboundMessage
from core.rendering import PHOTO_WITHDRAWN_NOTE
from core.services.alerts import AlertRequest, AlertService
from core.services.cap_feed import CapService
from core.services.maintenance import MaintenanceService, RetentionPeriods
from core.services.roles import Roles
from sandbox.telegram import TelegramLimits, TelegramStandIn
from sandbox.whatsapp import WhatsAppStandIn
from storage.tables import alert_photos, audit_log, deliveries
from tests.support.clock import FakeClock
from tests.support.residents import STAFFORD, add_residents, offset, resident_at

TOKEN = "123456:PHOTO"
OFFICER = "cli:test"
PUBLIC = "https://lookout.example.police.uk"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def service(uow_factory, force, clock) -> AlertService:
    return AlertService(uow_factory, force, roles=Roles(), clock=clock)


def jpeg_with_location(width: int = 1200, height: int = 900) -> bytes:
    """A camera JPEG that says where it was taken (EXIF GPS) and which way up it is."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° to show it upright
    exif[0x8825] = {1: "N", 2: (52.0, 48.0, 27.0), 3: "W", 4: (2.0, 7.0, 3.0)}  # GPS
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


async def send_appeal(service: AlertService, *, message: str = "Amy, 9, red coat. Last seen at 3pm.") -> str:
    draft = await service.draft(
        AlertRequest(
            incident_number="MV-20261125-0456",
            headline="Missing: Amy Smith, aged 9",
            message=message,
            area=CircleArea(*STAFFORD, 1000),
            urgency="Immediate",
            everyone=True,
            photo=prepare_photo(jpeg_with_location(), "amy.jpg"),
        ),
        OFFICER,
    )
    await service.send(draft.id, OFFICER)
    return draft.reference or ""


def worker(uow_factory, force, clock, adapters) -> DeliveryWorker:
    return DeliveryWorker(
        uow_factory, adapters, force_name=force.name, public_url=PUBLIC, clock=clock, monotonic=clock.monotonic
    )


async def delivery_states(engine) -> list[str]:
    async with engine.connect() as conn:
        return sorted((await conn.execute(sa.select(deliveries.c.state))).scalars())


def test_a_photo_is_re_encoded_upright_without_its_metadata():
    photo = prepare_photo(jpeg_with_location(1200, 900), "amy.jpg")
    assert photo.data is not None
    image = Image.open(io.BytesIO(photo.data))
    assert image.format == "JPEG"
    assert (image.width, image.height) == (900, 1200)  # turned upright
    assert not image.getexif()  # no GPS, no camera: nothing of the original's metadata
    assert photo.size == len(photo.data) and len(photo.sha256) == 64 and len(photo.token) >= 20


@pytest.mark.parametrize(
    "data, said",
    [
        (b"", "is empty"),
        (b"%PDF-1.4 not a picture", "not a picture Lookout can read"),
        (jpeg_with_location()[:700], "could not be read"),  # cut short in transit
        (b"\x00" * (5 * 1024 * 1024 + 1), "the most is 5 MB"),
    ],
    ids=["empty", "not-a-picture", "truncated", "too-big"],
)
def test_a_wrong_photo_is_refused_saying_why(data, said):
    from core.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        prepare_photo(data, "upload.jpg")
    assert said in refused.value.errors["photo"]


def test_a_picture_over_40_megapixels_is_refused_before_it_is_decoded():
    from core.errors import InvalidInput

    out = io.BytesIO()
    Image.new("1", (8000, 6000)).save(out, "PNG")  # 48 megapixels in a few kB
    with pytest.raises(InvalidInput) as refused:
        prepare_photo(out.getvalue(), "huge.png")
    assert "8000 × 6000 pixels; the most is 40 megapixels" in refused.value.errors["photo"]


def test_a_bmp_is_refused_with_the_formats_lookout_takes():
    from core.errors import InvalidInput

    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, "BMP")
    with pytest.raises(InvalidInput) as refused:
        prepare_photo(out.getvalue(), "scan.bmp")
    assert "Lookout takes JPEG, PNG, WebP, GIF" in refused.value.errors["photo"]


async def test_telegram_gets_the_photo_with_its_caption_and_the_resolution_deletes_it(
    uow_factory, engine, force, clock, service
):
    people = [resident_at(*offset(*STAFFORD, north_m=50 * i)) for i in range(2)]
    await add_residents(uow_factory, *people)
    with TelegramStandIn(TOKEN, limits=TelegramLimits(per_chat_interval=None)) as telegram:
        adapter = TelegramAdapter(make_bot(TOKEN, telegram.base_url))
        try:
            reference = await send_appeal(service)
            await worker(uow_factory, force, clock, {Channel.TELEGRAM: adapter}).run_until_idle()
            photos = [s for s in telegram.sent if s.kind == "photo"]
            assert len(photos) == 2 and len(telegram.sent) == 2  # one message each: the photo, captioned
            assert all("Missing: Amy Smith, aged 9" in p.visible for p in photos)
            assert all(p.reply_markup for p in photos)  # the "I have information" button under the picture

            clock.advance(hours=3)
            result = await service.resolve(reference, OFFICER, message="Amy has been found safe and well.")
            assert result.alert.type is AlertType.RESOLVED and sum(result.recipients.values()) == 2
            await worker(uow_factory, force, clock, {Channel.TELEGRAM: adapter}).run_until_idle()
        finally:
            await adapter.aclose()
        assert all(p.deleted for p in photos)  # within 48 hours: the photo is gone from their chats
        told = [s for s in telegram.sent if s.kind == "text"]
        assert len(told) == 2 and all("✅ Resolved —" in s.visible for s in told)
        assert all("found safe and well" in s.visible for s in told)
        assert PHOTO_WITHDRAWN_NOTE not in told[0].visible  # Telegram took it back itself
    assert (await service.get(reference)).state is AlertState.RESOLVED
    assert set(await delivery_states(engine)) == {DeliveryState.SENT.value}


async def test_a_long_appeal_goes_as_photo_then_text_and_an_old_photo_gets_a_new_caption(
    uow_factory, engine, force, clock, service
):
    await add_residents(uow_factory, resident_at(*STAFFORD))
    long_message = "Amy was wearing a red coat and blue jeans. " * 30  # about 1,300 characters: too long for a caption
    with TelegramStandIn(TOKEN, limits=TelegramLimits(per_chat_interval=None)) as telegram:
        adapter = TelegramAdapter(make_bot(TOKEN, telegram.base_url))
        try:
            reference = await send_appeal(service, message=long_message.strip())
            await worker(uow_factory, force, clock, {Channel.TELEGRAM: adapter}).run_until_idle()
            photo, text = telegram.sent
            assert (photo.kind, text.kind) == ("photo", "text") and photo.visible == ""
            assert text.reply_markup  # the button goes with the text
            async with engine.connect() as conn:
                provider = (await conn.execute(sa.select(deliveries.c.provider_message_id))).scalar_one()
            assert provider == f"{text.message_id}/{photo.message_id}"

            clock.advance(hours=50)
            telegram.age_message(photo.chat_id, photo.message_id, 50 * 3600)
            await service.resolve(reference, OFFICER)
            await worker(uow_factory, force, clock, {Channel.TELEGRAM: adapter}).run_until_idle()
        finally:
            await adapter.aclose()
    assert not photo.deleted and "✅ RESOLVED" in photo.visible  # too old to delete: the caption says it
    assert PHOTO_WITHDRAWN_NOTE in photo.visible
    resolution = telegram.sent[-1]
    assert resolution.params.get("reply_parameters") and "This is resolved. Thank you" in resolution.visible
    assert "found safe" not in resolution.visible.lower()  # how it ended is the officer's to say


async def test_resolving_stops_what_has_not_gone_and_is_refused_twice(uow_factory, engine, force, clock, service):
    await add_residents(uow_factory, *[resident_at(*offset(*STAFFORD, north_m=40 * i)) for i in range(3)])
    reference = await send_appeal(service)
    result = await service.resolve(reference, OFFICER)
    assert result.recipients == {}  # nobody reached yet: nobody to tell
    assert await delivery_states(engine) == [DeliveryState.SKIPPED.value] * 3
    with pytest.raises(Conflict, match="is resolved and can't be resolved"):
        await service.resolve(reference, OFFICER)
    async with engine.connect() as conn:
        photo = (await conn.execute(sa.select(alert_photos))).one()
        audit = (await conn.execute(sa.select(audit_log.c.action, audit_log.c.detail))).all()
    assert photo.withdrawn_at is not None and photo.data is not None  # not served any more; kept until retention
    resolve = [detail for action, detail in audit if action == "resolve"]
    assert resolve and resolve[0]["photo_withdrawn"] is True
    draft = [detail for action, detail in audit if action == "draft"]
    assert draft[0]["photo"]["sha256"] == photo.sha256


async def test_whatsapp_gets_the_photo_as_the_header_inside_the_window_and_the_photo_template_outside(
    uow_factory, force, clock, service
):
    inside = resident_at(*STAFFORD, channel=Channel.WHATSAPP, last_inbound_at=clock() - timedelta(hours=1))
    outside = resident_at(*offset(*STAFFORD, north_m=60), channel=Channel.WHATSAPP)
    await add_residents(uow_factory, inside, outside)
    with WhatsAppStandIn(clock=lambda: clock().timestamp()) as whatsapp:  # the test's one clock
        whatsapp.open_window(inside.address.id)
        adapter = WhatsAppAdapter(CloudApi(whatsapp.access_token, whatsapp.phone_number_id, whatsapp.api_base))
        try:
            reference = await send_appeal(service)
            await worker(uow_factory, force, clock, {Channel.WHATSAPP: adapter}).run_until_idle()
            clock.advance(minutes=5)  # past the pair rate
            await service.resolve(reference, OFFICER)
            await worker(uow_factory, force, clock, {Channel.WHATSAPP: adapter}).run_until_idle()

        finally:
            await adapter.aclose()
        async with uow_factory(read_only=True) as uow:
            alert = await uow.alerts.get_by_reference(reference)
            photo = await uow.photos.of_alert(alert.id)  # type: ignore[union-attr]
        link = PUBLIC + photo_path(reference, photo.token)  # type: ignore[union-attr]
        to_inside = [m for m in whatsapp.sent if m.to == inside.address.id]
        to_outside = [m for m in whatsapp.sent if m.to == outside.address.id]
        assert to_inside[0].type == "interactive"
        assert to_inside[0].content["header"] == {"type": "image", "image": {"link": link}}
        assert to_outside[0].type == "template" and to_outside[0].content["name"] == "police_alert_photo"
        header = to_outside[0].content["components"][0]
        assert header == {"type": "header", "parameters": [{"type": "image", "image": {"link": link}}]}
        # WhatsApp can't take a message back: the resolution asks people not to share the photo.
        assert PHOTO_WITHDRAWN_NOTE in to_inside[-1].text
        assert to_outside[-1].type == "template" and to_outside[-1].content["name"] == "police_alert"
        assert PHOTO_WITHDRAWN_NOTE in to_outside[-1].text


async def test_the_photo_is_a_cap_resource_until_the_appeal_is_resolved(uow_factory, force, clock, service):
    reference = await send_appeal(service)
    cap = CapService(uow_factory, force, clock=clock, public_url=PUBLIC)
    document = (await cap.document(reference)).decode()
    async with uow_factory(read_only=True) as uow:
        photo = await uow.photos.of_alert((await uow.alerts.get_by_reference(reference)).id)  # type: ignore[union-attr]
    import hashlib

    expected = PhotoResource(
        PUBLIC + photo_path(reference, photo.token),  # type: ignore[union-attr]
        photo.size,  # type: ignore[union-attr]
        hashlib.sha1(photo.data, usedforsecurity=False).hexdigest(),  # type: ignore[union-attr,arg-type]
    )
    assert "<mimeType>image/jpeg</mimeType>" in document
    assert f"<size>{expected.size}</size>" in document and f"<uri>{expected.uri}</uri>" in document
    assert f"<digest>{expected.digest}</digest>" in document
    assert document.index("<resource>") < document.index("<area>")  # CAP's order
    resolved = await service.resolve(reference, OFFICER)
    assert "<resource>" not in (await cap.document(reference)).decode()
    notice = (await cap.document(resolved.alert.reference or "")).decode()
    assert "<msgType>Update</msgType>" in notice and "<responseType>AllClear</responseType>" in notice


async def test_the_photo_bytes_go_after_the_retention_once_the_appeal_is_over(
    uow_factory, engine, force, clock, service
):
    live = await send_appeal(service)
    over = await send_appeal(service)
    await service.resolve(over, OFFICER)
    maintenance = MaintenanceService(
        uow_factory, timezone="Europe/London", retention=RetentionPeriods(photo_days=30), clock=clock
    )
    clock.advance(days=29)
    await maintenance.purge_expired_data()
    async with engine.connect() as conn:
        assert all((await conn.execute(sa.select(alert_photos.c.data))).scalars())  # not yet
    clock.advance(days=2)  # the live one expired long ago too (alerts last at most 14 days)
    await maintenance.purge_expired_data()
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.select(alert_photos))).all()
    assert [r.data for r in rows] == [None, None] and all(r.purged_at == clock() for r in rows)
    assert all(r.sha256 and r.size for r in rows)  # the facts stay
    assert live != over


async def test_email_carries_the_picture_inline(uow_factory, force, clock):
    from bots.email.links import LinkSigner
    from bots.email.messages import email_for
    from core.outbound import Attachment

    message = OutboundMessage(
        text="Missing: Amy", photo=Attachment("appeal.jpg", "image/jpeg", b"\xff\xd8jpeg"), photo_url=PUBLIC + "/x"
    )
    links = LinkSigner("k" * 32, PUBLIC)
    email = email_for(message, "sam@example.org", sender="alerts@example.org", force_name=force.name, links=links)
    parsed = message_from_bytes(bytes(email), _class=EmailMessage, policy=default)
    parts = list(parsed.walk())
    image = next(p for p in parts if p.get_content_type() == "image/jpeg")
    html = next(p for p in parts if p.get_content_type() == "text/html").get_content()
    assert image.get_payload(decode=True) == b"\xff\xd8jpeg"
    assert f'src="cid:{image["Content-ID"].strip("<>")}"' in html
    assert any(p.get_content_type() == "multipart/related" for p in parts)


async def test_the_public_photo_address_serves_until_resolved(uow_factory, force, clock, service):
    from fastapi import FastAPI

    from bots.alert_page.routes import add_alert_pages

    reference = await send_appeal(service)
    app = FastAPI()
    add_alert_pages(app, uow=uow_factory, force=force, key=b"k" * 32)
    async with uow_factory(read_only=True) as uow:
        photo = await uow.photos.of_alert((await uow.alerts.get_by_reference(reference)).id)  # type: ignore[union-attr]
    path = photo_path(reference, photo.token)  # type: ignore[union-attr]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://lookout") as client:
        served = await client.get(path)
        assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
        assert served.content == photo.data  # type: ignore[union-attr]
        assert (await client.get(photo_path(reference, "guess" + photo.token[5:]))).status_code == 404  # type: ignore[union-attr]
        await service.resolve(reference, OFFICER)
        assert (await client.get(path)).status_code == 404


def test_an_sms_appeal_always_links_to_the_page_that_shows_the_photo(force):
    from core.outbound import MessageParts
    from core.sms_alerts import alert_sms

    parts = MessageParts(
        subject="Missing",
        heading="Police alert",
        body="Amy, 9, red coat.",
        headline="Missing: Amy Smith, aged 9",
        incident_number="MV-20261125-0456",
        contact="Call 101.",
        reference="A-2026-000001",
        tip_alert_id=1,
    )
    link = "https://lookout.example.police.uk/alerts/A-2026-000001/abc"
    assert link not in alert_sms(parts, force.name, 3, link=link)  # short enough: no link without a photo
    with_photo = alert_sms(parts, force.name, 3, link=link, photo=True)
    assert with_photo.endswith(f"Photo: {link}")
    long = alert_sms(
        parts.__class__(**{**parts.__dict__, "body": "Amy was wearing a red coat. " * 30}),
        force.name,
        2,
        link=link,
        photo=True,
    )
    assert long.endswith(f"Photo: {link}") and "..." in long  # cut to fit, and the link is the photo's
