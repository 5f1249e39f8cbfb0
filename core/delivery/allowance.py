"""A platform's allowance of people per rolling 24 hours: WhatsApp's messaging limit.

Meta lets a business portfolio deliver to at most so many *unique* people
outside their customer service window in any moving 24 hours (250, 2,000,
10,000, 100,000 or unlimited; docs/platforms.md). Someone already counted in
the last 24 hours costs nothing more; someone inside their service window
(they wrote to us in the last 24 hours) does not count at all.

The worker takes places for the rows it claims in the claim's own
transaction, nearest first, so several workers never grant the same place
twice; rows left without one are held (pending, no attempt used) until a
place frees, and skipped with the alert when it expires or is cancelled.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from core.channels import in_service_window
from core.model import Channel
from core.ports import ClaimedDelivery

ALLOWANCE_WINDOW = timedelta(hours=24)
# Meta refused for the limit although our count had room (another app on the portfolio, or Meta counts
# differently): hold the row this long, then try again. Not hot: a place frees only as the 24 hours roll on.
REFUSED_HOLD = timedelta(minutes=15)


def needs_place(channel: Channel, row: ClaimedDelivery, now: datetime) -> bool:
    """Whether sending this row uses a place in the channel's allowance: WhatsApp, outside the service window.

    The window test is the one that decides free-form text or template (with its margin), so whatever goes
    as a template is counted: counting a few too many holds someone a little longer, too few gets refused.
    """
    return channel is Channel.WHATSAPP and not in_service_window(row.last_inbound_at, now)


def allowance_left(limit: int | None, used: int) -> int | None:
    """Places left (None: unlimited)."""
    return None if limit is None else max(0, limit - used)
