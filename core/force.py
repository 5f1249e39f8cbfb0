"""The force's configuration: who they are, what residents can choose, where.

Loaded once at start from the TOML file named by ``LOOKOUT_FORCE_CONFIG``.
Every problem is reported as ``<file>: <field>: <what is wrong>`` so whoever
edits the file can go straight to the line.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from shapely.geometry import shape

from core.errors import InvalidInput, LookoutError
from core.geo.areas import MAX_RADIUS_M, MIN_RADIUS_M, PolygonArea
from core.geo.cells import DEFAULT_RESOLUTION, MAX_RESOLUTION, MIN_RESOLUTION
from core.geo.coords import format_distance, parse_distance
from core.model import Audience, Severity, Urgency
from core.templates import malformed_braces, placeholders

ALL_TOPICS = "all"


def toggle_topic(chosen: set[str] | frozenset[str], key: str) -> set[str]:
    """A resident ticks or unticks ``key``: what they see ticked is what they will get.

    "All local crime" and specific topics exclude each other: ticking a specific
    topic unticks All local crime (else it would still bring every alert), and
    ticking All local crime clears the specific ones it covers.
    """
    if key in chosen:
        return set(chosen) - {key}
    if key == ALL_TOPICS:
        return {ALL_TOPICS}
    return (set(chosen) - {ALL_TOPICS}) | {key}


def settle_topics(picked: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Topics ticked together on a form: specific ones win over All local crime, as ticking does."""
    specific = tuple(dict.fromkeys(t for t in picked if t != ALL_TOPICS))
    return specific or tuple(dict.fromkeys(picked))


_KEY = re.compile(r"^[a-z][a-z0-9_]{0,30}$")


class ForceConfigError(LookoutError):
    """The force config file is missing or wrong; names the file and field."""

    def __init__(self, path: Path | str, field: str, problem: str) -> None:
        self.path, self.field, self.problem = str(path), field, problem
        super().__init__(f"{path}: {field}: {problem}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Topic(_Strict):
    key: str
    label: str = Field(min_length=1, max_length=40)
    description: str = Field(min_length=1, max_length=200)

    @field_validator("key")
    @classmethod
    def _key_shape(cls, value: str) -> str:
        if not _KEY.match(value):
            raise ValueError("keys are lower-case letters, digits and _ (up to 31), starting with a letter")
        return value


class Sector(_Strict):
    key: str
    label: str = Field(min_length=1, max_length=40)

    _key_shape = field_validator("key")(Topic._key_shape.__func__)  # type: ignore[attr-defined]


def _one_of(value: str | None, kind: type, allowed: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    for member in kind:  # type: ignore[attr-defined]
        if member.value in allowed and value.strip().lower() == member.value.lower():
            return str(member.value)
    raise ValueError(f"'{value}' is not one of {', '.join(allowed)}")


class AlertTemplate(_Strict):
    """``[templates.<key>]``: an alert officers start from, its ``{placeholders}`` filled in by them."""

    label: str = Field(min_length=1, max_length=60, description="what officers choose it by")
    headline: str = Field(min_length=1, max_length=120)
    message: str = Field(min_length=1, max_length=3000)
    topics: list[str] = Field(default_factory=list)
    everyone: bool = False
    urgency: str | None = None
    severity: str | None = None
    audience: str | None = None
    radius: str | None = None

    @field_validator("headline", "message")
    @classmethod
    def _placeholders_well_formed(cls, value: str) -> str:
        if malformed_braces(value):
            raise ValueError(
                "a brace that is not part of a placeholder; placeholders are lower-case names in braces, "
                "such as {name} or {street}"
            )
        return value

    @field_validator("urgency")
    @classmethod
    def _urgency(cls, value: str | None) -> str | None:
        return _one_of(value, Urgency, tuple(u.value for u in Urgency if u is not Urgency.UNKNOWN))

    @field_validator("severity")
    @classmethod
    def _severity(cls, value: str | None) -> str | None:
        return _one_of(value, Severity, tuple(s.value for s in Severity))

    @field_validator("audience")
    @classmethod
    def _audience(cls, value: str | None) -> str | None:
        return _one_of(value, Audience, tuple(a.value for a in Audience))

    @field_validator("radius")
    @classmethod
    def _radius(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            metres = parse_distance(value)
        except InvalidInput as exc:
            raise ValueError(exc.errors["radius"]) from None
        if not MIN_RADIUS_M <= metres <= MAX_RADIUS_M:
            raise ValueError(f"'{value}' is outside {format_distance(MIN_RADIUS_M)} to {format_distance(MAX_RADIUS_M)}")
        return value

    @model_validator(mode="after")
    def _reach(self) -> AlertTemplate:
        if self.everyone and self.topics:
            raise ValueError("give everyone = true or topics, not both")
        return self

    @property
    def placeholders(self) -> tuple[str, ...]:
        """Every placeholder of the headline and the message, each once."""
        return tuple(dict.fromkeys((*placeholders(self.headline), *placeholders(self.message))))

    @property
    def radius_m(self) -> float | None:
        return parse_distance(self.radius) if self.radius else None


class ForceSettings(_Strict):
    """The TOML file's shape (before the named areas are loaded)."""

    name: str = Field(min_length=2, max_length=80)
    short_name: str = Field(default="", max_length=30)
    contact: str = Field(min_length=5, max_length=300, description="default contact text on every alert")
    timezone: str = "Europe/London"
    incident_pattern: str = Field(min_length=1, max_length=200)
    incident_example: str = ""
    approval_threshold: int = Field(ge=0, le=10_000_000)
    approval_required_statuses: list[str] = Field(default_factory=list)
    minimum_age: int = Field(default=12, ge=12, le=21)
    location_precision: int = Field(default=DEFAULT_RESOLUTION, ge=MIN_RESOLUTION, le=MAX_RESOLUTION)
    default_alert_hours: int = Field(default=24, ge=1, le=24 * 14)
    tips_per_minute: int = Field(
        default=3, ge=1, le=60, description="flood control: tips one resident may send a minute"
    )
    # CAP 1.2: who the force is as a sender, and which alerts anyone may read (feed and documents). Default: none.
    cap_sender: str = Field(default="", max_length=100, pattern=r"^[^\s,<&]*$")
    cap_public_statuses: list[str] = Field(default_factory=list)
    areas_file: str | None = None
    topics: list[Topic] = Field(min_length=1)
    sectors: list[Sector] = Field(default_factory=list)
    templates: dict[str, AlertTemplate] = Field(default_factory=dict)

    @field_validator("incident_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression ({exc})") from None
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not a time zone name such as Europe/London") from None
        return value

    @field_validator("approval_required_statuses", "cap_public_statuses")
    @classmethod
    def _statuses(cls, value: list[str]) -> list[str]:
        allowed = {"Actual", "Exercise", "Test"}
        for status in value:
            if status not in allowed:
                raise ValueError(f"'{status}' is not one of Actual, Exercise, Test")
        return value

    @model_validator(mode="after")
    def _unique_keys_and_example(self) -> ForceSettings:
        keyed: tuple[tuple[str, Sequence[Topic | Sector]], ...] = (("topics", self.topics), ("sectors", self.sectors))
        for list_name, items in keyed:
            seen: set[str] = set()
            for index, item in enumerate(items):
                if item.key in seen:
                    raise ValueError(f"{list_name}[{index}].key: '{item.key}' appears twice")
                seen.add(item.key)
        if ALL_TOPICS not in {t.key for t in self.topics}:
            raise ValueError(f"topics: one topic must have key '{ALL_TOPICS}' (all local crime)")
        if self.incident_example and not re.fullmatch(self.incident_pattern, self.incident_example):
            raise ValueError("incident_example: does not match incident_pattern")
        topics = [t.key for t in self.topics]
        for key, template in self.templates.items():
            if not _KEY.match(key):
                raise ValueError(
                    f"templates.{key}: template keys are lower-case letters, digits and _ (up to 31), "
                    "starting with a letter"
                )
            unknown = [t for t in template.topics if t not in topics]
            if unknown:
                raise ValueError(
                    f"templates.{key}.topics: unknown topic {', '.join(map(repr, unknown))}; "
                    f"choose from {', '.join(topics)}"
                )
        return self


@dataclass(frozen=True)
class ForceConfig:
    """The validated configuration with its named areas loaded."""

    settings: ForceSettings
    areas: dict[str, PolygonArea]
    source: str

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def contact(self) -> str:
        return self.settings.contact

    @property
    def topics(self) -> dict[str, Topic]:
        return {t.key: t for t in self.settings.topics}

    @property
    def sectors(self) -> dict[str, Sector]:
        return {s.key: s for s in self.settings.sectors}

    @property
    def templates(self) -> dict[str, AlertTemplate]:
        return dict(self.settings.templates)

    def template(self, key: str, field: str = "template") -> AlertTemplate:
        found = self.settings.templates.get(key.strip())
        if found is None:
            known = ", ".join(self.settings.templates) or "(none configured)"
            raise InvalidInput.one(field, f"no template '{key.strip()}'; choose from {known}")
        return found

    @property
    def resolution(self) -> int:
        return self.settings.location_precision

    def check_incident_number(self, value: str) -> str:
        text = value.strip()
        if not text:
            raise InvalidInput.one("incident_number", "every alert needs an incident number")
        if not re.fullmatch(self.settings.incident_pattern, text):
            example = f", for example {self.settings.incident_example}" if self.settings.incident_example else ""
            raise InvalidInput.one(
                "incident_number", f"'{text}' is not in this force's incident-number format{example}"
            )
        return text

    def check_topics(self, keys: list[str] | tuple[str, ...], field: str = "topics") -> tuple[str, ...]:
        unknown = [k for k in keys if k not in self.topics]
        if unknown:
            raise InvalidInput.one(
                field, f"unknown topic {', '.join(map(repr, unknown))}; choose from {', '.join(self.topics)}"
            )
        return tuple(dict.fromkeys(keys))

    def check_sectors(self, keys: list[str] | tuple[str, ...], field: str = "sectors") -> tuple[str, ...]:
        unknown = [k for k in keys if k not in self.sectors]
        if unknown:
            raise InvalidInput.one(
                field,
                f"unknown sector {', '.join(map(repr, unknown))}; choose from {', '.join(self.sectors) or '(none configured)'}",
            )
        return tuple(dict.fromkeys(keys))

    def area(self, name: str) -> PolygonArea:
        key = name.strip().lower()
        for area_key, area in self.areas.items():
            if key in (area_key, area.name.lower()):
                return area
        raise InvalidInput.one(
            "area", f"no named area '{name}'; known areas: {', '.join(self.areas) or '(none configured)'}"
        )


def load_force_config(path: Path | str) -> ForceConfig:
    """Read, validate and return the force config, or raise ``ForceConfigError``."""
    file = Path(path)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ForceConfigError(
            file, "(file)", "no such file; set LOOKOUT_FORCE_CONFIG to the force's TOML file"
        ) from None
    except OSError as exc:  # a directory, no permission, ...
        raise ForceConfigError(file, "(file)", f"cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ForceConfigError(file, "(file)", "is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ForceConfigError(file, "(syntax)", str(exc)) from None
    try:
        settings = ForceSettings.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(_loc_part(p) for p in first["loc"]).replace(".[", "[") or "(top level)"
        message = first["msg"].removeprefix("Value error, ")
        if ": " in message and field == "(top level)":
            field, message = message.split(": ", 1)
        raise ForceConfigError(file, field, message) from None
    areas = _load_areas(file, settings.areas_file) if settings.areas_file else {}
    return ForceConfig(settings=settings, areas=areas, source=str(file))


def _loc_part(part: Any) -> str:
    return f"[{part}]" if isinstance(part, int) else str(part)


def _load_areas(config_file: Path, areas_file: str) -> dict[str, PolygonArea]:
    """Named areas from a GeoJSON FeatureCollection; each feature needs ``properties.key`` and ``name``."""
    path = (config_file.parent / areas_file).resolve()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ForceConfigError(config_file, "areas_file", f"{path} does not exist") from None
    except OSError as exc:  # a directory, no permission, ...
        raise ForceConfigError(config_file, "areas_file", f"{path} cannot be read ({exc.strerror or exc})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ForceConfigError(path, "(syntax)", f"not valid GeoJSON ({exc})") from None
    if (
        not isinstance(data, dict)
        or data.get("type") != "FeatureCollection"
        or not isinstance(data.get("features"), list)
    ):
        raise ForceConfigError(path, "type", "must be a GeoJSON FeatureCollection")
    areas: dict[str, PolygonArea] = {}
    for index, feature in enumerate(data["features"]):
        field = f"features[{index}]"
        props = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(props, dict):  # missing, null, or not an object
            props = {}
        key, name = props.get("key"), props.get("name")
        if not isinstance(key, str) or not _KEY.match(key):
            raise ForceConfigError(path, f"{field}.properties.key", "needs a lower-case key such as 'town_centre'")
        if not isinstance(name, str) or not name.strip():
            raise ForceConfigError(path, f"{field}.properties.name", "needs a name such as 'Stafford Town Centre'")
        if key in areas:
            raise ForceConfigError(path, f"{field}.properties.key", f"'{key}' appears twice")
        try:
            geometry = shape(feature["geometry"])
            areas[key] = PolygonArea(name.strip(), geometry)
        except InvalidInput as exc:
            raise ForceConfigError(path, f"{field}.geometry", "; ".join(exc.errors.values())) from None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ForceConfigError(path, f"{field}.geometry", f"is not a GeoJSON polygon ({exc})") from None
    return areas
