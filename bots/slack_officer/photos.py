"""An appeal's photo from the compose form's file input: looked up with ``files.info`` (scope ``files:read``),
downloaded from its ``url_private_download`` with the bot token, then checked and re-encoded like any other."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bots.photo_files import prepare_photo
from core.alert_photos import MAX_PHOTO_BYTES, new_photo_token
from core.errors import InvalidInput
from core.model import AlertPhoto
from core.services.alerts import AlertService

DOWNLOAD_TIMEOUT_S = 10
FIELD = "photo"


async def photo_for(
    client: AsyncWebClient, files: list[dict[str, Any]], *, alerts: AlertService, replaces: int | None = None
) -> AlertPhoto | None:
    """The photo attached in the form; when editing a draft and none is attached, the draft's own (kept)."""
    if files:
        return await fetch_photo(client, files)
    if replaces is not None:
        kept = await alerts.photo(replaces)
        if kept is not None and kept.data is not None:
            return replace(kept, token=new_photo_token(), alert_id=None, created_at=None, withdrawn_at=None)
    return None


async def fetch_photo(client: AsyncWebClient, files: list[dict[str, Any]]) -> AlertPhoto:
    if len(files) > 1:
        raise InvalidInput.one(FIELD, "attach one photo")
    try:
        info = await client.files_info(file=str(files[0].get("id") or ""))
    except SlackApiError as exc:
        if exc.response.get("error") == "missing_scope":
            raise InvalidInput.one(
                FIELD,
                "Lookout's Slack app may not read files yet: a Slack administrator must add the files:read scope "
                "and reinstall the app",
            ) from None
        raise InvalidInput.one(FIELD, "the photo could not be fetched from Slack; please attach it again") from None
    file = info.get("file") or {}
    name = str(file.get("name") or "photo")
    if int(file.get("size") or 0) > MAX_PHOTO_BYTES:
        raise InvalidInput.one(
            FIELD,
            f"{name} is {int(file['size']) / 1024 / 1024:.1f} MB; the most is {MAX_PHOTO_BYTES // (1024 * 1024)} MB. "
            "Send a smaller copy",
        )
    url = str(file.get("url_private_download") or file.get("url_private") or "")
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=DOWNLOAD_TIMEOUT_S)) as session,
            session.get(url, headers={"Authorization": f"Bearer {client.token}"}) as response,
        ):
            if response.status != 200:
                raise InvalidInput.one(FIELD, "Slack would not hand over the photo; please attach it again")
            data = await response.content.read(MAX_PHOTO_BYTES + 1)
    except (aiohttp.ClientError, TimeoutError, ValueError):
        raise InvalidInput.one(FIELD, "the photo could not be fetched from Slack; please attach it again") from None
    return await asyncio.to_thread(prepare_photo, data, name)  # decoding a big picture takes a moment: not here
