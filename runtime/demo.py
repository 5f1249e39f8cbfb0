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

from rich.console import Console
from rich.panel import Panel
from sqlalchemy import String, cast, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from runtime.population import build_population
from runtime.app import Lookout, build
from runtime.serving import run_parts
from bots.telegram.registration import set_webhook
from core.errors import LookoutError
from core.force import ForceConfig
from core.model import Address, Channel
from core.services.subscriptions import NewPlace
from core.settings import Settings
from sandbox.console.people import EMAIL_RESIDENT, TELEGRAM_RESIDENT
from sandbox.service import DEFAULT_PORT, DEFAULT_SMTP_PORT, Sandbox, SandboxConfig
from storage.migrate import upgrade
from storage.tables import residents
from runtime.examples import EXAMPLE_FORCE_CONFIG

DEMO_DATABASE_URL = "sqlite:///var/demo.db"
DEMO_FORCE = EXAMPLE_FORCE_CONFIG
DEMO_CENTRE = (52.8067, -2.1174)  # Stafford
# One demo resident in this many signed up by email, and one in this many WhatsApp residents texts instead
# (the rest: 60% Telegram, 40% WhatsApp).
EMAIL_ONE_IN = 20
SMS_ONE_IN = 4

logger = logging.getLogger("lookout.demo")


def run_demo(*, port: int, residents: int, sandbox_port: int = DEFAULT_PORT) -> None:
    upgrade(DEMO_DATABASE_URL)
    app_url = f"http://127.0.0.1:{port}"
    sandbox = _start_sandbox(SandboxConfig(app_url=app_url), sandbox_port)
    try:
        environment = {"LOOKOUT_DATABASE_URL": DEMO_DATABASE_URL, "LOOKOUT_FORCE_CONFIG": str(DEMO_FORCE),
                       **sandbox.app_environment()}
        registered = _register_telegram_webhook(environment)
        settings = Settings(**environment)
        asyncio.run(_seed_and_serve(settings, sandbox, port=port, residents=residents, registered=registered))
    finally:
        sandbox.stop()


def _register_telegram_webhook(environment: dict[str, str]) -> str:
    """What ``lookout telegram set-webhook`` does, so Telegram (here the sandbox) learns the app's webhook
    and secret and the console's Telegram phone reaches the app through the real door."""
    try:
        return set_webhook(Settings(**environment))
    except LookoutError as exc:
        raise LookoutError(f"Registering the Telegram webhook with the sandbox failed: {exc}") from None


def _start_sandbox(config: SandboxConfig, port: int) -> Sandbox:
    """The sandbox on its usual port, or on any free one when that is taken (the banner says which)."""
    try:
        return Sandbox(config, port=port, smtp_port=DEFAULT_SMTP_PORT).start()
    except OSError:
        logger.warning("port %d or %d is taken; the sandbox takes free ports instead", port, DEFAULT_SMTP_PORT)
        return Sandbox(config).start()


async def _seed_and_serve(settings: Settings, sandbox: Sandbox, *, port: int, residents: int, registered: str) -> None:
    lookout = build(settings)
    seeded = await _seed(lookout.engine, lookout.force, residents)
    await _subscribe_console_residents(lookout)
    _banner(lookout.force.name, port=port, seeded=seeded, sandbox=sandbox, registered=registered)
    await run_parts(lookout, web=True, worker=True, scheduler=True, host="127.0.0.1", port=port)


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
                address, age_confirmed=True, places=[NewPlace("Home", *DEMO_CENTRE)], topics=["all"])


def _banner(force_name: str, *, port: int, seeded: int, sandbox: Sandbox, registered: str) -> None:
    env = (
        f"export LOOKOUT_DATABASE_URL={DEMO_DATABASE_URL} "
        f"LOOKOUT_GEOCODER_DOMAIN={sandbox.geocoder_domain} LOOKOUT_GEOCODER_SCHEME=http"
    )
    text = (
        f"[bold]Lookout demo[/bold] for [bold]{force_name}[/bold] — {seeded:,} demo residents around Stafford.\n\n"
        f"[bold]Console:[/bold] {sandbox.console_url}  (open it in your browser)\n"
        f"  a Telegram phone (Sam, subscribed in the town centre), a WhatsApp phone and the officers' Slack.\n"
        f"[bold]Mailbox:[/bold] {sandbox.mailbox_url}  (Robin, {EMAIL_RESIDENT}, signed up by email in the town centre;\n"
        f"  mail goes through the SMTP relay stand-in on {sandbox.smtp_url}). Sign-up page: http://127.0.0.1:{port}/subscribe\n"
        f"App: http://127.0.0.1:{port}/healthz and /readyz\n"
        f"Sandbox: Telegram, Slack, WhatsApp, SMS (Twilio) and Nominatim stand-ins on {sandbox.base_url} "
        f"(/telegram, /slack/api/, /whatsapp, /sms, /nominatim).\n"
        f"{registered}\n\n"
        "Raise an alert from a second terminal, in this folder, and watch it arrive in the console:\n"
        f"  {env}\n"
        "  .venv/bin/lookout alert send --incident MV-20261125-0456 --headline 'Bogus callers' \\\n"
        "      --message 'Two men claiming to be from the water board.' --postcode 'ST16 2LZ' --radius 1km --everyone --yes\n"
        "  .venv/bin/lookout alert list\n\n"
        "Stop with Ctrl+C."
    )
    Console(stderr=True).print(Panel(text, title="make demo", expand=False))
