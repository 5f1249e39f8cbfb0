"""CAP 1.2 (OASIS Common Alerting Protocol): an alert, update or cancellation as XML, and the public Atom feed.

Other agencies and aggregators read alerts in CAP. Lookout's alert maps onto it
directly: status (Actual/Exercise/Test), msgType (Alert/Update/Cancel), the
incident number in ``incidents``, updates and cancellations ``references`` to
every earlier message of the same alert, category ``Security``, and the area as
a ``circle`` ("lat,lon radius-in-km") or ``polygon``s with full coordinate
precision. Which alerts are public is the force's choice (``cap_public_statuses``,
default none); nothing else is ever served.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from shapely.geometry import MultiPolygon, Polygon

from core.force import ForceConfig
from core.geo.areas import Area, CircleArea
from core.model import Alert, AlertType

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
# CAP has no msgType for "resolved": a resolution is an Update whose responseType is AllClear.
MSG_TYPES = {
    AlertType.ALERT: "Alert",
    AlertType.UPDATE: "Update",
    AlertType.CANCEL: "Cancel",
    AlertType.RESOLVED: "Update",
}


@dataclass(frozen=True)
class PhotoResource:
    """An appeal's photo as a CAP ``resource``: where it is, how big, and its SHA-1 digest (as CAP 1.2 asks)."""

    uri: str
    size: int
    digest: str
    mime_type: str = "image/jpeg"
    description: str = "Photo"


# CAP forbids these in sender and identifier (and a comma separates references).
_CAP_ID_UNSAFE = re.compile(r"[\s,<&]")


def cap_sender(force: ForceConfig) -> str:
    return force.settings.cap_sender or f"lookout@{re.sub(r'[^a-z0-9]+', '-', force.name.lower()).strip('-')}"


def cap_identifier(force: ForceConfig, alert: Alert) -> str:
    return _CAP_ID_UNSAFE.sub("-", f"{cap_sender(force)}/{alert.reference}")


def cap_time(moment: datetime, timezone: str) -> str:
    """``YYYY-MM-DDThh:mm:ss+hh:mm`` in the force's zone (CAP forbids ``Z``)."""
    return moment.astimezone(ZoneInfo(timezone)).replace(microsecond=0).isoformat()


def is_public(force: ForceConfig, alert: Alert) -> bool:
    """Sent (or since cancelled or expired), and of a status the force publishes."""
    return alert.sent_at is not None and alert.status.value in force.settings.cap_public_statuses


def render_cap(
    force: ForceConfig, alert: Alert, earlier: Sequence[Alert] = (), *, photo: PhotoResource | None = None
) -> bytes:
    """One CAP 1.2 ``alert`` document. ``earlier``: the messages this one follows (the original, then updates)."""
    assert alert.sent_at is not None, "only sent alerts have a CAP form"
    zone = force.settings.timezone
    ET.register_namespace("", CAP_NS)
    root = ET.Element(f"{{{CAP_NS}}}alert")

    def add(parent: ET.Element, name: str, text: str | None) -> ET.Element:
        element = ET.SubElement(parent, f"{{{CAP_NS}}}{name}")
        if text is not None:
            element.text = text
        return element

    add(root, "identifier", cap_identifier(force, alert))
    add(root, "sender", cap_sender(force))
    add(root, "sent", cap_time(alert.sent_at, zone))
    add(root, "status", alert.status.value)
    add(root, "msgType", MSG_TYPES[alert.type])
    add(root, "source", force.name)
    add(root, "scope", "Public")
    if alert.type is not AlertType.ALERT and earlier:
        add(
            root,
            "references",
            " ".join(
                f"{cap_sender(force)},{cap_identifier(force, e)},{cap_time(e.sent_at, zone)}"
                for e in earlier
                if e.sent_at
            ),
        )
    add(root, "incidents", _CAP_ID_UNSAFE.sub("-", alert.incident_number))

    info = add(root, "info", None)
    add(info, "language", "en-GB")
    add(info, "category", "Security")
    add(info, "event", alert.headline)
    add(info, "responseType", "AllClear" if alert.type in (AlertType.CANCEL, AlertType.RESOLVED) else "Monitor")
    add(info, "urgency", alert.urgency.value)
    add(info, "severity", alert.severity.value)
    add(info, "certainty", alert.certainty.value)
    add(info, "effective", cap_time(alert.sent_at, zone))
    if alert.expires_at is not None:
        add(info, "expires", cap_time(alert.expires_at, zone))
    add(info, "senderName", force.name)
    add(info, "headline", alert.headline)
    add(info, "description", alert.message)
    add(info, "contact", alert.contact)
    if photo is not None:  # CAP's order: resource after contact (and parameters), before area
        resource = add(info, "resource", None)
        add(resource, "resourceDesc", photo.description)
        add(resource, "mimeType", photo.mime_type)
        add(resource, "size", str(photo.size))
        add(resource, "uri", photo.uri)
        add(resource, "digest", photo.digest)
    area = add(info, "area", None)
    add(area, "areaDesc", alert.area_description)
    for name, value in area_shapes(alert.area):
        add(area, name, value)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def area_shapes(area: Area) -> list[tuple[str, str]]:
    """CAP ``circle`` / ``polygon`` elements for an area, coordinates at full precision."""
    if isinstance(area, CircleArea):
        return [("circle", f"{area.lat!r},{area.lon!r} {area.radius_m / 1000!r}")]
    outline = area.outline()
    polygons = list(outline.geoms) if isinstance(outline, MultiPolygon) else [outline]
    shapes = []
    for polygon in polygons:
        assert isinstance(polygon, Polygon)
        ring = list(polygon.exterior.coords)  # lon, lat; closed (first = last)
        shapes.append(("polygon", " ".join(f"{lat!r},{lon!r}" for lon, lat in ring)))
    return shapes


def render_feed(force: ForceConfig, alerts: Sequence[Alert], *, base_url: str, updated: datetime) -> bytes:
    """An Atom feed of current public alerts, each linking to its CAP document."""
    zone = force.settings.timezone
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")

    def add(parent: ET.Element, name: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM_NS}}}{name}", attrs)
        if text is not None:
            element.text = text
        return element

    add(feed, "id", f"{base_url}/cap/feed.atom")
    add(feed, "title", f"{force.name} — current alerts")
    add(feed, "updated", cap_time(updated, zone))
    add(add(feed, "author"), "name", force.name)
    add(feed, "link", rel="self", href=f"{base_url}/cap/feed.atom")
    for alert in alerts:
        entry = add(feed, "entry")
        add(entry, "id", cap_identifier(force, alert))
        add(entry, "title", alert.headline)
        add(entry, "updated", cap_time(alert.sent_at or updated, zone))
        add(entry, "summary", f"{alert.area_description}. Incident {alert.incident_number}.")
        add(
            entry,
            "link",
            rel="alternate",
            type="application/cap+xml",
            href=f"{base_url}/cap/alerts/{alert.reference}.xml",
        )
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
