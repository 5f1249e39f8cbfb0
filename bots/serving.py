"""Running the ASGI app under uvicorn, after checking the schema is current."""
from __future__ import annotations

import asyncio
import logging

import uvicorn

from bots.app import Lookout, build, create_app, describe_platforms
from core.errors import LookoutError
from core.settings import Settings

logger = logging.getLogger("lookout")


class SchemaOutOfDate(LookoutError):
    pass


async def require_current_schema(lookout: Lookout) -> None:
    current, head = await lookout.schema_status()
    if current != head:
        state = "has no Lookout tables yet" if current is None else f"is at revision {current}"
        raise SchemaOutOfDate(
            f"The database schema {state}; this version of Lookout needs revision {head}. "
            "Run `lookout db upgrade` (with the same LOOKOUT_DATABASE_URL), then start again."
        )


async def serve_app(lookout: Lookout, *, host: str, port: int) -> None:
    try:
        await require_current_schema(lookout)
    except BaseException:
        await lookout.aclose()
        raise
    logger.info("serving %s on http://%s:%d (%s)", lookout.force.name, host, port, describe_platforms(lookout))
    config = uvicorn.Config(create_app(lookout), host=host, port=port, log_level="info", lifespan="on")
    await uvicorn.Server(config).serve()


def serve_forever(settings: Settings, *, host: str, port: int) -> None:
    asyncio.run(serve_app(build(settings), host=host, port=port))
