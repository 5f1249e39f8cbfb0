"""What each channel can carry and how fast, declared as data.

The numbers are the platforms' published limits (see docs/platforms.md);
adapters declare theirs from here and the core enforces them in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.model import RESIDENT_CHANNELS, Channel


@dataclass(frozen=True)
class ChannelLimits:
    max_text: int  # characters in one message after formatting
    messages_per_second: float  # whole-bot / whole-number rate
    per_chat_interval: float  # seconds between two messages to the same chat
    max_buttons: int  # 0 when the channel has no buttons


PUBLISHED_LIMITS: dict[Channel, ChannelLimits] = {
    Channel.TELEGRAM: ChannelLimits(max_text=4096, messages_per_second=30, per_chat_interval=1.0, max_buttons=100),
    # Free-form text is 4,096; the pair rate limit is about one message per 6 s to one user.
    Channel.WHATSAPP: ChannelLimits(max_text=4096, messages_per_second=80, per_chat_interval=6.0, max_buttons=3),
    # A section block's text is at most 3,000 characters; about 1 message/s per channel.
    Channel.SLACK: ChannelLimits(max_text=3000, messages_per_second=1, per_chat_interval=1.0, max_buttons=25),
    # Email has no published rate: the relay's allowance is configured (LOOKOUT_EMAIL_PER_SECOND) and the
    # adapter replaces this figure with it. An email could carry far more text, but an alert should read the
    # same everywhere, so it keeps to the phones' 4,096. Links stand in for buttons.
    Channel.EMAIL: ChannelLimits(max_text=4096, messages_per_second=10, per_chat_interval=0.0, max_buttons=0),
    # Twilio takes a body of up to 1,600 characters and sends it as segments; a long code sends about one
    # segment a second (the sender's real rate is SMS_MESSAGES_PER_SECOND). Choices are numbered lines.
    Channel.SMS: ChannelLimits(max_text=1600, messages_per_second=1, per_chat_interval=1.0, max_buttons=0),
}
# Channels that cut an alert to fit themselves (SMS: within SMS_MAX_SEGMENTS, with a link to the whole alert),
# so they never limit what officers may write.
SHORTENS_ALERTS = frozenset({Channel.SMS})


def strictest_text_limit(channels: Iterable[Channel]) -> int:
    """The shortest ``max_text`` among the resident channels in ``channels``.

    With no resident channel enabled (a fresh demo, say) every resident channel
    counts, so an alert written today still fits when a platform is turned on.
    """
    resident = [c for c in channels if c in RESIDENT_CHANNELS] or list(RESIDENT_CHANNELS)
    resident = [c for c in resident if c not in SHORTENS_ALERTS] or [Channel.TELEGRAM]
    return min(PUBLISHED_LIMITS[c].max_text for c in resident)


# WhatsApp's customer-service window: free-form messages only within 24 h of the resident's last message.
WHATSAPP_SERVICE_WINDOW = timedelta(hours=24)
# Treat the window as closed a little early: a free-form message that arrives just too late is refused (131047).
WINDOW_MARGIN = timedelta(minutes=5)


def in_service_window(last_inbound_at: datetime | None, now: datetime) -> bool:
    """Whether a free-form WhatsApp message may go to someone who last wrote at ``last_inbound_at``."""
    return last_inbound_at is not None and now - last_inbound_at < WHATSAPP_SERVICE_WINDOW - WINDOW_MARGIN
