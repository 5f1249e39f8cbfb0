"""Pictures residents text with tips (MMS): fetched from the provider, with the account's credentials, when the tip is sent."""
from __future__ import annotations

from bots.sms.twilio_api import TwilioApi, TwilioError
from core.conversation.turn import PhotoGone
from core.model import TipPhoto

_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp", "image/heic": ".heic"}


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
        return TipPhoto(name=f"photo-{number}{_EXTENSIONS.get(mime_type, '.jpg')}", content_type=mime_type, data=data)
