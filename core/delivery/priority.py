"""Which deliveries go first: decided when a row is written, stored on it, claimed in that order.

Urgent (0): anything about an ``Immediate`` alert, every cancellation and
resolution (so a cancelled alert, or the photo of an appeal that is over, is
withdrawn before anything routine goes out), and the one-address messages —
officers' replies to tipsters, the one-off "an officer has seen your
information", and tips into the officers' queue. Then ``Expected`` (1), then
``Future``/``Past`` (2).
``Unknown`` urgency counts as ``Expected``: not knowing is no reason to wait.
"""

from __future__ import annotations

from enum import IntEnum

from core.model import MessageKind, Urgency


class Priority(IntEnum):
    URGENT = 0
    EXPECTED = 1
    ROUTINE = 2


def alert_priority(kind: MessageKind, urgency: Urgency) -> Priority:
    """The priority of an alert, update or cancellation's delivery rows."""
    if kind in (MessageKind.ALERT_CANCEL, MessageKind.ALERT_RESOLVED) or urgency is Urgency.IMMEDIATE:
        return Priority.URGENT
    if urgency in (Urgency.FUTURE, Urgency.PAST):
        return Priority.ROUTINE
    return Priority.EXPECTED
