"""The officers' Slack app, put together: bolt's ``AsyncApp`` in HTTP mode behind ``POST /slack/events``.

``build_slack_officer`` wires the listeners (each package's ``register``) and
the status board; ``add_slack_route`` mounts the one Request URL on the web
app with a signature check in front of bolt (a forged, stale or malformed
request gets 401 and never reaches a listener) and the de-duplication of
Slack's retries around it. bolt runs each listener to its end before
answering (``process_before_response``): listeners acknowledge first and hand
slow work to ``BackgroundTasks``, which keeps hold of it, where bolt's own
after-ack tasks would be unowned.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bots.body_limit import limit_body
from bots.map_tiles.client import TileClient
from bots.slack_officer import actions, commands, events, views
from bots.slack_officer.dedupe import handle_once, parse_body, request_key
from bots.slack_officer.deps import CONTEXT_KEY, OfficerDeps
from bots.slack_officer.payloads import problem_with
from bots.slack_officer.signature import is_valid_request
from bots.slack_officer.status_board import StatusBoard
from bots.slack_officer.tasks import BackgroundTasks
from core.clock import Clock
from core.force import ForceConfig
from core.geocoding import Geocoder
from core.ports import UnitOfWorkFactory
from core.services.alerts import AlertService
from core.services.audit import AuditService
from core.services.inbound_once import InboundOnce
from core.services.progress import ProgressService
from core.services.roles import Roles
from core.services.stats import StatsService
from core.services.tips import TipService

logger = logging.getLogger("lookout.slack")

EVENTS_PATH = "/slack/events"
MAX_BODY_BYTES = 1_000_000  # Slack's payloads are a few KB; anything this big is not from Slack


@dataclass
class SlackOfficer:
    app: AsyncApp
    handler: AsyncSlackRequestHandler
    deps: OfficerDeps
    board: StatusBoard
    signing_secret: str
    _board_task: asyncio.Task[None] | None = field(default=None, init=False)

    async def start(self) -> None:
        """Start the status board (from the web app's lifespan)."""
        if self._board_task is None:
            self._board_task = asyncio.create_task(self.board.run(), name="slack status board")

    async def stop(self) -> None:
        """Stop the board and let listeners' background work finish."""
        self.board.stop()
        if self._board_task is not None:
            await asyncio.gather(self._board_task, return_exceptions=True)
            self._board_task = None
        await self.deps.tasks.drain()
        if self.deps.tiles is not None:
            await self.deps.tiles.aclose()


def build_slack_officer(
    *,
    client: AsyncWebClient,
    signing_secret: str,
    alerts: AlertService,
    force: ForceConfig,
    geocoder: Geocoder | None,
    roles: Roles,
    tips: TipService,
    uow: UnitOfWorkFactory,
    clock: Clock,
    tiles: TileClient | None = None,
) -> SlackOfficer:
    progress = ProgressService(uow, clock=clock)
    deps = OfficerDeps(
        alerts=alerts,
        progress=progress,
        stats=StatsService(uow, clock=clock),
        audit=AuditService(uow, clock=clock),
        force=force,
        geocoder=geocoder,
        roles=roles,
        uow=uow,
        tasks=BackgroundTasks(),
        tips=tips,
        clock=clock,
        tiles=tiles,
    )
    app = AsyncApp(client=client, signing_secret=signing_secret, process_before_response=True)

    async def provide_deps(context: Any, next_: Callable[[], Awaitable[None]]) -> None:
        context[CONTEXT_KEY] = deps
        await next_()

    app.middleware(provide_deps)
    app.error(_log_listener_error)
    for package in (commands, actions, views, events):
        package.register(app)
    board = StatusBoard(progress, client, force, clock=clock)
    return SlackOfficer(
        app=app, handler=AsyncSlackRequestHandler(app), deps=deps, board=board, signing_secret=signing_secret
    )


async def _log_listener_error(error: Exception, body: dict[str, Any]) -> None:
    """A listener failed before it could answer: log it (Slack shows the person that the app failed)."""
    kind = body.get("command") or body.get("type") or "request"
    logger.error("Slack %s failed before it was answered", kind, exc_info=error)


def add_slack_route(app: FastAPI, officer: SlackOfficer, *, inbound: InboundOnce) -> None:
    limit_body(app, EVENTS_PATH, MAX_BODY_BYTES)

    @app.post(EVENTS_PATH, include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        body = await request.body()
        if _is_ssl_check(request, body):  # Slack's certificate check: unsigned, answered with nothing done
            return Response(status_code=200)
        timestamp = request.headers.get("x-slack-request-timestamp")
        signature = request.headers.get("x-slack-signature")
        if not is_valid_request(body, timestamp, signature, officer.signing_secret, clock=time.time):
            return JSONResponse({"ok": False, "error": "invalid signature"}, status_code=401)
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return JSONResponse({"ok": False, "error": "not UTF-8"}, status_code=400)
        parsed = parse_body(body, request.headers.get("content-type", ""))
        problem = problem_with(parsed)
        if problem is not None:
            logger.warning("refused a signed Slack request: %s", problem)
            return JSONResponse({"ok": False, "error": problem}, status_code=400)
        key = request_key(parsed)
        return await handle_once(inbound, key, lambda: officer.handler.handle(request))


def _is_ssl_check(request: Request, body: bytes) -> bool:
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        return False
    try:
        return parse_qs(body.decode("utf-8")).get("ssl_check") == ["1"]
    except UnicodeDecodeError:
        return False
