"""How an alert reads, as plain text; per-channel markup builds on this."""
from __future__ import annotations

from core.model import Alert, AlertStatus, AlertType


def status_label(alert: Alert) -> str:
    """``EXERCISE — `` / ``TEST — `` in front of practice alerts, nothing for real ones."""
    return "" if alert.status is AlertStatus.ACTUAL else f"{alert.status.value.upper()} — "


def alert_title(alert: Alert, force_name: str) -> str:
    kind = {AlertType.ALERT: "Police alert", AlertType.UPDATE: "Update", AlertType.CANCEL: "Cancelled"}[alert.type]
    return f"{status_label(alert)}{kind} from {force_name}: {alert.headline}"


def alert_plain_text(alert: Alert, force_name: str) -> str:
    """The whole alert as a resident reads it: what, where, incident, contact."""
    return "\n\n".join(
        [
            alert_title(alert, force_name),
            alert.message,
            f"Area: {alert.area_description}",
            f"Incident number: {alert.incident_number}",
            alert.contact,
        ]
    )
