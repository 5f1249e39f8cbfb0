"""Residents' feedback on alerts: a "Useful / Not useful" answer on every alert, counted in the alert's report.

One answer per resident per alert: a second answer replaces the first, so nobody counts twice. Only a resident
the alert was sent to may answer it; a forged or stale answer (an alert never sent to them, a resident who has
since left) is refused politely and changes nothing. The buttons' data is ``fb:<alert id>:u`` (useful) or
``fb:<alert id>:n`` (not useful), well inside the 64 bytes every platform's button allows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from core.clock import Clock
from core.errors import NotFound
from core.model import Address, Alert
from core.ports import UnitOfWorkFactory

logger = logging.getLogger("lookout.feedback")

FEEDBACK_PREFIX = "fb"
_ANSWERS = {"u": True, "n": False}


def feedback_data(alert_id: int, useful: bool) -> str:
    """The button data of an answer: ``fb:<alert id>:u`` or ``fb:<alert id>:n``."""
    return f"{FEEDBACK_PREFIX}:{alert_id}:{'u' if useful else 'n'}"


def parse_feedback(rest: str) -> tuple[int, bool] | None:
    """``<alert id>:u|n`` (the data after ``fb:``) as (alert id, useful); None when it is not one."""
    alert_id, _sep, answer = rest.partition(":")
    if not alert_id.isascii() or not alert_id.isdigit() or answer not in _ANSWERS or len(alert_id) > 12:
        return None
    return int(alert_id), _ANSWERS[answer]


class NotSentToYou(NotFound):
    """An answer about an alert the resident was never sent."""


@dataclass(frozen=True)
class Answered:
    """What was recorded: the alert answered (so a platform can redraw its buttons) and the answer."""

    alert: Alert
    useful: bool


class FeedbackService:
    def __init__(self, uow: UnitOfWorkFactory, *, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def record(self, address: Address, alert_id: int, useful: bool) -> Answered:
        """Record the resident's answer to the alert (replacing an earlier one). Raises NotSentToYou."""
        now = self._clock()
        async with self._uow() as uow:
            resident = await uow.residents.get_by_address(address)
            alert = await uow.alerts.get(alert_id)
            if (
                resident is None
                or resident.id is None
                or alert is None
                or not await uow.feedback.was_sent(alert_id, resident.id)
            ):
                # The resident is told in their language (core/conversation/feedback.py, NOT_SENT).
                raise NotSentToYou(f"alert {alert_id} was not sent to this resident")
            await uow.feedback.record(alert_id, resident.id, address.channel, useful, now)
            await uow.commit()
        logger.info("feedback on alert %s: %s", alert.reference, "useful" if useful else "not useful")
        return Answered(alert, useful)
