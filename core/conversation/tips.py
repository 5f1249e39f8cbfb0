"""Tips: "I have information" (or a reply to an alert), then text, photos and a place; anonymous or not; a reference.

And the conversation after: an officer's reply arrives with an Answer button,
and the resident's answer (by the button or by replying to it) goes to the
same tip. The draft lives in the conversation state until it is sent; photos
are kept as the platform's references and fetched only when the tip is sent.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any

from core.conversation import onboarding
from core.conversation.events import Location, Photo, Text
from core.conversation.prompts import Option, Prompt
from core.conversation.state import Step
from core.conversation.texts import esc
from core.conversation.turn import PhotoGone, Turn
from core.model import MessageKind, TipPhoto
from core.services.tips import MAX_PHOTOS, MAX_TIP_TEXT, NewTip, TooManyTips

logger = logging.getLogger("lookout.conversation.tips")

ALERT_KINDS = (MessageKind.ALERT, MessageKind.ALERT_UPDATE, MessageKind.ALERT_CANCEL)
FLOOD_NOTICE_KEY = "flood_notice_at"
FLOOD_NOTICE_EVERY = 60  # seconds: one polite notice a minute, however many tips arrive
TIP_REFERENCE = re.compile(r"\bT-\d{4}-\d{6}\b")
# How long after an alert (or an officer's reply) a message that is not a reply is taken to be about it.
RECENT = timedelta(hours=24)

TipEvent = Text | Photo | Location


def empty_draft(alert_id: int | None) -> dict[str, Any]:
    return {"alert_id": alert_id, "texts": [], "photos": [], "location": None}


def _collecting_options(turn: Turn) -> list[Option]:
    _ = turn.gettext
    # Done asks one more question (may officers contact them?) before anything is sent: the label says so.
    return [Option("tf:done", _("Done — next question")), Option("tf:cancel", _("Cancel"))]


def _anonymity_options(turn: Turn) -> list[Option]:
    _ = turn.gettext
    return [Option("tf:anon", _("Stay anonymous")), Option("tf:contact", _("You may contact me"))]


# --- starting a tip -------------------------------------------------------------------------------


def on_tip_button(turn: Turn, alert_id: int | None) -> Prompt:
    _ = turn.gettext
    turn.reset()
    turn.data["tip"] = empty_draft(alert_id)
    turn.go(Step.TIP_COLLECTING)
    return turn.say(
        _(
            "Thank you for helping. Tell us what you saw: send a message, photos, and the location where you saw it "
            "(📎 → Location). Tap <b>Done</b> when you've finished: we'll ask one more question, then send it to officers.\n\n"
            "In an emergency call 999."
        ),
        _collecting_options(turn),
    )


async def idle_message(turn: Turn, event: TipEvent) -> Prompt | None:
    """A message outside any step: an answer to an officer, information about an alert, or out of the blue."""
    _ = turn.gettext
    if turn.resident is None:
        return await onboarding.start(turn)  # a first "hello" from a stranger is how many people begin
    if event.reply_to:
        replied = await turn.services.tips.replied_to(turn.address, event.reply_to)
        if replied is not None and replied.kind is MessageKind.REPLY_TO_TIPSTER and replied.tip_id is not None:
            tip = await turn.services.tips.get_for(turn.address, replied.tip_id)
            return await _answer_officer(turn, event, tip.reference or "")
        named = TIP_REFERENCE.search(event.quote or "") if isinstance(event, Text | Photo) else None
        if replied is None and named is not None:
            # The officer's message names the tip: enough when its delivery record is not written yet, or already
            # purged (answer() still checks the tip is theirs and an officer wrote to them about it).
            return await _answer_officer(turn, event, named.group(0))
        if replied is not None and replied.kind in ALERT_KINDS:
            draft = empty_draft(replied.alert_id)
            problem = _add_to_draft(turn, draft, event)
            turn.data["tip"] = draft
            turn.go(Step.TIP_ANONYMITY)
            return turn.say(problem or _("Thank you. Can officers contact you about this?"), _anonymity_options(turn))
    latest = None if event.reply_to else await turn.services.tips.latest_sent(turn.address, RECENT)
    if latest is not None and latest.kind is MessageKind.REPLY_TO_TIPSTER and latest.tip_id is not None:
        # Where a message cannot be a reply (a text message), one soon after an officer's answers the officer.
        tip = await turn.services.tips.get_for(turn.address, latest.tip_id)
        return await _answer_officer(turn, event, tip.reference or "")
    about = latest if latest is not None and latest.kind in ALERT_KINDS else None
    draft = empty_draft(about.alert_id if about else None)
    draft["headline"] = about.headline if about else None
    _add_to_draft(turn, draft, event)
    turn.data["tip"] = draft
    turn.go(Step.TIP_OFFER)
    return offer(turn, about.headline if about else None)


def offer(turn: Turn, headline: str | None) -> Prompt:
    """ "Send this to the police?", about the alert they had in the last day when there is one."""
    _ = turn.gettext
    if headline:
        question = _("Send this to the police about <b>{headline}</b>? For an emergency, call 999.").format(
            headline=esc(headline)
        )
    else:
        question = _("Would you like to send this to the police as information? For an emergency, call 999.")
    return turn.say(question, [Option("tf:send", _("Yes, send it")), Option("tf:discard", _("No"))])


# --- collecting -----------------------------------------------------------------------------------


def on_collect(turn: Turn, event: TipEvent) -> Prompt:
    _ = turn.gettext
    draft = turn.data.get("tip") or empty_draft(None)
    problem = _add_to_draft(turn, draft, event)
    turn.data["tip"] = draft
    return turn.say(problem or _("Got it. Add more, or tap <b>Done</b>."), _collecting_options(turn))


def not_collectable(turn: Turn) -> Prompt:
    _ = turn.gettext
    return turn.say(_("Please send text, photos or a location — or tap <b>Done</b>."), _collecting_options(turn))


async def on_tip_step(turn: Turn, action: str) -> Prompt | None:
    _ = turn.gettext
    if action in ("cancel", "discard"):
        turn.reset()
        return turn.say(_("OK — nothing was sent."))
    if action == "done" and turn.step is Step.TIP_COLLECTING:
        draft = turn.data.get("tip") or empty_draft(None)
        if not (draft["texts"] or draft["photos"] or draft["location"]):
            return turn.say(_("Please tell us what you saw first."), _collecting_options(turn))
        turn.go(Step.TIP_ANONYMITY)
        return ask_anonymity(turn)
    if action == "send" and turn.step is Step.TIP_OFFER:
        turn.go(Step.TIP_ANONYMITY)
        return ask_anonymity(turn)
    if action in ("anon", "contact") and turn.step is Step.TIP_ANONYMITY:
        return await _submit(turn, may_contact=action == "contact")
    return expired(turn)


def ask_anonymity(turn: Turn) -> Prompt:
    _ = turn.gettext
    return turn.say(_("Can officers contact you about this?"), _anonymity_options(turn))


def ask_again(turn: Turn) -> Prompt:
    """The current tip step's question, again."""
    if turn.step is Step.TIP_COLLECTING:
        return not_collectable(turn)
    if turn.step is Step.TIP_ANONYMITY:
        return ask_anonymity(turn)
    return offer(turn, (turn.data.get("tip") or {}).get("headline"))


async def _submit(turn: Turn, *, may_contact: bool) -> Prompt | None:
    _ = turn.gettext
    draft = turn.data.get("tip") or empty_draft(None)
    photos, missing = await _fetch_photos(turn, draft["photos"])
    if missing and not (draft["texts"] or photos or draft["location"]):
        draft["photos"] = []
        turn.go(Step.TIP_COLLECTING)
        return turn.say(
            _("Sorry — we couldn't fetch your photos. Please send them again, or tell us in words."),
            _collecting_options(turn),
        )
    location = tuple(draft["location"]) if draft["location"] else None
    new = NewTip(
        text="\n\n".join(draft["texts"]),
        alert_id=draft["alert_id"],
        photos=photos,
        location=location,
        may_contact=may_contact,
        contact=turn.contact if may_contact else None,
    )
    try:
        tip = await turn.services.tips.submit(turn.address, new)
    except TooManyTips as exc:
        return _flood_notice(turn, str(exc))
    turn.reset()
    text = _(
        "Thank you — your information has reached the officers. Your reference is <b>{reference}</b>.\n\n"
        "If it's an emergency, call 999."
    ).format(reference=esc(tip.reference))
    if missing:
        text += "\n\n" + _(
            "{count} photo(s) could not be fetched, so they were not sent. You can send them in a new message."
        ).format(count=missing)
    return turn.say(text, keep=True)


async def _fetch_photos(turn: Turn, refs: list[str]) -> tuple[list[TipPhoto], int]:
    """The photos' bytes, and how many the platform no longer has (a failure to reach it raises: the platform retries)."""
    source = turn.services.photos
    if source is None:
        return [], len(refs)
    photos: list[TipPhoto] = []
    missing = 0
    for number, ref in enumerate(refs, start=1):
        try:
            photos.append(await source.fetch(ref, number))
        except PhotoGone:
            missing += 1
    return photos, missing


def _flood_notice(turn: Turn, text: str) -> Prompt | None:
    """One polite notice a minute; nothing more is queued, and nothing more is said."""
    _ = turn.gettext
    last = turn.data.get(FLOOD_NOTICE_KEY)
    turn.reset()
    now = turn.services.clock()
    if last and (now - datetime.fromisoformat(last)).total_seconds() < FLOOD_NOTICE_EVERY:
        turn.data[FLOOD_NOTICE_KEY] = last
        return None
    turn.data[FLOOD_NOTICE_KEY] = now.isoformat()
    return turn.say(esc(_(text)))


# --- answering an officer ------------------------------------------------------------------------


async def on_answer_button(turn: Turn, tip_id: int) -> Prompt:
    _ = turn.gettext
    tip = await turn.services.tips.get_for(turn.address, tip_id)
    turn.reset()
    turn.data["answering"] = tip.reference
    turn.go(Step.TIP_ANSWERING)
    return turn.say(_("Write your answer to the officer about {reference}:").format(reference=esc(tip.reference)))


async def on_answer(turn: Turn, event: TipEvent) -> Prompt | None:
    reference = turn.data.get("answering") or ""
    return await _answer_officer(turn, event, reference)


async def _answer_officer(turn: Turn, event: TipEvent, reference: str) -> Prompt | None:
    _ = turn.gettext
    text = _words_in(event)
    if not text.strip():
        return turn.say(_("Please write your answer as text."))
    try:
        await turn.services.tips.answer(turn.address, reference, text)  # checks the tip is theirs and an officer wrote
    except TooManyTips as exc:
        return _flood_notice(turn, str(exc))
    turn.reset()
    return turn.say(_("Sent to the officer ({reference}). Thank you.").format(reference=esc(reference)))


def expired(turn: Turn) -> Prompt:
    _ = turn.gettext
    return turn.say(_("That button has expired. Send /help to see what you can do."), new_message=True)


# --- inside ----------------------------------------------------------------------------------------


def _add_to_draft(turn: Turn, draft: dict[str, Any], event: TipEvent) -> str | None:
    """Add what the message carries; a polite problem if it can't be taken."""
    _ = turn.gettext
    text = _words_in(event)
    if text.strip():
        if sum(len(t) for t in draft["texts"]) + len(text) > MAX_TIP_TEXT:
            return _("That's more text than one tip can hold. Tap <b>Done</b> to send what you have.")
        draft["texts"].append(text)
    if isinstance(event, Photo):
        room = MAX_PHOTOS - len(draft["photos"])
        draft["photos"].extend(event.refs[: max(room, 0)])
        if len(event.refs) > room:
            return _("That's the most photos one tip can hold. Tap <b>Done</b> to send them.")
    if isinstance(event, Location):
        # Where they saw something: evidence, kept as sent (not snapped like a home).
        draft["location"] = [event.lat, event.lon]
    return None


def _words_in(event: TipEvent) -> str:
    """What the resident wrote: a message's text, or a photo's caption."""
    if isinstance(event, Text):
        return event.body
    if isinstance(event, Photo):
        return event.caption or ""
    return ""
