"""Quiet hours: non-urgent alerts wait until the resident's quiet hours end."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from core.model import QuietHours

# The delivery row's last_error while it waits, so the release job can find it.
QUIET_HOLD = "held: quiet hours"


def quiet_hours_end(quiet: QuietHours, now: datetime, zone: ZoneInfo) -> datetime | None:
    """When the quiet hours that contain ``now`` end (UTC), or None when ``now`` is outside them."""
    local = now.astimezone(zone)
    if not quiet.contains(local.time()):
        return None
    end = local.replace(hour=quiet.end.hour, minute=quiet.end.minute, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end.astimezone(UTC)
