"""Rows held back without using an attempt: quiet hours (non-urgent alerts wait until the resident's quiet
hours end) and WhatsApp's daily messaging limit (until a place frees)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from core.model import QuietHours

# The delivery row's last_error while it waits, so the release job can find it.
QUIET_HOLD = "held: quiet hours"
# A row waiting for a place in WhatsApp's daily messaging limit (core/delivery/allowance.py) …
DAILY_LIMIT_HOLD = "held: WhatsApp daily limit"
# … and the reason it gives in the final report when the alert ended before a place freed.
DAILY_LIMIT_REASON = "WhatsApp daily limit"


def quiet_hours_end(quiet: QuietHours, now: datetime, zone: ZoneInfo) -> datetime | None:
    """When the quiet hours that contain ``now`` end (UTC), or None when ``now`` is outside them."""
    local = now.astimezone(zone)
    if not quiet.contains(local.time()):
        return None
    end = local.replace(hour=quiet.end.hour, minute=quiet.end.minute, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end.astimezone(UTC)
