"""Where the action being handled came from, for the audit log: the door sets it, the audit entry reads it.

A context variable, so it follows the request into every task it starts (Slack's work after the ack)
without each service passing it along. Doors: ``slack``, ``telegram``, ``whatsapp``, ``sms``, ``web``
(pages, CAP, metrics) and ``cli``; anything else (the worker, the scheduler) is ``system``.
"""

from __future__ import annotations

from contextvars import ContextVar

SYSTEM = "system"
_ORIGIN: ContextVar[str] = ContextVar("lookout_origin", default=SYSTEM)


def current_origin() -> str:
    return _ORIGIN.get()


def act_from(origin: str) -> None:
    """Mark everything from here on (in this context and the tasks it starts) as coming from ``origin``."""
    _ORIGIN.set(origin)
