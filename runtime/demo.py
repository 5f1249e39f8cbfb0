"""``lookout demo``: the whole service on SQLite, seeded, with the sandbox console, and no accounts needed.

Uses its own database (var/demo.db) and the example force, so it never touches
a real deployment's data. The one-port sandbox (``sandbox.service``) answers
for the outside world — Telegram, Slack and WhatsApp APIs and a Nominatim
server — and serves the console, whose Telegram phone is a subscribed
resident of the demo: an alert raised near Stafford town centre reaches it.
So does the console's mailbox: a few of the demo residents, and Robin in the
town centre, signed up by email, and the sandbox's SMTP relay keeps what they get.
SMS is on against the sandbox's Twilio stand-in, and some demo residents get their alerts by text.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
import socket
import sys
import textwrap
from pathlib import Path
from typing import Any

from sqlalchemy import String, cast, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bots.telegram.registration import set_webhook
from core.errors import LookoutError
from core.force import ForceConfig
from core.model import Address, Channel
from core.services.subscriptions import NewPlace
from core.settings import Settings
from runtime.app import Lookout, build
from runtime.examples import EXAMPLE_FORCE_CONFIG
from runtime.logs import quiet_for_the_demo
from runtime.population import build_population
from runtime.serving import run_parts
from sandbox.console.people import EMAIL_RESIDENT, TELEGRAM_RESIDENT
from sandbox.service import DEFAULT_PORT, DEFAULT_SMTP_PORT, Sandbox, SandboxConfig
from storage.migrate import upgrade
from storage.tables import residents

DEMO_DATABASE_URL = "sqlite:///var/demo.db"
DEMO_ENV = Path("var/demo.env")  # the demo's settings as export lines, for `source var/demo.env` in a second terminal
BANNER_WIDTH = 80  # the narrowest terminal the banner is written for: no line wider, commands never wrapped
DEMO_FORCE = EXAMPLE_FORCE_CONFIG
DEMO_CENTRE = (52.8067, -2.1174)  # Stafford
# One demo resident in this many signed up by email, and one in this many WhatsApp residents texts instead
# (the rest: 60% Telegram, 40% WhatsApp).
EMAIL_ONE_IN = 20
SMS_ONE_IN = 4

logger = logging.getLogger("lookout.demo")


def run_demo(
    *, port: int, residents: int, sandbox_port: int = DEFAULT_PORT, smtp_port: int = DEFAULT_SMTP_PORT
) -> None:
    upgrade(DEMO_DATABASE_URL)
    if not _free(port):
        asked, port = port, _a_free_port()
        logger.warning("port %d is taken: the app takes port %d instead", asked, port)
    app_url = f"http://127.0.0.1:{port}"
    sandbox = _start_sandbox(SandboxConfig(app_url=app_url), sandbox_port, smtp_port)
    try:
        environment: dict[str, Any] = {
            "LOOKOUT_DATABASE_URL": DEMO_DATABASE_URL,
            "LOOKOUT_FORCE_CONFIG": str(DEMO_FORCE),
            **sandbox.app_environment(),
        }
        registered = _register_telegram_webhook(environment)
        settings = Settings(**environment)
        quiet_for_the_demo(settings.log_level)
        _write_env_file(environment)
        asyncio.run(_seed_and_serve(settings, sandbox, port=port, residents=residents, registered=registered))
    finally:
        sandbox.stop()


def _register_telegram_webhook(environment: dict[str, Any]) -> str:
    """What ``lookout telegram set-webhook`` does, so Telegram (here the sandbox) learns the app's webhook
    and secret and the console's Telegram phone reaches the app through the real door."""
    try:
        return set_webhook(Settings(**environment))
    except LookoutError as exc:
        raise LookoutError(f"Registering the Telegram webhook with the sandbox failed: {exc}") from None


def _start_sandbox(config: SandboxConfig, port: int, smtp_port: int) -> Sandbox:
    """The sandbox on the ports asked for; a port that is taken is swapped for a free one (the banner says which)."""
    if not _free(port):
        logger.warning("port %d is taken: the sandbox takes a free port instead", port)
        port = 0
    if not _free(smtp_port):
        logger.warning("port %d is taken: the mail relay stand-in takes a free port instead", smtp_port)
        smtp_port = 0
    try:
        return Sandbox(config, port=port, smtp_port=smtp_port).start()
    except OSError:  # taken between the look and the start
        logger.warning("port %d or %d was taken meanwhile: the sandbox takes free ports instead", port, smtp_port)
        return Sandbox(config).start()


def _free(port: int) -> bool:
    """Whether a listener could bind 127.0.0.1:``port`` now (as the sandbox's servers do, with SO_REUSEADDR)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _a_free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _write_env_file(environment: dict[str, str]) -> None:
    """The demo's settings as export lines: ``source var/demo.env`` and ``lookout alert …`` works on the demo."""
    lines = [
        "# Written by `lookout demo` each time it starts: the settings that point `lookout`",
        "# at the running demo (its database, the sandbox's geocoder and platforms).",
        "# In a second terminal, in this folder: source var/demo.env",
        *(f"export {name}={shlex.quote(value)}" for name, value in environment.items()),
    ]
    DEMO_ENV.parent.mkdir(parents=True, exist_ok=True)
    DEMO_ENV.write_text("\n".join(lines) + "\n", encoding="utf-8")


async def _seed_and_serve(settings: Settings, sandbox: Sandbox, *, port: int, residents: int, registered: str) -> None:
    lookout = build(settings)
    seeded = await _seed(lookout.engine, lookout.force, residents)
    await _subscribe_console_residents(lookout)
    serving = asyncio.create_task(
        run_parts(lookout, web=True, worker=True, scheduler=True, host="127.0.0.1", port=port)
    )
    # The banner comes last, once the app answers, so the start-up lines do not push it off the screen.
    if await _listening(port, serving):
        await asyncio.sleep(0.2)  # the worker's and scheduler's first lines come just after the web's
        _banner(lookout.force.name, port=port, seeded=seeded, sandbox=sandbox, registered=registered)
    await serving


async def _listening(port: int, serving: asyncio.Task[None]) -> bool:
    """Wait until the app accepts connections on ``port`` (False: it stopped before it did)."""
    while not serving.done():
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return True
    return False


async def _seed(engine: AsyncEngine, force: ForceConfig, count: int) -> int:
    async with engine.connect() as conn:
        existing = (await conn.execute(select(func.count()).select_from(residents))).scalar_one()
    if existing == 0 and count > 0:
        await build_population(
            engine,
            residents=count,
            centre=DEMO_CENTRE,
            radius_m=4000,
            resolution=force.resolution,
            seed=7,
            topics=list(force.topics),
            sectors=list(force.sectors),
            # Both resident platforms, as a force would see them; the sandbox answers for each, and
            # WhatsApp residents who never wrote get alerts as the approved template.
            telegram_share=0.6,
        )
        await _move_some_to_email(engine)
        await _move_some_to_sms(engine)
        return count
    return existing


async def _move_some_to_email(engine: AsyncEngine) -> None:
    """Make every ``EMAIL_ONE_IN``-th seeded resident an email subscriber (the population builder knows only phones)."""
    every = residents.c.id % EMAIL_ONE_IN == 0
    address = "email:resident" + cast(residents.c.id, String) + "@example.org"
    async with engine.begin() as conn:
        await conn.execute(update(residents).where(every).values(channel=Channel.EMAIL.value, address=address))


async def _move_some_to_sms(engine: AsyncEngine) -> None:
    """Make every ``SMS_ONE_IN``-th seeded WhatsApp resident a text-message subscriber, on the same number."""
    prefix = f"{Channel.WHATSAPP.value}:"
    chosen = (residents.c.channel == Channel.WHATSAPP.value) & (residents.c.id % SMS_ONE_IN == 0)
    address = "sms:+" + func.substr(residents.c.address, len(prefix) + 1)
    async with engine.begin() as conn:
        await conn.execute(update(residents).where(chosen).values(channel=Channel.SMS.value, address=address))


async def _subscribe_console_residents(lookout: Lookout) -> None:
    """The console's Telegram phone (Sam) and its mailbox's Robin live in the town centre and want every alert,
    from the first run on.

    Subscribed through the same service the bot's onboarding and the sign-up page end in; never again once
    they exist, so whatever they change in the console (topics, places, /stop) survives a restart.
    """
    for address in (Address(Channel.TELEGRAM, str(TELEGRAM_RESIDENT.id)), Address(Channel.EMAIL, EMAIL_RESIDENT)):
        async with lookout.uow(read_only=True) as work:
            known = await work.residents.get_by_address(address)
        if known is None:
            await lookout.subscriptions.subscribe(
                address, age_confirmed=True, places=[NewPlace("Home", *DEMO_CENTRE)], topics=["all"]
            )


def _banner(force_name: str, *, port: int, seeded: int, sandbox: Sandbox, registered: str) -> None:
    """What to open and what to type, in plain lines no wider than ``BANNER_WIDTH``, commands never wrapped."""
    app = f"http://127.0.0.1:{port}"
    cli = ".venv/bin/lookout" if Path(".venv/bin/lookout").exists() else "lookout"

    def para(text: str, indent: str = "") -> str:
        return textwrap.fill(
            text,
            BANNER_WIDTH,
            initial_indent=indent,
            subsequent_indent=indent,
            break_long_words=False,
            break_on_hyphens=False,
        )

    commands = [
        f"export LOOKOUT_DATABASE_URL={DEMO_DATABASE_URL}",
        f"export LOOKOUT_GEOCODER_DOMAIN={sandbox.geocoder_domain}",
        "export LOOKOUT_GEOCODER_SCHEME=http",
        f"{cli} alert send --incident MV-20261125-0456 \\",
        "    --headline 'Bogus callers' \\",
        "    --message 'Two men claiming to be from the water board.' \\",
        "    --postcode 'ST16 2LZ' --radius 1km --everyone --yes",
        f"{cli} alert list",
    ]
    lines = [
        " Lookout demo ".center(BANNER_WIDTH, "─"),
        para(f"{force_name}, with {seeded:,} demo residents around Stafford."),
        "",
        f"Console: {sandbox.console_url}  (open it in your browser)",
        para("a Telegram phone (Sam, subscribed in the town centre), a WhatsApp phone and the officers' Slack.", "  "),
        f"Mailbox: {sandbox.mailbox_url}",
        para(
            f"Robin ({EMAIL_RESIDENT}) signed up by email in the town centre; mail goes through the SMTP relay "
            f"stand-in on {sandbox.smtp_url}.",
            "  ",
        ),
        f"Sign-up page: {app}/subscribe",
        f"App: {app}/healthz and /readyz",
        f"Sandbox: {sandbox.base_url}",
        para(
            "Telegram (/telegram), Slack (/slack/api/), WhatsApp (/whatsapp), SMS (/sms, Twilio's) and Nominatim "
            "(/nominatim) stand-ins.",
            "  ",
        ),
        para(registered),
        "",
        para(
            f"Raise an alert from a second terminal, in this folder, and watch it arrive in the console. "
            f"`source {DEMO_ENV}` sets the same (and the rest of the demo's settings) in one go."
        ),
        "",
        *(f"  {command}" for command in commands),
        "",
        "Stop with Ctrl+C.",
        "─" * BANNER_WIDTH,
    ]
    print("\n".join(lines), file=sys.stderr, flush=True)
