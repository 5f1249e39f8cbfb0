"""Photos residents send with tips: fetched from the Cloud API's media endpoint when the tip is sent."""

from __future__ import annotations

from bots.whatsapp.graph import INVALID_PARAMETER, CloudApi, GraphError
from core.conversation.turn import PhotoGone
from core.model import TipPhoto

_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/heic": ".heic"}


class WhatsAppPhotos:
    """The conversation's ``PhotoSource`` for WhatsApp media ids."""

    def __init__(self, api: CloudApi) -> None:
        self._api = api

    async def fetch(self, ref: str, number: int) -> TipPhoto:
        try:
            data, mime_type = await self._api.download(ref)
        except GraphError as exc:
            # "Object does not exist" (100) or a dead link: Meta keeps media for a limited time.
            if exc.code == INVALID_PARAMETER or exc.http_status in (404, 410, 413):
                raise PhotoGone(ref) from exc
            raise
        return TipPhoto(name=f"photo-{number}{_EXTENSIONS.get(mime_type, '.jpg')}", content_type=mime_type, data=data)
