"""Files in the Slack stand-in: upload v2, files.info, shares and the bytes behind ``url_private``.

Files upload v2 is three steps, as in Slack: ``files.getUploadURLExternal``
hands back a loopback ``/upload/v1/…`` URL on the stand-in itself, the bytes
are posted there, and ``files.completeUploadExternal`` titles the files and
shares them (one message per channel). A person's upload in a modal's file
input lands here too, complete and not yet shared. Downloads from
``url_private`` need the bot token, as Slack's do (the stand-in checks it).
``SlackFiles`` is not thread-safe: the stand-in (``sandbox.slack``) holds its
lock around every call.
"""

from __future__ import annotations

import mimetypes
import random
from collections.abc import Callable, Mapping
from typing import Any

from starlette.responses import Response

from sandbox.slack_messages import MessageLog
from sandbox.slack_records import UploadedFile
from sandbox.slack_wire import SlackError, int_or, optional_str, random_id, random_token
from sandbox.slack_workspace import BOT_USER_ID, TEAM_DOMAIN, TEAM_ID


class SlackFiles:
    """Every file uploaded to the workspace, by id, and the upload URLs not yet used."""

    def __init__(self, rng: random.Random, channels: Mapping[str, str], log: MessageLog) -> None:
        self.files: dict[str, UploadedFile] = {}
        self._rng = rng  # the stand-in's, so that a seed draws the same ids
        self._channels = channels  # the stand-in's channel names, as a file's shares show them
        self._log = log  # the channels' messages, where shares are posted
        self._uploads: dict[str, str] = {}  # upload key -> file id

    def upload_url(self, params: dict[str, Any], base_url: str) -> dict[str, Any]:
        """``files.getUploadURLExternal``: a file id and the URL its bytes go to."""
        filename = str(params.get("filename") or "")
        length = int_or(params.get("length"), 0)
        if not filename or length < 1:
            raise SlackError(
                "invalid_arguments", response_metadata={"messages": ["[ERROR] filename and length are required"]}
            )
        file_id = "F" + random_id(self._rng, 10)
        key = random_token(self._rng, 32)
        self.files[file_id] = UploadedFile(file_id, filename, length, key, optional_str(params.get("alt_txt")))
        self._uploads[key] = file_id
        return {"upload_url": f"{base_url}/upload/v1/{key}", "file_id": file_id}

    def receive(self, key: str, content: bytes) -> bool:
        """The bytes posted to an upload URL; False for a URL this stand-in never handed out."""
        file_id = self._uploads.get(key)
        if file_id is None:
            return False
        self.files[file_id].content = content
        return True

    def info(self, params: dict[str, Any], base_url: str) -> dict[str, Any]:
        """``files.info`` once the scope is checked: a file the app may see, in Slack's file object."""
        uploaded = self.files.get(str(params.get("file") or ""))
        if uploaded is None or not uploaded.completed or uploaded.content is None:
            raise SlackError("file_not_found")
        return {
            "file": self.file_json(uploaded, base_url),
            "comments": [],
            "response_metadata": {"next_cursor": ""},
        }

    def person_uploads(self, user_id: str, content: bytes, filename: str) -> str:
        """A person attaches a file in a modal's file input (Slack's client uploads it): its id, not yet shared."""
        file_id = "F" + random_id(self._rng, 10)
        self.files[file_id] = UploadedFile(
            file_id, filename, len(content), random_token(self._rng, 32), content=content, completed=True, owner=user_id
        )
        return file_id

    def complete_upload(
        self, params: dict[str, Any], base_url: str, postable_channel: Callable[[Any], str]
    ) -> dict[str, Any]:
        """``files.completeUploadExternal``: the files titled and shared, one message in each channel named
        (``postable_channel``, the stand-in's, says which channel a value names and refuses one it may not post in)."""
        wanted = params.get("files")
        if not isinstance(wanted, list) or not wanted:
            raise SlackError(
                "invalid_arguments", response_metadata={"messages": ["[ERROR] files must be a JSON array"]}
            )
        files = [self._uploaded(item) for item in wanted]
        channels = self._share_targets(params, postable_channel)
        thread_ts = optional_str(params.get("thread_ts"))
        comment = optional_str(params.get("initial_comment"))
        for uploaded, item in zip(files, wanted, strict=True):
            uploaded.title = str(item.get("title") or uploaded.filename)
            uploaded.completed, uploaded.thread_ts, uploaded.initial_comment = True, thread_ts, comment
        for channel in channels:
            self._share_files(channel, files, comment, thread_ts, params, base_url)
        return {"files": [self.file_json(f, base_url) for f in files]}

    def _uploaded(self, item: Any) -> UploadedFile:
        file_id = item.get("id") if isinstance(item, dict) else None
        uploaded = self.files.get(str(file_id))
        if uploaded is None or uploaded.content is None:
            raise SlackError("file_not_found")
        return uploaded

    def _share_targets(self, params: dict[str, Any], postable_channel: Callable[[Any], str]) -> list[str]:
        wanted = [str(params["channel_id"])] if params.get("channel_id") else []
        wanted += [c for c in str(params.get("channels") or "").split(",") if c]
        return [postable_channel(c) for c in dict.fromkeys(wanted)]

    def _share_files(
        self,
        channel: str,
        files: list[UploadedFile],
        comment: str | None,
        thread_ts: str | None,
        params: dict[str, Any],
        base_url: str,
    ) -> None:
        message = self._log.add(channel, comment or "", None, BOT_USER_ID, params, thread_ts=thread_ts)
        for uploaded in files:
            uploaded.shares.append((channel, message.ts))
        message.files = [self.file_json(f, base_url) for f in files]

    def file_json(self, uploaded: UploadedFile, base_url: str) -> dict[str, Any]:
        mimetype = mimetypes.guess_type(uploaded.filename)[0] or "application/octet-stream"
        extension = uploaded.filename.rsplit(".", 1)[-1].lower() if "." in uploaded.filename else "binary"
        private = f"{base_url}/files-pri/{TEAM_ID}-{uploaded.id}/{uploaded.filename}"
        out: dict[str, Any] = {
            "id": uploaded.id,
            "created": uploaded.created,
            "timestamp": uploaded.created,
            "name": uploaded.filename,
            "title": uploaded.title or uploaded.filename,
            "mimetype": mimetype,
            "filetype": extension,
            "pretty_type": extension.upper(),
            "user": uploaded.owner,
            "user_team": TEAM_ID,
            "editable": False,
            "size": len(uploaded.content or b""),
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": bool(uploaded.shares),
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": private,
            "url_private_download": private,
            "permalink": f"https://{TEAM_DOMAIN}.slack.com/files/{BOT_USER_ID}/{uploaded.id}/{uploaded.filename}",
            "channels": list(dict.fromkeys(c for c, _ in uploaded.shares)),
            "groups": [],
            "ims": [],
            "shares": self._shares_json(uploaded),
            "comments_count": 0,
            "has_rich_preview": False,
            "file_access": "visible",
        }
        if uploaded.alt_txt:
            out["alt_txt"] = uploaded.alt_txt
        return out

    def _shares_json(self, uploaded: UploadedFile) -> dict[str, Any]:
        public: dict[str, list[dict[str, Any]]] = {}
        for channel, ts in uploaded.shares:
            share = {
                "reply_users": [],
                "reply_users_count": 0,
                "reply_count": 0,
                "ts": ts,
                "channel_name": self._channels.get(channel, channel),
                "team_id": TEAM_ID,
                "share_user_id": BOT_USER_ID,
            }
            if uploaded.thread_ts:
                share["thread_ts"] = uploaded.thread_ts
            public.setdefault(channel, []).append(share)
        return {"public": public} if public else {}


def file_response(uploaded: UploadedFile | None) -> Response:
    """A file's bytes as its ``url_private`` serves them, or 404 for one not uploaded."""
    if uploaded is None or uploaded.content is None:
        return Response(status_code=404)
    media_type = mimetypes.guess_type(uploaded.filename)[0] or "application/octet-stream"
    return Response(uploaded.content, media_type=media_type)
