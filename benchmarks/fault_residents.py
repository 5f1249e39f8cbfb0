"""What residents do during ``lookout bench faults``: send tips, type where they live, and chat.

- Tips: a subscribed resident writes out of the blue, taps "Yes, send it", then
  "Stay anonymous" — one every few seconds through every phase. Each tip's text
  carries a numbered marker, so the run can find it in the database and in Slack.
- Postcodes: new residents start onboarding and type a postcode while the
  geocoder is timing out (they must get a polite "try again", not silence), then
  type it again once it answers (they must get the place back).
- Chatter: ``/help`` from other residents at a steady rate, so the web app
  writes while the worker and the scheduler do.

Each step waits for the bot's answer in the chat; one that never comes is a
conversation left in silence.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

from benchmarks.fault_timeline import Clock
from benchmarks.telegram_side import Resident, TelegramSide

TIP_MARKER = "fault-run tip #"
TIP_EVERY_S = 3.0
TIPS_FROM_S, TIPS_UNTIL_S = 2.0, 80.0
CHATTER_PER_S = 4.0
POLITE_GEOCODER_ANSWER = "isn't answering"  # core.geocoding.GeocoderUnavailable
PLACE_FOUND = "Is this right?"
POSTCODES = ("ST16 2LZ", "ST16 2DH", "ST16 2AE", "ST16 3AA")  # in the Nominatim stand-in's gazetteer


@dataclass
class TipConversation:
    number: int
    chat_id: int
    started_s: float
    submitted: bool = False  # the last tap was answered 2xx: the bot has the tip
    acknowledged: bool = False  # the resident saw "your information has reached the officers"
    stalled_at: str | None = None  # the step after which the bot fell silent, or whose update Telegram gave up on


async def tip_conversation(resident: Resident, number: int, clock: Clock) -> TipConversation:
    conversation = TipConversation(number, resident.chat_id, round(clock.now(), 1))
    steps = (
        (
            "writes",
            lambda: resident.says(f"{TIP_MARKER}{number}: a white van without plates, parked on Eastgate Street"),
            "send this to the police",
        ),
        ("taps Yes, send it", lambda: resident.presses("Yes, send it"), "contact you"),
        ("taps Stay anonymous", lambda: resident.presses("Stay anonymous"), "reached the officers"),
    )
    for name, act, answer in steps:
        seen = len(resident.messages())
        if not await act():
            conversation.stalled_at = name
            return conversation
        if name == "taps Stay anonymous":
            conversation.submitted = True
        if await resident.sees(answer, after=seen) is None:
            if name != "taps Stay anonymous":  # the tip is in; only its acknowledgement went missing
                conversation.stalled_at = name
            return conversation
    conversation.acknowledged = True
    return conversation


async def tips_through_the_run(side: TelegramSide, chats: list[int], clock: Clock) -> list[TipConversation]:
    """One tip conversation every ``TIP_EVERY_S``, each from a different resident (the force allows 3 a minute each)."""
    running: list[asyncio.Task[TipConversation]] = []
    for number, chat in enumerate(chats, start=1):
        second = TIPS_FROM_S + (number - 1) * TIP_EVERY_S
        if second > TIPS_UNTIL_S:
            break
        await clock.until(second)
        running.append(asyncio.create_task(tip_conversation(Resident(side, chat), number, clock)))
    return list(await asyncio.gather(*running))


@dataclass
class PostcodeTry:
    chat_id: int
    postcode: str
    while_timing_out: bool
    answer: str | None = None  # "polite", "place", or None: silence
    seconds: float | None = None  # from typing it to the webhook's answer


async def postcodes_while_the_geocoder_times_out(
    side: TelegramSide, chats: list[int], clock: Clock, window: tuple[float, float]
) -> list[PostcodeTry]:
    """New residents type a postcode during ``window`` (the geocoder timing out), then again after it."""
    start, end = window
    residents = [Resident(side, chat) for chat in chats[: len(POSTCODES)]]
    await clock.until(start - 6)
    ready = await asyncio.gather(*(_ready_for_a_place(r) for r in residents))
    tries: list[asyncio.Task[PostcodeTry]] = []
    for n, (resident, postcode) in enumerate(zip(residents, POSTCODES, strict=True)):
        await clock.until(start + 1 + n * 1.5)
        if ready[n]:
            tries.append(asyncio.create_task(_types(resident, postcode, clock, while_timing_out=True)))
    during = list(await asyncio.gather(*tries))
    await clock.until(end + 1)
    after = await asyncio.gather(
        *(
            _types(r, p, clock, while_timing_out=False)
            for r, p, ok in zip(residents, POSTCODES, ready, strict=True)
            if ok
        )
    )
    not_ready = [
        PostcodeTry(r.chat_id, p, True) for r, p, ok in zip(residents, POSTCODES, ready, strict=True) if not ok
    ]
    return [*during, *after, *not_ready]


async def _ready_for_a_place(resident: Resident) -> bool:
    """/start, then "I'm old enough": the bot asks where they want alerts for."""
    seen = len(resident.messages())
    if not await resident.says("/start") or await resident.sees("or older", after=seen) is None:
        return False
    seen = len(resident.messages())
    return (
        await resident.presses("or older") and await resident.sees("Where do you want alerts", after=seen) is not None
    )


async def _types(resident: Resident, postcode: str, clock: Clock, *, while_timing_out: bool) -> PostcodeTry:
    attempt = PostcodeTry(resident.chat_id, postcode, while_timing_out)
    seen = len(resident.messages())
    typed = clock.now()
    if not await resident.says(postcode):
        return attempt
    attempt.seconds = round(clock.now() - typed, 2)
    for message in resident.messages()[seen:]:
        if POLITE_GEOCODER_ANSWER in message.visible:
            attempt.answer = "polite"
        elif PLACE_FOUND in message.visible:
            attempt.answer = "place"
    return attempt


async def chatter(side: TelegramSide, chats: list[int], until: asyncio.Event, *, seed: int = 3) -> int:
    """``/help`` from random residents at ``CHATTER_PER_S``, on schedule whether or not earlier ones were answered."""
    rng = random.Random(seed)
    sent: list[asyncio.Task[bool]] = []
    while not until.is_set():
        sent.append(asyncio.create_task(Resident(side, rng.choice(chats)).says("/help")))
        try:
            await asyncio.wait_for(until.wait(), timeout=1 / CHATTER_PER_S)
        except TimeoutError:
            pass
    await asyncio.gather(*sent)
    return len(sent)
