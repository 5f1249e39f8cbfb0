"""A photo appeal from Slack: the compose form's file input, fetched through ``files.info`` and the file's
``url_private_download`` as Slack serves them (the sandbox's stand-in), on both databases."""

from __future__ import annotations

import io

import sqlalchemy as sa
from PIL import Image

from sandbox.slack_workspace import OFFICER_ID
from storage.tables import alert_photos, alerts
from tests.support.residents import STAFFORD, add_residents, resident_at
from tests.support.slack_officer import card_text, eventually, officer_app


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (20, 120, 60)).save(out, "PNG")
    return out.getvalue()


async def stored(app, table) -> list:
    async with app.lookout.engine.connect() as conn:
        return (await conn.execute(sa.select(table))).all()


async def test_a_photo_attached_in_the_form_goes_out_with_the_alert(database_url, clock):
    async with officer_app(database_url, clock=clock) as app:
        await add_residents(app.lookout.uow, resident_at(*STAFFORD, topics=frozenset({"missing"})))
        attached = app.simulated.attach_file(OFFICER_ID, png(), "sam.png")
        card = await app.raise_alert(photo=[attached])
        (photo,) = await stored(app, alert_photos)
        assert photo.content_type == "image/jpeg" and photo.data[:2] == b"\xff\xd8" and photo.width == 800
        fetched = [params for method, params in app.slack.calls if method == "files.info"]
        assert fetched and fetched[0]["file"] == attached  # looked up with files:read, then downloaded
        assert "*With a photo* (800 × 600" in card_text(card)
        shown = [f for f in app.slack.files.values() if f.filename.endswith("-photo.jpg") and f.completed]
        assert len(shown) == 1 and shown[0].content == photo.data  # the officers see what residents will

        async with app.delivering():
            await app.press(OFFICER_ID, card, "alert_send")
            await eventually(lambda: "Delivered in" in card_text(app.card(card)), timeout=15, what="the report")
        (sent,) = app.telegram.sent
        assert sent.message.photo is not None and sent.message.photo.data == photo.data


async def test_a_file_that_is_not_a_photo_is_marked_on_the_form_and_nothing_is_saved(database_url, clock):
    async with officer_app(database_url, clock=clock) as app:
        attached = app.simulated.attach_file(OFFICER_ID, b"%PDF-1.4 a scanned form", "form.pdf")
        modal = await app.open_compose()
        answer = await app.submit(OFFICER_ID, modal["id"], photo=[attached], headline="")
        assert answer.status_code == 200
        errors = answer.json()["errors"]
        assert "not a picture Lookout can read" in errors["photo"]
        assert "headline" in errors  # every mistake at once, the photo's with the rest
        assert await stored(app, alerts) == [] and await stored(app, alert_photos) == []


async def test_without_the_files_read_scope_the_form_says_what_an_administrator_must_do(database_url, clock):
    async with officer_app(database_url, clock=clock) as app:
        app.slack.scopes.discard("files:read")  # an app installed before photo appeals
        attached = app.simulated.attach_file(OFFICER_ID, png(), "sam.png")
        modal = await app.open_compose()
        answer = await app.submit(OFFICER_ID, modal["id"], photo=[attached])
        assert "must add the files:read scope" in answer.json()["errors"]["photo"]
        assert await stored(app, alerts) == []
