"""``lookout demo``: the whole service on SQLite, seeded, with no accounts needed.

Uses its own database (var/demo.db) and the example force, so it never touches
a real deployment's data. Local stand-ins answer for the outside world: a
Nominatim server for address lookups and a Telegram Bot API that the demo
residents' alerts are delivered to, so nothing needs a token or the internet.
"""
from __future__ import annotations

import asyncio
from pathlib import Path

from rich.console import Console
from rich.panel import Panel
from sqlalchemy import func, select

from benchmarks.population import build_population
from bots.app import build
from bots.serving import run_parts
from core.settings import Settings
from sandbox.nominatim import NominatimStandIn
from sandbox.telegram import TelegramStandIn
from storage.migrate import upgrade
from storage.tables import residents

ROOT = Path(__file__).resolve().parent.parent
DEMO_DATABASE_URL = "sqlite:///var/demo.db"
DEMO_FORCE = ROOT / "config" / "force.example.toml"
DEMO_CENTRE = (52.8067, -2.1174)  # Stafford
DEMO_TELEGRAM_TOKEN = "100000:SANDBOX"


def run_demo(*, port: int, residents: int) -> None:
    upgrade(DEMO_DATABASE_URL)
    with NominatimStandIn() as nominatim, TelegramStandIn(DEMO_TELEGRAM_TOKEN) as telegram:
        settings = Settings(
            LOOKOUT_DATABASE_URL=DEMO_DATABASE_URL,
            LOOKOUT_FORCE_CONFIG=str(DEMO_FORCE),
            LOOKOUT_GEOCODER="nominatim",
            LOOKOUT_GEOCODER_DOMAIN=nominatim.domain,
            LOOKOUT_GEOCODER_SCHEME="http",
            TELEGRAM_BOT_TOKEN=DEMO_TELEGRAM_TOKEN,
            TELEGRAM_API_BASE=telegram.base_url,
        )
        asyncio.run(_seed_and_serve(settings, port=port, residents=residents, geocoder_domain=nominatim.domain, telegram=telegram.base_url))


async def _seed_and_serve(settings: Settings, *, port: int, residents: int, geocoder_domain: str, telegram: str) -> None:
    lookout = build(settings)
    seeded = await _seed(lookout.engine, lookout.force, residents)
    _banner(lookout.force.name, port=port, seeded=seeded, geocoder_domain=geocoder_domain, telegram=telegram)
    await run_parts(lookout, web=True, worker=True, scheduler=True, host="127.0.0.1", port=port)


async def _seed(engine, force, count: int) -> int:  # noqa: ANN001
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
            # Telegram only while Telegram is the one platform Lookout delivers to;
            # WhatsApp residents join the demo with the WhatsApp adapter.
            telegram_share=1.0,
        )
        return count
    return existing


def _banner(force_name: str, *, port: int, seeded: int, geocoder_domain: str, telegram: str) -> None:
    env = (
        f"export LOOKOUT_DATABASE_URL={DEMO_DATABASE_URL} LOOKOUT_FORCE_CONFIG={DEMO_FORCE.relative_to(ROOT)} "
        f"LOOKOUT_GEOCODER_DOMAIN={geocoder_domain} LOOKOUT_GEOCODER_SCHEME=http"
    )
    text = (
        f"[bold]Lookout demo[/bold] for [bold]{force_name}[/bold] — {seeded:,} demo residents around Stafford.\n\n"
        f"App: http://127.0.0.1:{port}/healthz and /readyz\n"
        f"Telegram: a local stand-in at {telegram} receives the demo residents' alerts "
        f"(delivery counts at {telegram}/_sandbox/stats).\n\n"
        "In another terminal, from this folder:\n"
        f"  {env}\n"
        "  .venv/bin/lookout alert preview --incident MV-20261125-0456 --headline 'Bogus callers' \\\n"
        "      --message 'Two men claiming to be from the water board.' --postcode 'ST16 2LZ' --radius 1km\n"
        "  .venv/bin/lookout alert list\n\n"
        "Stop with Ctrl+C."
    )
    Console(stderr=True).print(Panel(text, title="make demo", expand=False))
