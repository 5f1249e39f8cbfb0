"""The console's HTTP doors: the page at ``/``, its static files, and its small JSON API.

``GET /_console/api/state`` is what the page polls: both phones, the Slack
pane for the officer it is playing, and the delivery counters (the mailbox
itself is read from ``/mail/api/messages`` when its counter moves). The ``POST``
endpoints are the things a resident or an officer can do; each answers with
how the app answered the platform's call, or a JSON error (400 bad input,
409 not possible yet, 502 the app did not answer).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from sandbox.console import inputs
from sandbox.console.inputs import BadInput, ConsoleError
from sandbox.console.places import presets_json
from sandbox.console.slack_pane import SlackPane
from sandbox.console.telegram_phone import TelegramPhone
from sandbox.console.whatsapp_phone import WhatsAppPhone
from sandbox.slack_workspace import TIPS_CHANNEL_ID
from sandbox.smtp import SmtpSink

STATIC = Path(__file__).parent / "static"
# The page loads only its own files and talks only to this server; nothing from a bot's message can run.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; frame-src 'self'"
)
_IMAGE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}
# Files come from the app or a resident: the browser must take them for what the sandbox says they are.
_FILE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'",
    "Cache-Control": "no-store",
}

Handler = Callable[[Request], Awaitable[Any]]


@dataclass(frozen=True)
class Doors:
    """Where the page's platforms live on this server, shown in the page's footer."""

    app_url: str
    telegram: str = "/telegram"
    slack: str = "/slack/api/"
    whatsapp: str = "/whatsapp"
    nominatim: str = "/nominatim"
    smtp: str = ""  # the relay stand-in's smtp:// URL (its own port: SMTP is not HTTP)
    mail: str = "/mail"


class Console:
    def __init__(
        self,
        telegram: TelegramPhone,
        whatsapp: WhatsAppPhone,
        slack: SlackPane,
        doors: Callable[[], Doors],
        *,
        mailbox: SmtpSink | None = None,
    ) -> None:
        self.telegram = telegram
        self.whatsapp = whatsapp
        self.slack = slack
        self.mailbox = mailbox
        self._doors = doors

    def routes(self) -> list[BaseRoute]:
        api = "/_console/api"
        posts: dict[str, Handler] = {
            "telegram/text": self._telegram_text,
            "telegram/location": self._telegram_location,
            "telegram/button": self._telegram_button,
            "telegram/photo": self._telegram_photo,
            "telegram/new_resident": self._telegram_new_resident,
            "telegram/reset": self._telegram_reset,
            "whatsapp/text": self._whatsapp_text,
            "whatsapp/location": self._whatsapp_location,
            "whatsapp/button": self._whatsapp_button,
            "whatsapp/list": self._whatsapp_list,
            "whatsapp/quick_reply": self._whatsapp_quick_reply,
            "whatsapp/image": self._whatsapp_image,
            "whatsapp/new_resident": self._whatsapp_new_resident,
            "whatsapp/reset": self._whatsapp_reset,
            "slack/command": self._slack_command,
            "slack/message": self._slack_message,
            "slack/action": self._slack_action,
            "slack/submit": self._slack_submit,
            "slack/close": self._slack_close,
            "slack/attach": self._slack_attach,
        }
        return [
            Route("/", self._page),
            Route(f"{api}/state", _json_endpoint(self._state)),
            Route(f"{api}/config", _json_endpoint(self._config)),
            Route(f"{api}/telegram/files/{{file_id}}", self._telegram_file),
            Route(f"{api}/whatsapp/media/{{media_id}}", self._whatsapp_media),
            Route(f"{api}/slack/files/{{file_id}}", self._slack_file),
            *(Route(f"{api}/{path}", _json_endpoint(handler), methods=["POST"]) for path, handler in posts.items()),
            Mount("/_console/static", app=StaticFiles(directory=STATIC), name="console-static"),
        ]

    # --- reading -------------------------------------------------------------------------------

    async def _page(self, request: Request) -> Response:
        return FileResponse(
            STATIC / "index.html",
            headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-store"},
        )

    async def _config(self, request: Request) -> dict[str, Any]:
        return {"doors": asdict(self._doors()), "places": presets_json(), "tips_channel": TIPS_CHANNEL_ID}

    async def _state(self, request: Request) -> dict[str, Any]:
        officer = request.query_params.get("officer", "")
        channel = request.query_params.get("channel", TIPS_CHANNEL_ID)
        telegram, whatsapp, slack = self.telegram.stand_in, self.whatsapp.stand_in, self.slack.stand_in
        counters: dict[str, dict[str, int]] = {
            "telegram": {"sent": telegram.sent_count(), "rate_limited": telegram.rate_limited},
            "whatsapp": {"sent": whatsapp.sent_count(), "refused": len(whatsapp.rejected)},
            "slack": {"sent": slack.sent_count(), "rate_limited": slack.rate_limited},
        }
        if self.mailbox is not None:
            counters["email"] = {"sent": len(self.mailbox.messages()), "refused": self.mailbox.refused}
        return {
            "counters": counters,
            "telegram": self.telegram.snapshot(),
            "whatsapp": self.whatsapp.snapshot(),
            "slack": self.slack.snapshot(officer, channel),
        }

    async def _telegram_file(self, request: Request) -> Response:
        stored = self.telegram.stand_in.file(request.path_params["file_id"])
        if stored is None:
            return JSONResponse({"error": "no such file"}, status_code=404)
        return _file_response(stored.content)

    async def _whatsapp_media(self, request: Request) -> Response:
        media = self.whatsapp.stand_in.media.get(request.path_params["media_id"])
        if media is None:
            return JSONResponse({"error": "no such media"}, status_code=404)
        return _file_response(media.content)

    async def _slack_file(self, request: Request) -> Response:
        uploaded = self.slack.stand_in.files.get(request.path_params["file_id"])
        if uploaded is None or uploaded.content is None:
            return JSONResponse({"error": "no such file"}, status_code=404)
        return _file_response(uploaded.content)

    # --- a resident on Telegram ---------------------------------------------------------------------

    async def _telegram_text(self, request: Request) -> dict[str, Any]:
        body = await inputs.json_object(request)
        action = await self.telegram.send_text(
            inputs.required_text(body, "text"),
            reply_to=inputs.optional_integer(body, "reply_to"),
            keyboard_message=inputs.optional_integer(body, "keyboard_message"),
        )
        return asdict(action)

    async def _telegram_location(self, request: Request) -> dict[str, Any]:
        body = await inputs.json_object(request)
        latitude, longitude = inputs.coordinates(body)
        action = await self.telegram.share_location(
            latitude, longitude, keyboard_message=inputs.optional_integer(body, "keyboard_message")
        )
        return asdict(action)

    async def _telegram_button(self, request: Request) -> dict[str, Any]:
        body = await inputs.json_object(request)
        action = await self.telegram.press_button(
            inputs.required_integer(body, "message_id"), inputs.required_text(body, "data", max_length=64)
        )
        return asdict(action)

    async def _telegram_photo(self, request: Request) -> dict[str, Any]:
        body = await inputs.json_object(request)
        content = inputs.image_bytes(body)
        if _image_type(content) == "application/octet-stream":
            raise BadInput("data: send a JPEG, PNG, GIF or WebP picture")
        action = await self.telegram.send_photo(content, inputs.optional_text(body, "caption", max_length=1024))
        return asdict(action)

    async def _telegram_new_resident(self, request: Request) -> dict[str, Any]:
        return await self.telegram.new_resident()

    async def _telegram_reset(self, request: Request) -> dict[str, Any]:
        return await self.telegram.reset()

    # --- a resident on WhatsApp ------------------------------------------------------------------------

    async def _whatsapp_text(self, request: Request) -> dict[str, Any]:
        body = await inputs.json_object(request)
        return asdict(await self.whatsapp.send_text(inputs.required_text(body, "text")))

    async def _whatsapp_location(self, request: Request) -> dict[str, Any]:
        body = await inputs.json_object(request)
        latitude, longitude = inputs.coordinates(body)
        name = inputs.optional_text(body, "name", max_length=200)
        return asdict(await self.whatsapp.share_location(latitude, longitude, name))

    async def _whatsapp_button(self, request: Request) -> dict[str, Any]:
        body = await inputs.json_object(request)
        return asdict(
            await self.whatsapp.tap_button(
                inputs.required_text(body, "message_id", max_length=200),
                inputs.required_text(body, "id", max_length=256),
            )
        )

    async def _whatsapp_list(self, request: Request) -> dict[str, Any]:
        body = await inputs.json_object(request)
        return asdict(
            await self.whatsapp.pick_list_row(
                inputs.required_text(body, "message_id", max_length=200),
                inputs.required_text(body, "id", max_length=200),
            )
        )

    async def _whatsapp_quick_reply(self, request: Request) -> dict[str, Any]:
        body = await inputs.json_object(request)
        return asdict(
            await self.whatsapp.tap_quick_reply(
                inputs.required_text(body, "message_id", max_length=200),
                inputs.required_text(body, "text", max_length=25),
            )
        )

    async def _whatsapp_image(self, request: Request) -> dict[str, Any]:
        body = await inputs.json_object(request)
        content = inputs.image_bytes(body)
        kind = _image_type(content)
        if kind not in {"image/jpeg", "image/png"}:
            raise BadInput("data: WhatsApp takes JPEG or PNG pictures")
        return asdict(
            await self.whatsapp.send_image(content, kind, inputs.optional_text(body, "caption", max_length=1024))
        )

    async def _whatsapp_new_resident(self, request: Request) -> dict[str, Any]:
        return self.whatsapp.new_resident()

    async def _whatsapp_reset(self, request: Request) -> dict[str, Any]:
        return self.whatsapp.reset()

    # --- an officer on Slack ----------------------------------------------------------------------------

    async def _slack_command(self, request: Request) -> dict[str, Any]:
        body = await inputs.json_object(request)
        line = inputs.required_text(body, "text", max_length=4000).strip()
        command, _, text = line.partition(" ")
        return await self.slack.command(
            inputs.required_text(body, "user", max_length=64),
            command,
            text.strip(),
            inputs.required_text(body, "channel", max_length=64),
        )

    async def _slack_message(self, request: Request) -> dict[str, Any]:
        body = await inputs.json_object(request)
        return await self.slack.message(
            inputs.required_text(body, "user", max_length=64),
            inputs.required_text(body, "channel", max_length=64),
            inputs.required_text(body, "text", max_length=4000),
            inputs.optional_text(body, "thread_ts", max_length=32),
        )

    async def _slack_action(self, request: Request) -> dict[str, Any]:
        body = await inputs.json_object(request)
        return await self.slack.action(inputs.required_text(body, "user", max_length=64), body)

    async def _slack_submit(self, request: Request) -> dict[str, Any]:
        body = await inputs.json_object(request)
        return await self.slack.submit(
            inputs.required_text(body, "user", max_length=64),
            inputs.required_text(body, "view_id", max_length=64),
            body.get("values"),
        )

    async def _slack_attach(self, request: Request) -> dict[str, Any]:
        body = await inputs.json_object(request)
        name = inputs.required_text(body, "name", max_length=200)
        return self.slack.attach(inputs.required_text(body, "user", max_length=64), inputs.image_bytes(body), name)

    async def _slack_close(self, request: Request) -> dict[str, Any]:
        body = await inputs.json_object(request)
        return self.slack.close(inputs.required_text(body, "user", max_length=64))


def _json_endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            return JSONResponse(await handler(request), headers={"Cache-Control": "no-store"})
        except ConsoleError as error:
            return error.response()

    return endpoint


def _file_response(content: bytes) -> Response:
    """A picture as a picture; anything else as a download, never as a page of this origin."""
    kind = _image_type(content)
    headers = dict(_FILE_HEADERS)
    if kind not in _IMAGE_TYPES:
        headers["Content-Disposition"] = "attachment"
    return Response(content, media_type=kind, headers=headers)


def _image_type(content: bytes) -> str:
    """The picture's type from its first bytes (what the page sends is never trusted to say)."""
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"
