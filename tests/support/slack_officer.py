"""The officers' Slack app served in-process, talking to the sandbox's Slack and Nominatim stand-ins.

``officer_app(...)`` builds Lookout from settings as ``lookout serve`` does,
runs the web app's lifespan (so the status board runs), and gives a
``SimulatedSlackClient`` that sends signed requests to ``POST /slack/events``
through httpx's ASGI transport. Residents' deliveries go to a fake Telegram.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from bots.slack_officer.app import SlackOfficer
from core.clock import Clock
from core.delivery.worker import DeliveryWorker
from core.model import Channel
from core.settings import Settings
from runtime.app import Lookout, build, create_app
from runtime.examples import EXAMPLE_FORCE_CONFIG
from sandbox.nominatim import NominatimStandIn
from sandbox.slack import SlackStandIn
from sandbox.slack_records import SlackLimits, SlackMessage
from sandbox.slack_users import SimulatedSlackClient
from sandbox.slack_workspace import OFFICER_ID, OFFICERS_CHANNEL_ID, SECOND_OFFICER_ID, SUPERVISOR_ID, TIPS_CHANNEL_ID
from sandbox.tiles import ATTRIBUTION as TILES_ATTRIBUTION
from sandbox.tiles import TileStandIn
from tests.support.fakes import FakeAdapter

EXAMPLE_FORCE = EXAMPLE_FORCE_CONFIG
ROOT = Path(__file__).resolve().parents[2]
TOKEN = "xoxb-officer-app"
SECRET = "officer-app-signing-secret"
EVENTS_URL = "http://lookout.test/slack/events"
ROOMY_ACK_BUDGET = 30.0  # seconds: see officer_app

COMPOSE_VALUES: dict[str, dict[str, Any]] = {
    "incident_number": {"value": "MV-20261125-0456"},
    "headline": {"value": "Missing boy, 9"},
    "message": {"value": "Sam <9> & his dog were last seen by the canal. <!channel>"},
    "where_kind": {"value": "postcode"},
    "where": {"value": "ST16 2LZ"},
    "radius": {"value": "1km"},
    "reach": {"value": "topics"},
    "topics": {"value": ["missing"]},
    "audience": {"value": "both"},
    "urgency": {"value": "Immediate"},
    "status": {"value": "Actual"},
    "expires": {"value": "24"},
}


def force_config(tmp_path: Path, **changes: object) -> Path:
    """A copy of the example force with top-level settings changed (e.g. ``approval_threshold=1``)."""
    lines = EXAMPLE_FORCE.read_text(encoding="utf-8").splitlines()
    out = []
    for line in lines:
        key = line.split("=", 1)[0].strip()
        if key in changes:
            line = f"{key} = {json.dumps(changes[key])}"
        elif key == "areas_file":
            line = f"areas_file = {json.dumps(str(EXAMPLE_FORCE.parent / 'areas.example.geojson'))}"
        out.append(line)
    path = tmp_path / "force.toml"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


async def eventually(check: Callable[[], Any], timeout: float = 8.0, what: str = "the app's Slack calls") -> Any:
    """Wait until ``check()`` (plain or async) is truthy: the app works on after its answer to Slack."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@dataclass
class OfficerApp:
    lookout: Lookout
    app: FastAPI
    slack: SlackStandIn
    nominatim: NominatimStandIn
    simulated: SimulatedSlackClient
    telegram: FakeAdapter

    # --- what an officer does ---------------------------------------------------------------

    async def open_compose(self, user: str = OFFICER_ID, channel: str = OFFICERS_CHANNEL_ID) -> dict[str, Any]:
        return await self.command_modal(user, "", channel)

    async def command_modal(self, user: str, text: str, channel: str = OFFICERS_CHANNEL_ID) -> dict[str, Any]:
        """``/alert <text>`` and the modal it opens."""
        seen = len(self.slack.views)
        answer = await self.simulated.slash_command(user, "/alert", text, channel)
        assert answer.status_code == 200, answer.text
        return await self.next_modal(user, seen)

    async def next_modal(self, user: str, seen: int) -> dict[str, Any]:
        """The modal opened for ``user`` after the first ``seen`` views records."""
        opened = await eventually(
            lambda: [r for r in self.slack.views[seen:] if r.method == "views.open" and r.user_id == user],
            what="a modal",
        )
        view = self.slack.view(opened[0].id)
        assert view is not None, "the modal was closed already"
        return view

    async def submit(self, user: str, view_id: str, **changes: Any) -> httpx.Response:
        values = {**COMPOSE_VALUES, **{k: ({"value": v} if not isinstance(v, dict) else v) for k, v in changes.items()}}
        values = {k: v for k, v in values.items() if v != {"value": None}}
        return await self.simulated.view_submission(user, view_id, values)

    async def raise_alert(
        self, user: str = OFFICER_ID, channel: str = OFFICERS_CHANNEL_ID, **changes: Any
    ) -> SlackMessage:
        """/alert, fill in, Preview: returns the card once its preview is posted."""
        before = len(self.cards(channel))
        modal = await self.open_compose(user, channel)
        answer = await self.submit(user, modal["id"], **changes)
        # The form closes at once, or (a slow lookup past Slack's wait: two geocoder requests a second apart, on a
        # busy machine) says the preview is coming; either way the card follows.
        assert answer.status_code == 200, answer.text
        assert not answer.content or "Looking up the place" in answer.text, answer.text
        cards = await eventually(lambda: self.cards(channel)[before:], what="the preview card")
        return cards[0]

    async def press(self, user: str, card: SlackMessage, action_id: str) -> httpx.Response:
        value = button_value(card, action_id)
        answer = await self.simulated.block_action(user, action_id, value, channel_id=card.channel, message_ts=card.ts)
        assert answer.status_code == 200, answer.text
        return answer

    # --- what the stand-in saw ---------------------------------------------------------------

    def cards(self, channel: str = OFFICERS_CHANNEL_ID) -> list[SlackMessage]:
        """The app's messages with blocks that start with a header (alert cards and status messages)."""
        return [
            m
            for m in self.slack.messages_in(channel)
            if m.from_bot and m.blocks and m.blocks[0].get("type") == "header"
        ]

    def card(self, card: SlackMessage) -> SlackMessage:
        current = self.slack.message(card.channel, card.ts)
        assert current is not None
        return current

    def ephemeral_texts(self, user: str) -> list[str]:
        return [e.text for e in self.slack.ephemeral_to(user)]

    def updates_of(self, card: SlackMessage) -> int:
        return sum(1 for method, params in self.slack.calls if method == "chat.update" and params.get("ts") == card.ts)

    # --- the rest of Lookout ----------------------------------------------------------------------

    @asynccontextmanager
    async def delivering(self) -> AsyncIterator[DeliveryWorker]:
        worker = self.lookout.worker()
        task = asyncio.create_task(worker.run())
        try:
            yield worker
        finally:
            worker.stop()
            await task


def button_value(card: SlackMessage, action_id: str) -> str:
    for block in card.blocks or []:
        for element in block.get("elements") or []:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return str(element["value"])
    raise AssertionError(f"no {action_id} button on the card")


def card_text(card: SlackMessage) -> str:
    """Everything the card's blocks say, as one string."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                parts.append(node["text"])
            for value in node.values():
                if isinstance(value, dict | list):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card.blocks or [])
    return "\n".join(parts)


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@asynccontextmanager
async def officer_app(
    database_url: str,
    *,
    force: Path = EXAMPLE_FORCE,
    limits: SlackLimits | None = None,
    errors_expected: bool = False,
    map_tiles: TileStandIn | None = None,
    tile_cache: Path | None = None,
    officers_channel: str | None = None,
    ack_budget: float = ROOMY_ACK_BUDGET,
    clock: Clock,
) -> AsyncIterator[OfficerApp]:
    """The app, failing the test if anything was logged as an error (unless ``errors_expected``).
    ``map_tiles``: a running tile stand-in for the preview's street map, its tiles cached in ``tile_cache``;
    ``officers_channel``: SLACK_OFFICERS_CHANNEL, where the cards of alerts sent from outside Slack go;
    ``ack_budget``: how long a form's check may take before the modal says "Looking up…". Tests are about the
    answer, not its timing, so by default there is room a busy machine cannot use up (its errors would turn into
    that notice); the test of the slow path passes the product's ``ACK_BUDGET_SECONDS``."""
    slack = SlackStandIn(TOKEN, SECRET, limits=limits or SlackLimits(post_per_channel_per_second=None))
    nominatim = NominatimStandIn()
    errors = _Errors()
    watched = [logging.getLogger(name) for name in ("lookout", "slack_bolt")]
    for log in watched:
        log.addHandler(errors)
    with slack, nominatim:
        settings = Settings(
            _env_file=None,
            database_url=database_url,
            force_config=str(force),
            slack_bot_token=TOKEN,
            slack_signing_secret=SECRET,
            slack_api_base=slack.api_url,
            slack_officer_ids=f"{OFFICER_ID},{SECOND_OFFICER_ID}",
            slack_supervisor_ids=SUPERVISOR_ID,
            slack_tips_channel=TIPS_CHANNEL_ID,
            slack_officers_channel=officers_channel,
            geocoder_domain=nominatim.domain,
            geocoder_scheme="http",
            map_tiles=map_tiles.template if map_tiles else None,
            map_tiles_attribution=TILES_ATTRIBUTION if map_tiles else None,
            map_tiles_cache_dir=str(tile_cache or ROOT / "var" / "tiles"),
        )
        lookout = build(settings, clock=clock)
        app = create_app(lookout)
        next(part for part in app.state.background if isinstance(part, SlackOfficer)).deps.ack_budget = ack_budget
        telegram = FakeAdapter(
            Channel.TELEGRAM
        )  # residents' deliveries; added after the web app so no webhook is set up
        lookout.adapters[Channel.TELEGRAM] = telegram
        try:
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with SimulatedSlackClient(slack, EVENTS_URL, transport=transport) as simulated:
                    yield OfficerApp(lookout, app, slack, nominatim, simulated, telegram)
        finally:
            await lookout.aclose()
            for log in watched:
                log.removeHandler(errors)
    if errors.records and not errors_expected:
        raise AssertionError("errors were logged:\n" + "\n".join(r.getMessage() for r in errors.records))
