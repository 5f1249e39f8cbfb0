"""The answer to "was this alert useful?": the buttons under every alert and update (core/services/feedback.py).

The thank-you is said where the resident tapped: an app that can (Telegram) shows it on the button press and
redraws the alert's buttons with the answer marked (``Prompt.acknowledges`` with the alert's buttons as
options); others say it as a message of its own.
"""

from __future__ import annotations

from core.conversation.prompts import Option, Prompt
from core.conversation.texts import N_
from core.conversation.turn import Turn
from core.rendering import alert_buttons
from core.services.feedback import NotSentToYou, parse_feedback

THANKS_USEFUL = N_("Thank you — we're glad this alert was useful.")
THANKS_NOT_USEFUL = N_("Thank you — we'll use your answer to make our alerts better.")
NOT_SENT = N_("That alert wasn't sent to you, so it can't be rated. Nothing was changed.")


async def on_answer(turn: Turn, rest: str) -> Prompt | None:
    """Record the answer (``<alert id>:u|n``) and thank them; None: not an answer this version knows (stale)."""
    parsed = parse_feedback(rest)
    service = turn.services.feedback
    if parsed is None or service is None:
        return None
    alert_id, useful = parsed
    _ = turn.gettext
    try:
        answered = await service.record(turn.address, alert_id, useful)
    except NotSentToYou:  # a forged or stale button: told politely, nothing saved
        return Prompt(_(NOT_SENT), turn.language, new_message=True)
    options = tuple(
        Option(button.data, button.label, beside=button.beside) for button in alert_buttons(answered.alert, useful)
    )
    return Prompt(
        _(THANKS_USEFUL if useful else THANKS_NOT_USEFUL), turn.language, options, new_message=True, acknowledges=True
    )
