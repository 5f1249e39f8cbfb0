"""Pictures residents text with tips (MMS): fetched from the provider, with the account's credentials, when the tip is sent.

Every picture of a message (``MediaUrl0`` up to ``NumMedia``, at most ten) is fetched, each at most
``MAX_MEDIA_BYTES`` and an image by its content type; a tip keeps at most ``MAX_PHOTOS`` (core/services/tips.py).
"""

from __future__ import annotations

from bots.sms.twilio_api import TwilioApi, TwilioError
from core.conversation.turn import PhotoGone
from core.model import TipPhoto

_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/heic": ".heic",
}


class SmsPhotos:
    """The conversation's ``PhotoSource`` for the ``MediaUrl`` of an inbound MMS."""

    def __init__(self, api: TwilioApi) -> None:
        self._api = api

    async def fetch(self, ref: str, number: int) -> TipPhoto:
        try:
            data, mime_type = await self._api.download(ref)
        except TwilioError as exc:
            # Deleted from the account, too large, or not the provider's URL at all: gone, as far as the tip goes.
            if exc.http_status in (400, 403, 404, 410, 413):
                raise PhotoGone(ref) from exc
            raise
        if not mime_type.startswith("image/"):
            raise PhotoGone(
                ref
            )  # the provider's file is not a picture after all (the message said it was): not attached
        return TipPhoto(name=f"photo-{number}{_EXTENSIONS.get(mime_type, '.jpg')}", content_type=mime_type, data=data)
