"""``lookout alert …`` as an operator types it, against real databases and a local Nominatim."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from core.clock import utc_now
from sandbox.nominatim import NominatimStandIn
from storage.database import make_async_engine, sqlite_file
from storage.tables import alerts, audit_log, deliveries
from storage.uow import unit_of_work_factory
from tests.support.database import count, rows
from tests.support.migrations import empty_database  # noqa: F401 - the fixture
from tests.support.processes import lookout_env, run_json, run_lookout
from tests.support.residents import STAFFORD, add_residents, offset, resident_at
from tests.support.slack_officer import force_config

COMPOSE = [
    "--incident",
    "MV-20261125-0456",
    "--headline",
    "Bogus callers",
    "--message",
    "Two men claiming to be from the water board.",
    "--everyone",
]


@pytest.fixture(scope="module")
def nominatim():
    with NominatimStandIn() as stand_in:
        yield stand_in


@pytest.fixture
def env(database_url: str, nominatim: NominatimStandIn) -> dict[str, str]:
    async def seed() -> None:
        engine = make_async_engine(database_url)
        near = [resident_at(*offset(*STAFFORD, north_m=40 * i)) for i in range(5)]
        far = resident_at(*offset(*STAFFORD, north_m=5000))
        await add_residents(unit_of_work_factory(engine, clock=utc_now), *near, far)
        await engine.dispose()

    asyncio.run(seed())
    return lookout_env(database_url, LOOKOUT_GEOCODER_DOMAIN=nominatim.domain)


def test_preview_send_update_cancel_list(env: dict[str, str], database_url: str) -> None:
    preview = run_json(["alert", "preview", *COMPOSE, "--at", f"{STAFFORD[0]},{STAFFORD[1]}", "--radius", "500m"], env)
    assert (
        preview["state"] == "draft" and preview["recipients"] == {"telegram": 5} and preview["approval_needed"] is False
    )
    assert count(database_url, deliveries) == 0

    sent = run_json(["alert", "send", preview["reference"], "--yes"], env)
    assert sent["reference"] == preview["reference"] and sent["state"] == "sending" and sent["total"] == 5
    assert count(database_url, deliveries) == 5

    update = run_json(["alert", "update", preview["reference"], "--message", "Both men arrested."], env)
    assert update["type"] == "Update" and update["total"] == 5

    cancelled = run_json(["alert", "cancel", preview["reference"], "--yes", "--reason", "Resolved."], env)
    assert cancelled["type"] == "Cancel" and cancelled["total"] == 0  # nothing had been delivered yet

    listed = run_json(["alert", "list"], env)
    assert [a["type"] for a in listed] == ["Cancel", "Update", "Alert"]
    assert listed[2]["state"] == "cancelled"
    human = run_lookout(["alert", "list"], env)
    assert human.returncode == 0 and preview["reference"] in human.stdout


def test_send_in_one_go_by_postcode_and_by_street(env: dict[str, str]) -> None:
    by_postcode = run_json(["alert", "send", *COMPOSE, "--postcode", "st16 2lz", "--radius", "2km", "--yes"], env)
    assert by_postcode["area"] == "within 2 km of Eastgate Street, Stafford"
    by_street = run_json(["alert", "send", *COMPOSE, "--street", "Eastgate Street, Stafford", "--yes"], env)
    assert by_street["area"].startswith("Eastgate Street") and by_street["area"].endswith("50 m either side")
    named = run_json(["alert", "send", *COMPOSE, "--area", "town_centre", "--yes"], env)
    assert named["area"] == "the Stafford Town Centre area"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--at", "52.8,-2.1", "--radius", "5km"], "radius"),
        (["--at", "52.8,-2.1", "--radius", "20m"], "radius"),
        (["--at", "nan,-2.1"], "at"),
        (["--at", "95,-2.1"], "at"),
        (["--at", "52.8,-2.1", "--topics", "unicorns"], "topics"),
        (["--at", "52.8,-2.1", "--sectors", "piracy"], "sectors"),
        (["--postcode", "NOT A POSTCODE"], "postcode"),
        (["--postcode", "ZZ9 9ZZ"], "postcode"),
        (["--street", "Station Road"], "street"),  # two towns have one
        (["--area", "atlantis"], "area"),
        ([], "where"),
    ],
)
# Validation happens before the database is touched, so one database shows it; the
# service-level bad-input tests run on both.
def test_bad_input_names_the_field_and_writes_nothing(
    env: dict[str, str], database_url: str, args: list[str], field: str
) -> None:
    done = run_lookout(["alert", "send", *COMPOSE, *args, "--yes"], env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{field}:" in done.stderr
    assert "Traceback" not in done.stderr
    assert (
        count(database_url, alerts) == 0
        and count(database_url, deliveries) == 0
        and count(database_url, audit_log) == 0
    )


def test_missing_incident_number_and_overlong_message(env: dict[str, str], database_url: str) -> None:
    no_incident = run_lookout(["alert", "send", "--headline", "h", "--message", "m", "--at", "52.8,-2.1", "--yes"], env)
    assert no_incident.returncode == 2 and "--incident:" in no_incident.stderr
    too_long = run_lookout(
        ["alert", "send", *COMPOSE[:4], "--everyone", "--message", "x" * 5000, "--at", "52.8,-2.1", "--yes"], env
    )
    assert too_long.returncode == 2 and "message:" in too_long.stderr
    assert count(database_url, alerts) == 0


def test_unknown_reference_is_a_polite_error(env: dict[str, str]) -> None:
    done = run_lookout(["alert", "cancel", "A-2026-424242", "--yes"], env)
    assert (
        done.returncode == 1 and "There is no alert 'A-2026-424242'" in done.stderr and "Traceback" not in done.stderr
    )


def test_an_update_of_an_alert_that_needed_approval_waits_for_another_supervisor(
    env: dict[str, str], database_url: str, tmp_path
) -> None:
    env = {
        **env,
        "LOOKOUT_FORCE_CONFIG": str(force_config(tmp_path, approval_threshold=2)),
        "SLACK_SUPERVISOR_IDS": "U01SUPERVSR,U01SUPERVS2",
    }
    sent = run_json(
        [
            "alert",
            "send",
            *COMPOSE,
            "--at",
            f"{STAFFORD[0]},{STAFFORD[1]}",
            "--radius",
            "500m",
            "--yes",
            "--approved-by",
            "U01SUPERVSR",
        ],
        env,
    )
    assert sent["state"] == "sending" and sent["total"] == 5

    waiting = run_json(["alert", "update", sent["reference"], "--message", "Pay the caller in cash."], env)
    assert waiting["type"] == "Update" and waiting["state"] == "draft" and waiting["total"] == 0
    assert count(database_url, deliveries) == 5  # nothing queued for the update
    human = run_lookout(["alert", "update", sent["reference"], "--message", "Again, without approval."], env)
    assert (
        human.returncode == 0 and "needs a supervisor's approval" in human.stdout and "Nothing was sent" in human.stdout
    )

    own = run_lookout(
        [
            "alert",
            "update",
            sent["reference"],
            "--message",
            "Self-approved.",
            "--as",
            "U01SUPERVSR",
            "--approved-by",
            "U01SUPERVSR",
        ],
        env,
    )
    assert own.returncode != 0 and "can't approve your own alert" in own.stdout + own.stderr
    assert count(database_url, deliveries) == 5

    approved = run_json(["alert", "send", waiting["reference"], "--yes", "--approved-by", "U01SUPERVS2"], env)
    assert approved["state"] == "sending" and approved["total"] == 5
    assert count(database_url, deliveries) == 10

    cancelled = run_json(["alert", "cancel", sent["reference"], "--yes", "--reason", "Resolved."], env)  # never waits
    assert cancelled["type"] == "Cancel"
    sources = {(r.action, r.source) for r in rows(database_url, sa.select(audit_log.c.action, audit_log.c.source))}
    assert {("update", "cli"), ("approve", "cli"), ("send", "cli"), ("cancel", "cli")} <= sources


def test_everyone_or_topics_must_be_chosen_and_the_preview_says_which(env: dict[str, str], database_url: str) -> None:
    neither = run_lookout(["alert", "send", *COMPOSE[:-1], "--at", f"{STAFFORD[0]},{STAFFORD[1]}", "--yes"], env)
    assert neither.returncode == 2 and "--everyone" in neither.stderr and "--topics" in neither.stderr
    assert count(database_url, alerts) == 0
    both = run_lookout(
        ["alert", "preview", *COMPOSE, "--topics", "burglary", "--at", f"{STAFFORD[0]},{STAFFORD[1]}"], env
    )
    assert both.returncode == 2 and "not both" in both.stderr
    shown = run_lookout(["alert", "preview", *COMPOSE, "--at", f"{STAFFORD[0]},{STAFFORD[1]}"], env)
    assert shown.returncode == 0 and "Everyone in the area" in shown.stdout


MISSING = [
    "--template",
    "missing_person",
    "--incident",
    "MV-20261125-0456",
    "--fill",
    "name=Amy",
    "--fill",
    "age=9",
    "--fill",
    "last_seen=at 3pm on Eastgate Street",
    "--fill",
    "clothing=a red coat and wellies",
]


def test_templates_are_listed(env: dict[str, str]) -> None:
    listed = run_json(["alert", "templates"], env)
    assert [t["key"] for t in listed] == [
        "missing_person",
        "bogus_callers",
        "burglary_in_progress",
        "vehicle_crime",
        "road_closure",
        "found_safe",
    ]
    assert listed[0]["placeholders"] == ["name", "age", "last_seen", "clothing"] and listed[0]["everyone"] is True
    human = run_lookout(["alert", "templates"], env)
    assert human.returncode == 0 and "missing_person" in human.stdout and "{last_seen}" in human.stdout


def test_send_from_a_template_filled_in_with_the_command_line_overriding_its_defaults(
    env: dict[str, str], database_url: str
) -> None:
    sent = run_json(["alert", "send", *MISSING, "--at", f"{STAFFORD[0]},{STAFFORD[1]}", "--yes"], env)
    assert sent["total"] == 5 and sent["area"].startswith("within 2 km")  # the template's radius: not the one 5 km away
    (alert,) = rows(database_url, sa.select(alerts).where(alerts.c.reference == sent["reference"]))
    assert alert.headline == "Missing: Amy, aged 9" and alert.everyone and alert.severity == "Severe"
    assert alert.message.startswith(
        "We are concerned for Amy, aged 9, who was last seen at 3pm on Eastgate Street. "
        "Amy was wearing a red coat and wellies."
    )
    (drafted,) = rows(database_url, sa.select(audit_log).where(audit_log.c.action == "draft"))
    assert drafted.detail["template"] == "missing_person"

    overridden = run_json(
        [
            "alert",
            "preview",
            *MISSING,
            "--at",
            f"{STAFFORD[0]},{STAFFORD[1]}",
            "--radius",
            "500m",
            "--urgency",
            "Expected",
            "--topics",
            "missing",
            "--headline",
            "Have you seen {name}?",
        ],
        env,
    )
    (alert,) = rows(database_url, sa.select(alerts).where(alerts.c.reference == overridden["reference"]))
    assert overridden["area"].startswith("within 500 m") and alert.urgency == "Expected"
    assert not alert.everyone and alert.topics == ["missing"] and alert.headline == "Have you seen Amy?"


def test_unfilled_placeholders_come_back_with_every_other_mistake_and_nothing_is_written(
    env: dict[str, str], database_url: str
) -> None:
    done = run_lookout(
        [
            "alert",
            "send",
            "--template",
            "missing_person",
            "--fill",
            "name=Amy",
            "--fill",
            "colour=red",
            "--at",
            "95,-2.1",
            "--yes",
        ],
        env,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    said = done.stderr
    assert "--incident: is required" in said and "at: latitude 95.0" in said
    assert "headline: Fill in {age}: replace it with the details" in said
    assert "message: Fill in {age}, {last_seen} and {clothing}: replace each with the details" in said
    assert "--fill: the missing_person template has no {colour}" in said and "Traceback" not in said
    unknown = run_lookout(["alert", "send", "--template", "missing_persn", "--at", "52.8,-2.1", "--yes"], env)
    assert (
        unknown.returncode == 2
        and "--template: no template 'missing_persn'; choose from missing_person" in unknown.stderr
    )
    loose = run_lookout(["alert", "send", *COMPOSE, "--fill", "name=Amy", "--at", "52.8,-2.1", "--yes"], env)
    assert loose.returncode == 2 and "--fill: --fill fills in a template's placeholders" in loose.stderr
    assert count(database_url, alerts) == 0 and count(database_url, audit_log) == 0


def test_report_counts_a_sent_alert_and_writes_its_csv_files(env: dict[str, str], database_url: str, tmp_path) -> None:
    sent = run_json(
        ["alert", "send", *COMPOSE, "--at", f"{STAFFORD[0]},{STAFFORD[1]}", "--radius", "500m", "--yes"], env
    )
    report = run_json(["alert", "report", sent["reference"].lower(), "--csv", str(tmp_path)], env)
    assert report["reference"] == sent["reference"] and report["tips"] == 0 and report["timeline"] == []
    assert report["channels"] == {
        "telegram": {
            "sent": 0,
            "delivered": 0,
            "read": 0,
            "failed": 0,
            "skipped": 0,
            "waiting": 5,
            "useful": 0,
            "not_useful": 0,
        }
    }
    assert report["feedback"] == {"useful": 0, "not_useful": 0}
    feedback = (tmp_path / f"{sent['reference']}-feedback.csv").read_text().splitlines()
    assert feedback == ["alert,channel,useful,not_useful"]  # nobody has answered yet
    deliveries = (tmp_path / f"{sent['reference']}-deliveries.csv").read_text().splitlines()
    assert deliveries[0] == "alert,minute_utc,channel,state,deliveries,reported_delivered,reported_read"
    assert deliveries[1].startswith(sent["reference"]) and deliveries[1].endswith(",telegram,pending,5,0,0")
    cells = (tmp_path / f"{sent['reference']}-cells.csv").read_text().splitlines()
    assert cells[0] == "alert,h3_cell,state,residents" and sum(int(line.split(",")[3]) for line in cells[1:]) == 5
    human = run_lookout(["alert", "report", sent["reference"]], env)
    assert human.returncode == 0 and "0 of 5 sent, 0 tips, 0 found it useful, 0 not useful" in human.stdout
    assert "Useful" in human.stdout and "Not useful" in human.stdout  # the table's columns
    assert {
        r.action for r in rows(database_url, sa.select(audit_log).where(audit_log.c.subject == sent["reference"]))
    } >= {"send", "report"}

    draft = run_json(["alert", "preview", *COMPOSE, "--at", f"{STAFFORD[0]},{STAFFORD[1]}"], env)
    never = run_lookout(["alert", "report", draft["reference"]], env)
    assert never.returncode != 0 and "never sent, so there is no report yet" in never.stdout + never.stderr
    nowhere = run_lookout(["alert", "report", sent["reference"], "--csv", str(tmp_path / "missing")], env)
    assert nowhere.returncode == 2 and "is not a folder" in nowhere.stderr


def test_every_wrong_option_comes_back_at_once_as_in_slack(env: dict[str, str], database_url: str) -> None:
    done = run_lookout(
        [
            "alert",
            "send",
            "--incident",
            "bad",
            "--headline",
            "",
            "--message",
            "m",
            "--topics",
            "unicorns",
            "--urgency",
            "soon",
            "--expires",
            "nonsense",
            "--at",
            "95,-2.1",
            "--radius",
            "9km",
            "--yes",
        ],
        env,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    for option in ("incident_number:", "--headline: is required", "at:", "radius:", "topics:", "urgency:", "expires:"):
        assert option in done.stderr, (option, done.stderr)
    assert "Traceback" not in done.stderr
    assert count(database_url, alerts) == 0 and count(database_url, audit_log) == 0


def test_a_lookup_that_fails_is_said_in_officer_words_with_the_other_problems(
    env: dict[str, str], database_url: str
) -> None:
    down = {**env, "LOOKOUT_GEOCODER_DOMAIN": "127.0.0.1:9"}  # nothing listens there: the lookup fails
    done = run_lookout(
        ["alert", "preview", *COMPOSE[:4], "--message", "", "--everyone", "--postcode", "ST16 2LZ", "--radius", "9km"],
        down,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    stderr = " ".join(done.stderr.split())  # as printed, wrapped at the terminal's width
    assert "postcode: the address lookup isn't answering right now" in stderr
    assert "give the centre as a location (LAT,LON) or a named area" in stderr and "share your location" not in stderr
    assert (
        "--message: is required" in stderr
        and "radius: the radius must be between" in stderr
        and "Traceback" not in stderr
    )
    assert count(database_url, alerts) == 0


@pytest.mark.parametrize(
    "command",
    [
        ["alert", "list"],
        ["alert", "send", "A-2026-000001", "--yes"],
        ["alert", "preview", *COMPOSE, "--at", "52.8,-2.1"],
    ],
)
def test_a_database_without_the_schema_says_to_run_db_upgrade_and_creates_no_file(
    empty_database: str, command: list[str]
) -> None:
    done = run_lookout(command, lookout_env(empty_database))
    assert done.returncode == 1, done.stdout + done.stderr
    stderr = " ".join(done.stderr.split())
    assert "no Lookout tables" in stderr and "`lookout db upgrade` (with the same LOOKOUT_DATABASE_URL)" in stderr
    assert "Traceback" not in done.stderr
    path = sqlite_file(empty_database)
    assert path is None or not path.exists()


def _photo_file(path, kind: str = "JPEG", size: tuple[int, int] = (640, 480)):
    from PIL import Image

    Image.new("RGB", size, (30, 90, 200)).save(path, kind)
    return path


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def test_an_appeal_with_a_photo_is_sent_and_resolved_from_the_command_line(
    env: dict[str, str], database_url: str, tmp_path
) -> None:
    from storage.tables import alert_photos

    photo = _photo_file(tmp_path / "amy.png", "PNG")
    where = ["--at", f"{STAFFORD[0]},{STAFFORD[1]}", "--radius", "500m"]
    preview = run_json(["alert", "preview", *COMPOSE, *where, "--photo", str(photo)], env)
    sent = run_json(["alert", "send", preview["reference"], "--yes"], env)
    assert sent["total"] == 5
    (stored,) = rows(database_url, sa.select(alert_photos))
    assert stored.content_type == "image/jpeg" and stored.data[:2] == b"\xff\xd8" and stored.withdrawn_at is None

    resolved = run_json(
        ["alert", "resolve", preview["reference"], "--message", "Amy has been found safe.", "--yes"], env
    )
    assert resolved["type"] == "Resolved" and resolved["state"] in ("sending", "sent")
    listed = run_json(["alert", "list"], env)
    assert [a["type"] for a in listed][:2] == ["Resolved", "Alert"] and listed[1]["state"] == "resolved"
    (withdrawn,) = rows(database_url, sa.select(alert_photos))
    assert withdrawn.withdrawn_at is not None
    again = run_lookout(["alert", "resolve", preview["reference"], "--yes"], env)
    assert again.returncode != 0 and "is resolved and can't be resolved" in again.stderr
    assert "Traceback" not in again.stderr


@pytest.mark.parametrize(
    "make, said",
    [
        (lambda p: _write(p, b"%PDF-1.4 a scanned form"), "not a picture Lookout can read"),
        (lambda p: _photo_file(p, "BMP"), "Lookout takes JPEG, PNG, WebP, GIF"),
        (lambda p: p.parent / "missing.jpg", "there is no file"),
    ],
    ids=["not-a-picture", "bmp", "missing"],
)
def test_a_wrong_photo_is_refused_and_nothing_is_written(
    env: dict[str, str], database_url: str, tmp_path, make, said: str
) -> None:
    photo = make(tmp_path / "upload.jpg")
    where = ["--at", f"{STAFFORD[0]},{STAFFORD[1]}"]
    done = run_lookout(["alert", "send", *COMPOSE, *where, "--photo", str(photo), "--yes"], env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "--photo:" in done.stderr and said in done.stderr
    assert "Traceback" not in done.stderr
    assert count(database_url, alerts) == 0 and count(database_url, audit_log) == 0
