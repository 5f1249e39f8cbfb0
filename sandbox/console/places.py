"""Preset places for the console's location picker: around Stafford, and in the sandbox's gazetteer."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class PresetPlace:
    name: str
    latitude: float
    longitude: float


PRESET_PLACES: tuple[PresetPlace, ...] = (
    PresetPlace("Stafford town centre", 52.8067, -2.1174),
    PresetPlace("Eastgate Street, Stafford", 52.80710, -2.11321),
    PresetPlace("Greengate Street, Stafford", 52.80601, -2.11762),
    PresetPlace("Station Road, Stafford", 52.80420, -2.12110),
    PresetPlace("North Stafford (ST16 3AA)", 52.81270, -2.11830),
    PresetPlace("South Stafford (ST17 4AH)", 52.79930, -2.11010),
    PresetPlace("Stone town centre", 52.9035, -2.1466),
)


def presets_json() -> list[dict[str, Any]]:
    return [asdict(place) for place in PRESET_PLACES]
