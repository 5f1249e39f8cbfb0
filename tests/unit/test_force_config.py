"""The force config: the example loads whole; every broken file names the file and the field."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from core.errors import InvalidInput
from core.force import ForceConfig, ForceConfigError, load_force_config
from core.geo.areas import PolygonArea
from runtime.examples import EXAMPLE_FORCE_CONFIG

EXAMPLE = EXAMPLE_FORCE_CONFIG

TOPICS = [
    "all",
    "missing",
    "bogus_callers",
    "burglary",
    "vehicle",
    "rural",
    "horse",
    "canal",
    "school",
    "cycle",
    "fraud",
    "asb",
]
SECTORS = [
    "retail",
    "licensed",
    "farming",
    "construction",
    "fuel",
    "hospitality",
    "education",
    "care_homes",
    "worship",
    "transport",
]


@pytest.fixture(scope="module")
def example() -> ForceConfig:
    return load_force_config(EXAMPLE)


# ---------------------------------------------------------------- the example file


def test_example_loads_with_every_topic_and_sector(example: ForceConfig) -> None:
    assert example.name == "Mercia Vale Police"
    assert example.settings.short_name == "Mercia Vale"
    assert "101" in example.contact
    assert list(example.topics) == TOPICS  # in the file's order, which is the order residents see
    assert list(example.sectors) == SECTORS
    assert all(t.label and t.description for t in example.topics.values())
    assert all(s.label for s in example.sectors.values())
    assert example.topics["all"].label == "All local crime"
    assert example.sectors["care_homes"].label == "Care homes"
    assert example.resolution == 10
    assert example.settings.minimum_age == 12
    assert example.settings.timezone == "Europe/London"
    assert example.settings.approval_threshold == 5000
    assert example.source == str(EXAMPLE)


def test_example_areas_are_loaded(example: ForceConfig) -> None:
    features = json.loads((EXAMPLE.parent / "areas.example.geojson").read_text())["features"]
    assert len(example.areas) == len(features) >= 4
    assert list(example.areas) == [f["properties"]["key"] for f in features]
    for feature in features:
        area = example.areas[feature["properties"]["key"]]
        assert isinstance(area, PolygonArea)
        assert area.name == feature["properties"]["name"]
        assert area.polygon.is_valid and 0 < area.area_km2() < 100
        lat, lon = area.centre
        assert 52.6 < lat < 53.0 and -2.4 < lon < -1.9  # around Stafford
    assert example.areas["town_centre"].name == "Stafford Town Centre"


# ---------------------------------------------------------------- broken files

VALID = """\
name = "Test Vale Police"
contact = "Call 101 quoting the incident number."
incident_pattern = "TV-[0-9]{6}"
incident_example = "TV-123456"
approval_threshold = 100
areas_file = "areas.geojson"

[[topics]]
key = "all"
label = "All local crime"
description = "Everything"

[[topics]]
key = "burglary"
label = "Burglary"
description = "Break-ins"

[[sectors]]
key = "retail"
label = "Retail"

[[sectors]]
key = "farming"
label = "Farming"
"""


def _square(lon: float, lat: float, d: float = 0.005) -> dict:
    ring = [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def _feature(key: str | None, name: str | None, geometry: dict | None) -> dict:
    props = {k: v for k, v in (("key", key), ("name", name)) if v is not None}
    return {"type": "Feature", "properties": props, "geometry": geometry}


def _areas(*features: dict) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


VALID_AREAS = _areas(
    _feature("town_centre", "Town Centre", _square(-2.12, 52.80)),
    _feature("north", "North End", _square(-2.12, 52.82)),
)
BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[-2.1, 52.8], [-2.09, 52.81], [-2.09, 52.8], [-2.1, 52.81], [-2.1, 52.8]]],
}


def write(tmp_path: Path, toml: str = VALID, areas: dict | str | None = VALID_AREAS) -> Path:
    config = tmp_path / "force.toml"
    config.write_text(toml, encoding="utf-8")
    if areas is not None:
        text = areas if isinstance(areas, str) else json.dumps(areas)
        (tmp_path / "areas.geojson").write_text(text, encoding="utf-8")
    return config


def test_the_valid_base_loads(tmp_path: Path) -> None:
    """The broken cases below are each one change away from this."""
    config = load_force_config(write(tmp_path))
    assert list(config.topics) == ["all", "burglary"]
    assert list(config.sectors) == ["retail", "farming"]
    assert list(config.areas) == ["town_centre", "north"]
    assert config.resolution == 10 and config.settings.minimum_age == 12


def _replace(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)

    return edit


def _append(extra: str) -> Callable[[str], str]:
    return lambda text: text + extra


def _prepend(extra: str) -> Callable[[str], str]:
    return lambda text: extra + text


_SAME = _append("")


def _template(
    extra: str = "", *, key: str = "burgled", label: str = "Burglary", message: str = "Near {street}."
) -> str:
    return (
        f'\n[templates.{key}]\nlabel = "{label}"\nheadline = "Burglary in {{street}}"\nmessage = "{message}"\n{extra}\n'
    )


# (id, edit to the TOML, areas file content, expected field, which file is named: "config" or "areas")
BROKEN = [
    (
        "bad-toml-syntax",
        _replace('name = "Test Vale Police"', 'name = "Test Vale Police'),
        VALID_AREAS,
        "(syntax)",
        "config",
    ),
    ("toml-duplicate-key", _prepend("minimum_age = 12\nminimum_age = 13\n"), VALID_AREAS, "(syntax)", "config"),
    ("missing-name", _replace('name = "Test Vale Police"\n', ""), VALID_AREAS, "name", "config"),
    ("name-too-short", _replace('name = "Test Vale Police"', 'name = "T"'), VALID_AREAS, "name", "config"),
    (
        "missing-contact",
        _replace('contact = "Call 101 quoting the incident number."\n', ""),
        VALID_AREAS,
        "contact",
        "config",
    ),
    ("bad-incident-regex", _replace('"TV-[0-9]{6}"', '"TV-[0-9{6}("'), VALID_AREAS, "incident_pattern", "config"),
    ("incident-example-not-matching", _replace('"TV-123456"', '"TV-12345"'), VALID_AREAS, "incident_example", "config"),
    ("duplicate-topic-key", _replace('key = "burglary"', 'key = "all"'), VALID_AREAS, "topics[1].key", "config"),
    ("duplicate-sector-key", _replace('key = "farming"', 'key = "retail"'), VALID_AREAS, "sectors[1].key", "config"),
    ("no-all-topic", _replace('key = "all"', 'key = "everything"'), VALID_AREAS, "topics", "config"),
    ("bad-topic-key", _replace('key = "burglary"', 'key = "Burglary!"'), VALID_AREAS, "topics[1].key", "config"),
    ("topic-without-label", _replace('label = "Burglary"\n', ""), VALID_AREAS, "topics[1].label", "config"),
    ("bad-sector-key", _replace('key = "farming"', 'key = "9farming"'), VALID_AREAS, "sectors[1].key", "config"),
    ("unknown-extra-field", _prepend('colour = "blue"\n'), VALID_AREAS, "colour", "config"),
    (
        "unknown-topic-field",
        _replace('label = "Burglary"', 'label = "Burglary"\nicon = "house"'),
        VALID_AREAS,
        "topics[1].icon",
        "config",
    ),
    ("minimum-age-10", _prepend("minimum_age = 10\n"), VALID_AREAS, "minimum_age", "config"),
    ("location-precision-14", _prepend("location_precision = 14\n"), VALID_AREAS, "location_precision", "config"),
    ("location-precision-6", _prepend("location_precision = 6\n"), VALID_AREAS, "location_precision", "config"),
    ("bad-timezone", _prepend('timezone = "Europe/Stafford"\n'), VALID_AREAS, "timezone", "config"),
    ("timezone-path", _prepend('timezone = "../../etc/passwd"\n'), VALID_AREAS, "timezone", "config"),
    (
        "bad-approval-status",
        _prepend('approval_required_statuses = ["Live"]\n'),
        VALID_AREAS,
        "approval_required_statuses",
        "config",
    ),
    (
        "negative-threshold",
        _replace("approval_threshold = 100", "approval_threshold = -1"),
        VALID_AREAS,
        "approval_threshold",
        "config",
    ),
    ("no-topics", lambda t: t.split("[[topics]]")[0] + "topics = []\n", VALID_AREAS, "topics", "config"),
    ("areas-file-missing", _replace('"areas.geojson"', '"nowhere.geojson"'), VALID_AREAS, "areas_file", "config"),
    (
        "template-unknown-topic",
        _append(_template('topics = ["unicorns"]')),
        VALID_AREAS,
        "templates.burgled.topics",
        "config",
    ),
    (
        "template-bad-urgency",
        _append(_template('urgency = "Soonish"')),
        VALID_AREAS,
        "templates.burgled.urgency",
        "config",
    ),
    (
        "template-unknown-severity",
        _append(_template('severity = "Awful"')),
        VALID_AREAS,
        "templates.burgled.severity",
        "config",
    ),
    (
        "template-bad-audience",
        _append(_template('audience = "everybody"')),
        VALID_AREAS,
        "templates.burgled.audience",
        "config",
    ),
    (
        "template-radius-too-big",
        _append(_template('radius = "5km"')),
        VALID_AREAS,
        "templates.burgled.radius",
        "config",
    ),
    (
        "template-radius-not-a-distance",
        _append(_template('radius = "near"')),
        VALID_AREAS,
        "templates.burgled.radius",
        "config",
    ),
    (
        "template-everyone-and-topics",
        _append(_template('everyone = true\ntopics = ["burglary"]')),
        VALID_AREAS,
        "templates.burgled",
        "config",
    ),
    (
        "template-stray-brace",
        _append(_template(message="Seen near {street.")),
        VALID_AREAS,
        "templates.burgled.message",
        "config",
    ),
    (
        "template-capital-placeholder",
        _append(_template(message="Seen near {Street}.")),
        VALID_AREAS,
        "templates.burgled.message",
        "config",
    ),
    (
        "template-without-headline",
        _append('\n[templates.burgled]\nlabel = "Burglary"\nmessage = "m"\n'),
        VALID_AREAS,
        "templates.burgled.headline",
        "config",
    ),
    ("template-unknown-field", _append(_template('colour = "red"')), VALID_AREAS, "templates.burgled.colour", "config"),
    ("template-label-too-long", _append(_template(label="x" * 61)), VALID_AREAS, "templates.burgled.label", "config"),
    ("template-bad-key", _append(_template(key='"Burgled!"')), VALID_AREAS, "templates.Burgled!", "config"),
    ("areas-not-feature-collection", _SAME, {"type": "Feature", "properties": {}, "geometry": None}, "type", "areas"),
    ("areas-features-not-a-list", _SAME, {"type": "FeatureCollection", "features": {}}, "type", "areas"),
    ("areas-a-list", _SAME, [], "type", "areas"),
    ("areas-bad-json", _SAME, '{"type": "FeatureCollection", "features": [', "(syntax)", "areas"),
    (
        "area-without-key",
        _SAME,
        _areas(_feature(None, "Town Centre", _square(-2.12, 52.8))),
        "features[0].properties.key",
        "areas",
    ),
    (
        "area-bad-key",
        _SAME,
        _areas(_feature("Town Centre", "Town Centre", _square(-2.12, 52.8))),
        "features[0].properties.key",
        "areas",
    ),
    (
        "area-without-name",
        _SAME,
        _areas(_feature("town", None, _square(-2.12, 52.8))),
        "features[0].properties.name",
        "areas",
    ),
    (
        "area-duplicate-key",
        _SAME,
        _areas(_feature("town", "Town", _square(-2.12, 52.8)), _feature("town", "Town 2", _square(-2.12, 52.82))),
        "features[1].properties.key",
        "areas",
    ),
    (
        "area-self-intersecting",
        _SAME,
        _areas(_feature("town", "Town", _square(-2.12, 52.8)), _feature("bowtie", "Bow Tie", BOWTIE)),
        "features[1].geometry",
        "areas",
    ),
    (
        "area-not-a-polygon",
        _SAME,
        _areas(_feature("pt", "Point", {"type": "Point", "coordinates": [-2.1, 52.8]})),
        "features[0].geometry",
        "areas",
    ),
    ("area-no-geometry", _SAME, _areas(_feature("none", "Nothing", None)), "features[0].geometry", "areas"),
    (
        "area-too-big",
        _SAME,
        _areas(_feature("county", "County", _square(-2.5, 52.5, 0.5))),
        "features[0].geometry",
        "areas",
    ),
    ("area-feature-not-an-object", _SAME, _areas("town"), "features[0].properties.key", "areas"),  # type: ignore[arg-type]
    (
        "area-properties-not-an-object",
        _SAME,
        _areas({"type": "Feature", "properties": ["town"], "geometry": _square(-2.12, 52.8)}),
        "features[0].properties.key",
        "areas",
    ),
]


@pytest.mark.parametrize(("edit", "areas", "field", "named"), [pytest.param(*case[1:], id=case[0]) for case in BROKEN])
def test_broken_config_names_file_and_field(tmp_path: Path, edit, areas, field: str, named: str) -> None:
    config = write(tmp_path, edit(VALID), areas)
    with pytest.raises(ForceConfigError) as excinfo:
        load_force_config(config)
    error = excinfo.value
    path = str(config) if named == "config" else str((tmp_path / "areas.geojson").resolve())
    assert error.field == field, str(error)
    assert error.path == path
    assert str(error).startswith(f"{path}: {field}: "), str(error)
    assert error.problem and error.problem.strip() == error.problem


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "no-such-force.toml"
    with pytest.raises(ForceConfigError) as excinfo:
        load_force_config(path)
    assert excinfo.value.field == "(file)"
    assert str(excinfo.value).startswith(f"{path}: (file): ")
    assert "LOOKOUT_FORCE_CONFIG" in str(excinfo.value)


def test_a_directory_instead_of_a_file(tmp_path: Path) -> None:
    with pytest.raises(ForceConfigError) as excinfo:
        load_force_config(tmp_path)
    assert excinfo.value.field == "(file)"
    assert str(excinfo.value).startswith(f"{tmp_path}: (file): ")


def test_areas_file_is_a_directory(tmp_path: Path) -> None:
    config = write(tmp_path, VALID.replace('"areas.geojson"', '"areas"'), None)
    (tmp_path / "areas").mkdir()
    with pytest.raises(ForceConfigError) as excinfo:
        load_force_config(config)
    assert excinfo.value.field == "areas_file"
    assert str(excinfo.value).startswith(f"{config}: areas_file: ")


def test_not_utf8(tmp_path: Path) -> None:
    config = tmp_path / "force.toml"
    config.write_bytes(VALID.replace("Test Vale", "T\xe9st Vale").encode("latin-1"))
    with pytest.raises(ForceConfigError) as excinfo:
        load_force_config(config)
    assert excinfo.value.field == "(file)"
    assert str(config) in str(excinfo.value)


def test_areas_file_is_optional_and_relative_to_the_config(tmp_path: Path) -> None:
    assert load_force_config(write(tmp_path, VALID.replace('areas_file = "areas.geojson"\n', ""), None)).areas == {}
    sub = tmp_path / "maps"
    sub.mkdir()
    (sub / "areas.geojson").write_text(json.dumps(VALID_AREAS))
    config = write(tmp_path, VALID.replace('"areas.geojson"', '"maps/areas.geojson"'), None)
    assert list(load_force_config(config).areas) == ["town_centre", "north"]


def test_area_names_are_trimmed(tmp_path: Path) -> None:
    areas = _areas(_feature("town", "  Town Centre  ", _square(-2.12, 52.8)))
    assert load_force_config(write(tmp_path, VALID, areas)).areas["town"].name == "Town Centre"


# ---------------------------------------------------------------- checks against the config


def test_check_incident_number(example: ForceConfig) -> None:
    assert example.check_incident_number("MV-20261125-0456") == "MV-20261125-0456"
    assert example.check_incident_number("  MV-20261125-0456\n") == "MV-20261125-0456"


@pytest.mark.parametrize(
    "value", ["", "   ", "MV-2026112-0456", "MV-20261125-0456X", "XMV-20261125-0456", "mv-20261125-0456", "123"]
)
def test_check_incident_number_refuses(example: ForceConfig, value: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        example.check_incident_number(value)
    assert list(excinfo.value.errors) == ["incident_number"]
    if value.strip():
        assert "MV-20261125-0456" in excinfo.value.errors["incident_number"]  # shows the example


def test_check_topics(example: ForceConfig) -> None:
    assert example.check_topics(["burglary", "all", "burglary"]) == ("burglary", "all")
    assert example.check_topics(("fraud",)) == ("fraud",)
    with pytest.raises(InvalidInput) as excinfo:
        example.check_topics(["burglary", "arson", "Burglary"])
    assert list(excinfo.value.errors) == ["topics"]
    assert "'arson'" in excinfo.value.errors["topics"] and "'Burglary'" in excinfo.value.errors["topics"]
    assert "'burglary'" not in excinfo.value.errors["topics"].split(";")[0]
    with pytest.raises(InvalidInput) as excinfo:
        example.check_topics(["retail"], field="alert_topics")  # a sector is not a topic
    assert list(excinfo.value.errors) == ["alert_topics"]


def test_check_sectors(example: ForceConfig) -> None:
    assert example.check_sectors(["retail", "fuel", "retail"]) == ("retail", "fuel")
    assert example.check_sectors([]) == ()
    with pytest.raises(InvalidInput) as excinfo:
        example.check_sectors(["retail", "banking"])
    assert list(excinfo.value.errors) == ["sectors"]
    assert "'banking'" in excinfo.value.errors["sectors"]
    with pytest.raises(InvalidInput) as excinfo:
        example.check_sectors(["burglary"], field="business_sectors")  # a topic is not a sector
    assert list(excinfo.value.errors) == ["business_sectors"]


def test_check_sectors_with_none_configured(tmp_path: Path) -> None:
    config = load_force_config(write(tmp_path, VALID.split("[[sectors]]")[0]))
    assert config.sectors == {}
    with pytest.raises(InvalidInput) as excinfo:
        config.check_sectors(["retail"])
    assert "(none configured)" in excinfo.value.errors["sectors"]


@pytest.mark.parametrize(
    ("asked", "key"),
    [
        ("town_centre", "town_centre"),
        ("TOWN_CENTRE", "town_centre"),
        ("Stafford Town Centre", "town_centre"),
        ("  stafford town centre ", "town_centre"),
        ("highfields", "highfields"),
        ("Highfields and Western Downs", "highfields"),
        ("rowley park", "rowley_park"),
    ],
)
def test_area_lookup_by_key_or_name(example: ForceConfig, asked: str, key: str) -> None:
    assert example.area(asked) is example.areas[key]


@pytest.mark.parametrize("asked", ["", "atlantis", "town", "Stafford Town"])
def test_area_lookup_unknown(example: ForceConfig, asked: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        example.area(asked)
    assert list(excinfo.value.errors) == ["area"]
    assert "town_centre" in excinfo.value.errors["area"]  # lists what is known


def test_ticking_a_specific_topic_unticks_all_local_crime_and_back():
    from core.force import settle_topics, toggle_topic

    assert toggle_topic({"all"}, "burglary") == {"burglary"}
    assert toggle_topic({"burglary"}, "missing") == {"burglary", "missing"}
    assert toggle_topic({"burglary", "missing"}, "all") == {"all"}
    assert toggle_topic({"burglary", "missing"}, "missing") == {"burglary"}
    assert settle_topics(["all", "burglary"]) == ("burglary",) and settle_topics(["all"]) == ("all",)


def test_templates_load_with_their_placeholders_and_defaults(tmp_path: Path) -> None:
    config = load_force_config(
        write(tmp_path, VALID + _template('topics = ["burglary"]\nurgency = "expected"\nradius = "750m"'))
    )
    template = config.template("burgled")
    assert template.placeholders == ("street",) and template.topics == ["burglary"]
    assert template.urgency == "Expected" and template.radius_m == 750.0  # names read as Lookout spells them
    with pytest.raises(InvalidInput) as unknown:
        config.template("burgld", "--template")
    assert unknown.value.errors == {"--template": "no template 'burgld'; choose from burgled"}


def test_the_example_templates_are_the_six_a_force_starts_with(example: ForceConfig) -> None:
    assert list(example.templates) == [
        "missing_person",
        "bogus_callers",
        "burglary_in_progress",
        "vehicle_crime",
        "road_closure",
        "found_safe",
    ]
    missing = example.templates["missing_person"]
    assert missing.everyone and missing.urgency == "Immediate" and missing.severity == "Severe"
    assert missing.placeholders == ("name", "age", "last_seen", "clothing")
    assert all(t.placeholders for t in example.templates.values())
