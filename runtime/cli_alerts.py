"""``lookout alert …``: the officer's actions from a shell, over the same services as Slack."""

from __future__ import annotations

import asyncio
import getpass
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from bots.photo_files import prepare_photo
from core.alert_photos import MAX_PHOTO_BYTES
from core.errors import InvalidInput
from core.force import ForceConfig, load_force_config
from core.geo.areas import Area, CircleArea
from core.geo.coords import parse_distance
from core.model import RESIDENT_CHANNELS, Alert, AlertPhoto, AlertState, Channel, DeliveryState, Severity
from core.origin import act_from
from core.ports import FeedbackCounts
from core.services.alerts import (
    AlertRequest,
    Preview,
    SendResult,
    daily_limit_in_words,
    reach_in_words,
    sms_cost_in_words,
    timing_in_words,
)
from core.services.areas import DEFAULT_RADIUS_M, Where, resolve_area
from core.services.progress import ProgressService
from core.templates import fill as fill_in
from core.templates import in_words, parse_fills
from runtime.app import Lookout, build
from runtime.cli_support import EXIT_FAILED, EXIT_MISCONFIGURED, err, load_settings, out, run_or_explain
from runtime.examples import force_config_path
from runtime.serving import require_current_schema

alert_app = typer.Typer(no_args_is_help=True, help="Preview, send, update, cancel and list alerts.")
T = TypeVar("T")

_DONE = (DeliveryState.SENT, DeliveryState.DEAD, DeliveryState.SKIPPED)
_WAIT_HINT_AFTER_S = 30.0


def _default_actor() -> str:
    return f"cli:{getpass.getuser()}"


def _run(work: Callable[[Lookout], Awaitable[T]]) -> T:
    """Build the app, run ``work``, close everything; errors become messages and exit codes."""

    settings = load_settings()

    async def main() -> T:
        act_from("cli")  # what officers do from a shell is audited as coming from it
        lookout = build(settings)
        try:
            await require_current_schema(lookout, then="try again")
            return await work(lookout)
        finally:
            await lookout.aclose()

    def run() -> T:
        try:
            return asyncio.run(main())
        except InvalidInput as exc:  # each field on its own line, as the officer named it
            for field, problem in exc.errors.items():
                err.print(f"[red]{field}:[/red] {escape(problem)}")
            raise typer.Exit(EXIT_MISCONFIGURED) from None

    return run_or_explain(run)


def _json_needs_yes(as_json: bool, yes: bool) -> None:
    """``--json`` output is read by a program: a confirmation prompt would be mixed into it, so ``--yes`` is required."""
    if as_json and not yes:
        err.print(
            "[red]--json needs --yes:[/red] a confirmation prompt would be mixed into the JSON. "
            "Check the alert first with `lookout alert preview`, then send with --yes --json."
        )
        raise typer.Exit(EXIT_MISCONFIGURED)


def _parse_expiry(text: str | None, now: datetime) -> datetime | None:
    return _parse_time(text, "expires", now)


def _parse_time(text: str | None, field: str, now: datetime) -> datetime | None:
    """``30s``, ``90m``, ``6h``, ``2d`` from now, or an ISO time (with zone)."""
    if not text:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*([smhd])\s*", text)
    if match:
        units = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
        return now + timedelta(**{units[match.group(2)]: int(match.group(1))})
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput.one(field, f"'{text}' should be like 6h, 2d or 2026-11-26T18:00+00:00") from None


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


class Compose:
    """The compose options shared by ``preview`` and ``send``; ``--template`` fills what the options leave out."""

    def __init__(self, **options: object) -> None:
        self.options = options

    def _from_template(self, force: ForceConfig, errors: dict[str, str]) -> dict[str, object]:
        """The options with the template's text and defaults where the command line gave none, placeholders filled."""
        o = dict(self.options)
        fills: dict[str, str] = {}
        try:
            fills = parse_fills(list(o.get("fill") or []), "--fill")  # type: ignore[call-overload]
        except InvalidInput as exc:
            errors.update(exc.errors)
        if not o.get("template"):
            if fills:
                errors["--fill"] = (
                    "--fill fills in a template's placeholders: give --template KEY too (`lookout alert templates`)"
                )
            return o
        try:
            template = force.template(str(o["template"]), "--template")
        except InvalidInput as exc:
            errors.update(exc.errors)
            return o
        unknown = [name for name in fills if name not in template.placeholders]
        if unknown:
            errors["--fill"] = (
                f"the {o['template']} template has no {in_words(unknown)}; "
                f"its placeholders are {in_words(template.placeholders) if template.placeholders else '(none)'}"
            )
        o["headline"] = fill_in(str(o.get("headline") or template.headline), fills)
        o["message"] = fill_in(str(o.get("message") or template.message), fills)
        if not o.get("everyone") and not o.get(
            "topics"
        ):  # who it is for: the command line's choice, else the template's
            o["everyone"], o["topics"] = template.everyone, ",".join(template.topics)
        for name in ("urgency", "audience", "radius"):
            o[name] = o.get(name) or getattr(template, name)
        o["severity"] = template.severity
        return o

    async def request(self, lookout: Lookout, author: str) -> AlertRequest:
        """The request, or one ``InvalidInput`` naming every mistake at once (as the Slack form does)."""
        errors: dict[str, str] = {}
        o = self._from_template(lookout.force, errors)
        missing = {f"--{name}": "is required" for name in ("incident", "headline", "message") if not o.get(name)}
        if not o.get("everyone") and not o.get("topics"):
            missing["--everyone"] = (
                "choose who this is for: --everyone (everyone in the area) or --topics KEY,… (specific topics)"
            )
        errors.update(missing)

        def checked(fn: Callable[[], T], fallback: T) -> T:
            try:
                return fn()
            except InvalidInput as exc:
                errors.update(exc.errors)
                return fallback

        radius = checked(lambda: parse_distance(str(o["radius"]), "radius") if o.get("radius") else None, None)
        buffer = checked(lambda: parse_distance(str(o["buffer"]), "buffer") if o.get("buffer") else None, None)
        expires = checked(lambda: _parse_expiry(o.get("expires"), lookout.clock()), None)  # type: ignore[arg-type]
        where = Where(
            at=_text_or_none(o.get("at")),
            postcode=_text_or_none(o.get("postcode")),
            street=_text_or_none(o.get("street")),
            area=_text_or_none(o.get("area")),
            address=_text_or_none(o.get("address")),
            radius_m=radius,
            buffer_m=buffer,
        )
        try:
            area: Area = await resolve_area(where, force=lookout.force, geocoder=lookout.geocoder)
        except InvalidInput as exc:  # the other fields are still checked, against a stand-in area
            errors.update(exc.errors)
            area = CircleArea(0.0, 0.0, DEFAULT_RADIUS_M, label="the area")
            if radius is not None and not (
                where.street or where.area
            ):  # and the radius, as it would be around the place
                checked(lambda: CircleArea(0.0, 0.0, radius, label="the area"), None)
        request = AlertRequest(
            incident_number=str(o.get("incident") or ""),
            headline=str(o.get("headline") or ""),
            message=str(o.get("message") or ""),
            area=area,
            topics=_split(o.get("topics")),  # type: ignore[arg-type]
            everyone=bool(o.get("everyone")),
            sectors=_split(o.get("sectors")),  # type: ignore[arg-type]
            audience=str(o.get("audience") or "both"),
            urgency=str(o.get("urgency") or "Immediate"),
            severity=str(o.get("severity") or Severity.MODERATE.value),
            status=str(o.get("status") or "Actual"),
            contact=o.get("contact") or None,  # type: ignore[arg-type]
            expires_at=expires,
            template=str(o["template"]) if o.get("template") and "--template" not in errors else None,
            photo=checked(lambda: _read_photo(o.get("photo")), None),
        )
        try:
            lookout.alerts.compose(request, author)  # checks only: nothing is stored
        except InvalidInput as exc:
            said = {_SAID_AS.get(name, name) for name in missing}  # "--incident: is required" says it already
            errors.update({name: problem for name, problem in exc.errors.items() if name not in said})
        if errors:
            raise InvalidInput(errors)
        return request


# Core's field names for the options a missing-option error already names.
_SAID_AS = {"--incident": "incident_number", "--headline": "headline", "--message": "message", "--everyone": "reach"}

_COMPOSE_FIELDS = {
    "incident",
    "headline",
    "message",
    "at",
    "postcode",
    "address",
    "street",
    "area",
    "radius",
    "buffer",
    "topics",
    "everyone",
    "sectors",
    "audience",
    "urgency",
    "status",
    "contact",
    "expires",
    "template",
    "fill",
    "photo",
}


def _read_photo(path: object) -> AlertPhoto | None:
    """``--photo FILE``: read, checked and re-encoded (bots/photo_files.py), or InvalidInput on ``--photo``."""
    if not path:
        return None
    file = Path(str(path)).expanduser()
    try:
        if not file.is_file():
            raise InvalidInput.one("--photo", f"there is no file {str(path)!r}")
        if file.stat().st_size > MAX_PHOTO_BYTES:
            raise InvalidInput.one(
                "--photo",
                f"{file.name} is {file.stat().st_size / 1024 / 1024:.1f} MB; the most is "
                f"{MAX_PHOTO_BYTES // (1024 * 1024)} MB. Send a smaller copy",
            )
        data = file.read_bytes()
    except OSError as exc:
        raise InvalidInput.one("--photo", f"{file.name} could not be read: {exc.strerror}") from None
    try:
        return prepare_photo(data, file.name)
    except InvalidInput as exc:
        raise InvalidInput.one("--photo", "; ".join(exc.errors.values())) from None


# Typer options, declared once and reused by preview and send.
INCIDENT = typer.Option(None, "--incident", help="Incident number, e.g. MV-20261125-0456.")
HEADLINE = typer.Option(None, "--headline", help="One line: what is happening.")
MESSAGE = typer.Option(None, "--message", help="What residents should know and do.")
AT = typer.Option(None, "--at", help="Centre as LAT,LON.")
POSTCODE = typer.Option(None, "--postcode", help="Centre on a UK postcode.")
ADDRESS = typer.Option(None, "--address", help='Centre on an address, "12 Eastgate Street, Stafford".')
STREET = typer.Option(None, "--street", help='A street, "NAME, TOWN".')
AREA = typer.Option(None, "--area", help="A named area from the force config.")
RADIUS = typer.Option(None, "--radius", help="50m to 3km (default the template's, else 500m).")
BUFFER = typer.Option(None, "--buffer", help="For a street: 25m to 100m either side (default 50m).")
TOPICS = typer.Option(None, "--topics", help="Comma-separated topic keys: only residents who chose one of them.")
TEMPLATE = typer.Option(
    None,
    "--template",
    help="Start from one of the force's templates (`lookout alert templates`); "
    "options given here override its text and defaults.",
)
PHOTO = typer.Option(
    None, "--photo", help="A photo for an appeal (JPEG, PNG, WebP or GIF; up to 5 MB and 40 megapixels)."
)
FILL = typer.Option(None, "--fill", help='Fill in a template placeholder: --fill name="Amy Smith" (once for each).')
EVERYONE = typer.Option(
    False, "--everyone", help="Everyone in the area, whatever topics they chose (or give --topics)."
)
SECTORS = typer.Option(None, "--sectors", help="Comma-separated business sector keys.")
AUDIENCE = typer.Option(None, "--audience", help="residents, businesses or both (default the template's, else both).")
URGENCY = typer.Option(
    None, "--urgency", help="Immediate, Expected, Future, Past (default the template's, else Immediate)."
)
STATUS = typer.Option("Actual", "--status", help="Actual, Exercise or Test (practice reaches testers only).")
CONTACT = typer.Option(None, "--contact", help="Contact text (default: the force's).")
EXPIRES = typer.Option(None, "--expires", help="6h, 2d, or an ISO time (default: the force's).")
ACTOR = typer.Option(None, "--as", help="Who is acting, for the audit log (default cli:$USER).")
JSON = typer.Option(False, "--json", help="Machine-readable output.")


def _alert_json(alert: Alert, counts: dict[Channel, int] | None = None, **extra: object) -> str:
    data: dict[str, object] = {
        "id": alert.id,
        "reference": alert.reference,
        "type": alert.type.value,
        "state": alert.state.value,
        "status": alert.status.value,
        "area": alert.area_description,
    }
    if counts is not None:
        data["recipients"] = {c.value: n for c, n in counts.items()}
        data["total"] = sum(counts.values())
    data.update(extra)
    return json.dumps(data)


def _forecast_json(preview: Preview) -> dict[str, object] | None:
    forecast = preview.daily_limit
    if forecast is None:
        return None
    return {
        "channel": forecast.channel.value,
        "limit": forecast.limit,
        "left": forecast.left,
        "now": forecast.now,
        "held": forecast.held,
    }


def _print_preview(preview: Preview, force: ForceConfig) -> None:
    alert = preview.alert
    table = Table(title=f"{alert.reference}: {alert.headline}", show_header=False, title_justify="left")
    table.add_row("Status", alert.status.value)
    table.add_row("Incident", alert.incident_number)
    table.add_row("Area", preview.area_description)
    table.add_row("Who", reach_in_words(alert, force))
    if alert.sectors:
        table.add_row("Sectors", ", ".join(alert.sectors))
    table.add_row("Audience", alert.audience.value)
    for channel in RESIDENT_CHANNELS:
        table.add_row(f"Reach on {channel.value}", f"{preview.recipients.get(channel, 0):,}")
    table.add_row("Reach in total", f"[bold]{preview.total:,}[/bold]")
    if preview.eta_95_s:
        table.add_row("How soon", timing_in_words(preview))
        if preview.sms_cost is not None:
            table.add_row("Texts", sms_cost_in_words(preview.sms_cost))
    if preview.daily_limit is not None:
        table.add_row("Daily limit", f"[yellow]{daily_limit_in_words(preview.daily_limit)}[/yellow]")
    table.add_row("Expires", alert.expires_at.isoformat(timespec="minutes") if alert.expires_at else "—")
    if preview.approval_needed:
        table.add_row("Approval", f"[yellow]needed[/yellow]: {preview.approval_reason}")
    out.print(table)


def _print_sent(result: SendResult) -> None:
    if result.alert.state.value == "scheduled":
        out.print(f"[green]{result.alert.reference} scheduled[/green] for {result.alert.send_at:%Y-%m-%d %H:%M %Z}.")
        return
    by_channel = ", ".join(f"{n:,} on {c.value}" for c, n in result.recipients.items()) or "nobody matched"
    out.print(
        f"[green]{result.alert.reference} ({result.alert.type.value.lower()}) queued[/green]: {result.total:,} residents ({by_channel})."
    )


def _sms_cost_json(preview: Preview) -> dict | None:
    cost = preview.sms_cost
    if cost is None:
        return None
    return {
        "segments_per_text": cost.segments,
        "encoding": cost.encoding,
        "texts": cost.texts,
        "segments": cost.total_segments,
        "price": cost.price,
    }


@alert_app.command()
def preview(
    incident: str = INCIDENT,
    headline: str = HEADLINE,
    message: str = MESSAGE,
    at: str = AT,
    postcode: str = POSTCODE,
    address: str = ADDRESS,
    street: str = STREET,
    area: str = AREA,
    radius: str = RADIUS,
    buffer: str = BUFFER,
    topics: str = TOPICS,
    everyone: bool = EVERYONE,
    sectors: str = SECTORS,
    audience: str = AUDIENCE,
    urgency: str = URGENCY,
    status: str = STATUS,
    contact: str = CONTACT,
    expires: str = EXPIRES,
    template: str = TEMPLATE,
    fill: list[str] = FILL,
    photo: str = PHOTO,
    actor: str = ACTOR,
    as_json: bool = JSON,
) -> None:
    """Save a draft and show who it would reach. Nothing is sent."""
    compose = Compose(**{k: v for k, v in locals().items() if k in _COMPOSE_FIELDS})
    who = actor or _default_actor()

    async def work(lookout: Lookout) -> None:
        draft = await lookout.alerts.draft(await compose.request(lookout, who), who)
        result = await lookout.alerts.preview(draft.id, who)  # type: ignore[arg-type]
        if as_json:
            out.print_json(
                _alert_json(
                    result.alert,
                    result.recipients,
                    approval_needed=result.approval_needed,
                    eta_95_s={c.value: s for c, s in result.eta_95_s.items()},
                    stars_estimate=result.stars_estimate,
                    daily_limit=_forecast_json(result),
                    sms_cost=_sms_cost_json(result),
                )
            )
            return
        _print_preview(result, lookout.force)
        out.print(f"Draft saved. Send it with: [bold]lookout alert send {draft.reference}[/bold]")

    _run(work)


@alert_app.command()
def send(
    reference: str = typer.Argument(None, help="A draft's reference (A-2026-000123); or compose with the options."),
    incident: str = INCIDENT,
    headline: str = HEADLINE,
    message: str = MESSAGE,
    at: str = AT,
    postcode: str = POSTCODE,
    address: str = ADDRESS,
    street: str = STREET,
    area: str = AREA,
    radius: str = RADIUS,
    buffer: str = BUFFER,
    topics: str = TOPICS,
    everyone: bool = EVERYONE,
    sectors: str = SECTORS,
    audience: str = AUDIENCE,
    urgency: str = URGENCY,
    status: str = STATUS,
    contact: str = CONTACT,
    expires: str = EXPIRES,
    template: str = TEMPLATE,
    fill: list[str] = FILL,
    photo: str = PHOTO,
    actor: str = ACTOR,
    as_json: bool = JSON,
    yes: bool = typer.Option(False, "--yes", "-y", help="Send without asking to confirm the preview."),
    approved_by: str = typer.Option(
        None, "--approved-by", help="Supervisor id who approved it (when approval is needed)."
    ),
    send_at: str = typer.Option(
        None, "--send-at", help="Schedule instead: an ISO time with zone, or 30m / 2h from now."
    ),
    wait: bool = typer.Option(False, "--wait", help="Show delivery progress until every delivery is done."),
    timeout: float = typer.Option(600.0, "--timeout", help="With --wait: give up waiting after this many seconds."),
) -> None:
    """Send an alert: a saved draft by reference, or a new one from the options (previewed first)."""
    compose = Compose(**{k: v for k, v in locals().items() if k in _COMPOSE_FIELDS})
    who = actor or _default_actor()
    _json_needs_yes(as_json, yes)
    waited: list[WaitOutcome] = []

    async def work(lookout: Lookout) -> SendResult:
        if reference:
            alert = await lookout.alerts.get(reference)
        else:
            alert = await lookout.alerts.draft(await compose.request(lookout, who), who)
        shown = await lookout.alerts.preview(alert.id, who)  # type: ignore[arg-type]
        if not as_json:
            _print_preview(shown, lookout.force)
        verb = "Schedule" if send_at else "Send"
        if not yes and not typer.confirm(f"{verb} {alert.reference} to {shown.total:,} residents?", default=False):
            raise typer.Exit(1)
        if shown.approval_needed and approved_by:
            await lookout.alerts.approve(alert.id, approved_by, recorded_by=who)  # type: ignore[arg-type]
        when = _parse_time(send_at, "send_at", lookout.clock())
        if when is not None:
            scheduled = await lookout.alerts.schedule(alert.id, who, when)  # type: ignore[arg-type]
            return SendResult(scheduled.alert, {})
        result = await lookout.alerts.send(alert.id, who)  # type: ignore[arg-type]
        if not as_json:
            _print_sent(result)
        if wait:
            waited.append(await _wait_for_deliveries(lookout, result, timeout, quiet=as_json))
            result = SendResult(
                await lookout.alerts.get(result.alert.reference or ""), result.recipients
            )  # its state now
        return result

    result = _run(work)
    outcome = waited[0] if waited else None
    if as_json:
        extra = {"wait": outcome.as_json()} if outcome else {}
        out.print_json(_alert_json(result.alert, result.recipients, **extra))
    elif result.alert.state.value == "scheduled":
        _print_sent(result)
    if outcome is not None and outcome.failed:
        # A script waiting on the send learns from the exit code that not everything was delivered.
        err.print(f"[yellow]{outcome.why_not_delivered()}[/yellow]")
        raise typer.Exit(EXIT_FAILED)


@alert_app.command()
def update(
    reference: str = typer.Argument(..., help="The original alert's reference."),
    message: str = typer.Option(..., "--message", help="What has changed."),
    headline: str = typer.Option(None, "--headline", help="New headline (default: the original's)."),
    contact: str = CONTACT,
    actor: str = ACTOR,
    as_json: bool = JSON,
    approved_by: str = typer.Option(
        None, "--approved-by", help="Supervisor id who approved it (when the alert needed approval)."
    ),
) -> None:
    """Send a follow-up to exactly the residents the original alert reached.

    If the alert needed a supervisor's approval, its update does too: without --approved-by it is saved as a
    draft, to send with `lookout alert send <update> --approved-by <supervisor>`."""
    who = actor or _default_actor()

    async def work(lookout: Lookout) -> SendResult:
        result = await lookout.alerts.update(reference, who, message=message, headline=headline, contact=contact)
        if result.alert.state is not AlertState.DRAFT or not approved_by:
            return result
        await lookout.alerts.approve(result.alert.id, approved_by, recorded_by=who)  # type: ignore[arg-type]
        return await lookout.alerts.send(result.alert.id, who)  # type: ignore[arg-type]

    result = _run(work)
    if as_json:
        out.print_json(_alert_json(result.alert, result.recipients))
    elif result.alert.state is AlertState.DRAFT:
        out.print(
            f"[yellow]{result.alert.reference} (update of {reference}) needs a supervisor's approval[/yellow], as the "
            f"alert did. Nothing was sent. Send it with: [bold]lookout alert send {result.alert.reference} "
            "--approved-by <supervisor id>[/bold]"
        )
    else:
        _print_sent(result)


@alert_app.command()
def cancel(
    reference: str = typer.Argument(..., help="The alert to cancel."),
    reason: str = typer.Option("", "--reason", help="Told to residents already reached, e.g. 'Found safe and well.'"),
    yes: bool = typer.Option(False, "--yes", "-y", help="Don't ask to confirm."),
    actor: str = ACTOR,
    as_json: bool = JSON,
) -> None:
    """Cancel an alert: stop deliveries not yet made, tell those reached."""
    who = actor or _default_actor()
    _json_needs_yes(as_json, yes)
    if not yes and not typer.confirm(f"Cancel {reference}?", default=False):
        raise typer.Exit(1)
    result = _run(lambda lookout: lookout.alerts.cancel(reference, who, reason=reason))
    out.print_json(_alert_json(result.alert, result.recipients)) if as_json else _print_sent(result)


@alert_app.command()
def resolve(
    reference: str = typer.Argument(..., help="The alert that is over (a person found safe, an arrest…)."),
    message: str = typer.Option(
        "", "--message", help="Told to everyone reached: how it ended (default: a short thank-you)."
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Don't ask to confirm."),
    actor: str = ACTOR,
    as_json: bool = JSON,
) -> None:
    """Resolved: stop deliveries not yet made, tell everyone reached, withdraw the photo."""
    who = actor or _default_actor()
    _json_needs_yes(as_json, yes)
    if not yes and not typer.confirm(f"Mark {reference} resolved?", default=False):
        raise typer.Exit(1)
    result = _run(lambda lookout: lookout.alerts.resolve(reference, who, message=message))
    out.print_json(_alert_json(result.alert, result.recipients)) if as_json else _print_sent(result)


@alert_app.command("list")
def list_alerts(
    limit: int = typer.Option(20, "--limit", min=1, max=500, help="How many, newest first."),
    as_json: bool = JSON,
) -> None:
    """Recent alerts, updates and cancellations."""
    alerts = _run(lambda lookout: lookout.alerts.recent(limit))
    if as_json:
        out.print_json(json.dumps([json.loads(_alert_json(a)) for a in alerts]))
        return
    if not alerts:
        out.print("No alerts yet. Draft one with [bold]lookout alert preview --help[/bold].")
        return
    table = Table("Reference", "Type", "State", "Status", "Headline", "Area", "Created (UTC)")
    for a in alerts:
        table.add_row(
            a.reference,
            a.type.value,
            a.state.value,
            a.status.value,
            a.headline,
            a.area_description,
            a.created_at.strftime("%Y-%m-%d %H:%M") if a.created_at else "",
        )
    out.print(table)


@alert_app.command("report")
def report(
    reference: str = typer.Argument(..., help="The alert's reference (A-2026-000123)."),
    csv_dir: Path = typer.Option(
        None, "--csv", help="Write A-…-deliveries.csv, A-…-cells.csv and A-…-feedback.csv into this folder."
    ),
    actor: str = ACTOR,
    as_json: bool = JSON,
) -> None:
    """Who a sent alert reached: per channel (sent, delivered, read, failed, skipped), residents' feedback
    (useful, not useful), tips, minute by minute."""
    who = actor or _default_actor()
    if csv_dir is not None and not csv_dir.is_dir():
        err.print(f"--csv: {escape(str(csv_dir))} is not a folder.")
        raise typer.Exit(2)
    result = _run(lambda lookout: lookout.alerts.reach_report(reference, who))
    ref = result.alert.reference or reference
    written = []
    if csv_dir is not None:
        for name, text in (
            (f"{ref}-deliveries.csv", result.deliveries_csv()),
            (f"{ref}-cells.csv", result.cells_csv()),
            (f"{ref}-feedback.csv", result.feedback_csv()),
        ):
            (csv_dir / name).write_text(text, encoding="utf-8")
            written.append(str(csv_dir / name))
    channels = {
        c.value: {
            "sent": r.sent,
            "delivered": r.delivered,
            "read": r.read,
            "failed": r.failed,
            "skipped": r.skipped,
            "waiting": r.waiting,
            "useful": result.feedback.get(c, FeedbackCounts()).useful,
            "not_useful": result.feedback.get(c, FeedbackCounts()).not_useful,
        }
        for c, r in result.by_channel.items()
    }
    feedback = result.feedback_total
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "reference": ref,
                    "state": result.alert.state.value,
                    "channels": channels,
                    "tips": result.tips,
                    "feedback": {"useful": feedback.useful, "not_useful": feedback.not_useful},
                    "timeline": [
                        {"minute_utc": m.at.strftime("%Y-%m-%dT%H:%MZ"), "sent": m.sent, "failed": m.failed}
                        for m in result.timeline
                    ],
                    "csv": written,
                }
            )
        )
        return
    table = Table("Channel", "Sent", "Delivered", "Read", "Failed", "Skipped", "To go", "Useful", "Not useful")
    columns = ("sent", "delivered", "read", "failed", "skipped", "waiting", "useful", "not_useful")
    for name, r in channels.items():
        table.add_row(name, *(f"{r[k]:,}" for k in columns))
    out.print(
        f"[bold]{ref}[/bold] {escape(result.alert.headline)} ({result.alert.state.value}): "
        f"{result.total.sent:,} of {result.total.total:,} sent, {result.tips:,} tips, "
        f"{feedback.useful:,} found it useful, {feedback.not_useful:,} not useful",
        highlight=False,
    )
    out.print(table)
    for m in result.timeline[-10:]:
        out.print(
            f"  {m.at:%H:%M} UTC  {m.sent:,} sent"
            + (f", {m.failed:,} failed" if m.failed else "")
            + f"  ({m.sent_so_far:,} so far)",
            highlight=False,
        )
    for path in written:
        out.print(f"Wrote {escape(path)}", highlight=False)


@alert_app.command("templates")
def list_templates(as_json: bool = JSON) -> None:
    """The force's alert templates, to start from with `send --template KEY --fill NAME=VALUE`."""
    force = run_or_explain(lambda: load_force_config(force_config_path(load_settings().force_config)))
    templates = force.templates
    if as_json:
        out.print_json(
            json.dumps(
                [
                    {
                        "key": key,
                        "label": t.label,
                        "headline": t.headline,
                        "message": t.message,
                        "placeholders": list(t.placeholders),
                        "everyone": t.everyone,
                        "topics": t.topics,
                        "urgency": t.urgency,
                        "severity": t.severity,
                        "audience": t.audience,
                        "radius": t.radius,
                    }
                    for key, t in templates.items()
                ]
            )
        )
        return
    if not templates:
        out.print(
            "This force has no alert templates. Add [templates.<key>] tables to the force config (see docs/alerts.md)."
        )
        return
    for key, t in templates.items():  # two lines each: fits an 80-column terminal
        who = (
            "everyone in the area"
            if t.everyone
            else ("topics " + ", ".join(t.topics) if t.topics else "the officer chooses who")
        )
        defaults = ", ".join(part for part in (who, t.urgency, t.radius) if part)
        out.print(f"[bold]{key}[/bold]  {escape(t.label)}: {escape(defaults)}", highlight=False)
        out.print(
            f"    fill in: {escape(' '.join(f'{{{p}}}' for p in t.placeholders)) or '(nothing)'}", highlight=False
        )
    out.print(
        'Start from one with: [bold]lookout alert preview --template KEY --fill name="…" …[/bold]', highlight=False
    )


@dataclass
class WaitOutcome:
    """How ``send --wait`` ended: the alert's deliveries by state, and why waiting stopped early (if it did)."""

    states: dict[DeliveryState, int]
    gave_up: str | None = None  # "timeout" or "daily_limit"

    @property
    def dead(self) -> int:
        return self.states.get(DeliveryState.DEAD, 0)

    @property
    def failed(self) -> bool:
        return self.gave_up is not None or self.dead > 0

    def why_not_delivered(self) -> str:
        reasons = []
        if self.dead:
            deliveries = "delivery" if self.dead == 1 else "deliveries"
            reasons.append(
                f"{self.dead:,} {deliveries} died (refused for good, or out of retries: the reasons are on the rows)"
            )
        if self.gave_up == "timeout":
            reasons.append(
                "stopped waiting before every delivery was made (--timeout); they carry on in the background"
            )
        if self.gave_up == "daily_limit":
            reasons.append("the rest are held by the WhatsApp daily limit and go as places free")
        return "Not all delivered: " + "; ".join(reasons) + "."

    def as_json(self) -> dict[str, object]:
        return {
            "delivered": not self.failed,
            "gave_up": self.gave_up,
            "states": {s.value: n for s, n in sorted(self.states.items())},
        }


async def _wait_for_deliveries(lookout: Lookout, result: SendResult, timeout: float, *, quiet: bool) -> WaitOutcome:
    """Poll the delivery rows and draw a progress bar until none is left to send (or waiting gives up)."""
    total = result.total
    if total == 0:
        return WaitOutcome({})
    gave_up: str | None = None
    started = last_change = time.monotonic()
    done_before = -1
    # The ETA is the bar's own: what is left at the pace measured so far.
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err,
        disable=quiet,
    ) as bar:
        task = bar.add_task(f"Delivering {result.alert.reference}", total=total)
        reports = ProgressService(lookout.uow, clock=lookout.clock)
        while True:
            progress = await lookout.alerts.progress(result.alert.id)  # type: ignore[arg-type]
            done = sum(n for states in progress.values() for s, n in states.items() if s in _DONE)
            bar.update(task, completed=done)
            now = time.monotonic()
            if done >= total:
                break
            held = (await reports.report(result.alert.id)).limit_held  # type: ignore[arg-type]
            if held and done + held >= total:
                # The rest wait for places in WhatsApp's daily limit: hours, not seconds. Don't sit here for them.
                bar.console.print(
                    f"{held:,} held by the WhatsApp daily limit: they go as places free while the "
                    "alert is live (see docs/operations.md)."
                )
                gave_up = "daily_limit"
                break
            if done != done_before:
                done_before, last_change = done, now
            elif now - last_change > _WAIT_HINT_AFTER_S:
                bar.console.print("No delivery has moved for 30 s: is a delivery worker running (`lookout serve`)?")
                last_change = now
            if now - started > timeout:
                bar.console.print(f"Stopped waiting after {timeout:.0f} s; deliveries carry on in the background.")
                gave_up = "timeout"
                break
            await asyncio.sleep(0.5)
    states: dict[DeliveryState, int] = {}
    for per_state in progress.values():
        for state, n in per_state.items():
            states[state] = states.get(state, 0) + n
    if not quiet:
        out.print("Final: " + ", ".join(f"{n:,} {s.value}" for s, n in sorted(states.items())))
    return WaitOutcome(states, gave_up)


def _text_or_none(value: object) -> str | None:
    """An option's text as typed, or None when it was not given."""
    return None if value is None else str(value)
