"""Helpers that put residents into a test database through the real repositories."""

from __future__ import annotations

import itertools

from core.geo.cells import snap
from core.model import Address, Channel, Place, Resident
from core.ports import UnitOfWorkFactory

STAFFORD = (52.8067, -2.1174)
_ids = itertools.count(1000)


def resident_at(
    lat: float,
    lon: float,
    *,
    channel: Channel = Channel.TELEGRAM,
    topics: frozenset[str] = frozenset({"all"}),
    sector: str | None = None,
    resolution: int = 10,
    ident: str | None = None,
    **fields: object,
) -> Resident:
    """A subscribed resident with one place; ``ident`` (a chat id, number or email address) is made up unless given."""
    number = next(_ids)
    if ident is None:
        ident = {Channel.TELEGRAM: str(number), Channel.EMAIL: f"resident{number}@example.org"}.get(
            channel, f"4477009{number:05d}"
        )
    return Resident(
        address=Address(channel, ident),
        age_confirmed=True,
        topics=topics,
        sector=sector,
        places=[Place("Home", snap(lat, lon, resolution))],
        **fields,  # type: ignore[arg-type]
    )


async def add_residents(uow_factory: UnitOfWorkFactory, *residents: Resident) -> list[Resident]:
    async with uow_factory() as uow:
        for resident in residents:
            await uow.residents.add(resident)
        await uow.commit()
    return list(residents)


def offset(lat: float, lon: float, north_m: float = 0.0, east_m: float = 0.0) -> tuple[float, float]:
    """A point ``north_m``/``east_m`` metres from (lat, lon), geodesically."""
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    lon1, lat1, _ = geod.fwd(lon, lat, 0.0, north_m)
    lon2, lat2, _ = geod.fwd(lon1, lat1, 90.0, east_m)
    return lat2, lon2
