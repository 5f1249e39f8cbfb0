"""Who the console plays: one Telegram resident, one WhatsApp resident, one email resident, and the sandbox's Slack workspace.

Fixed identities, so a demo database seeded for them (``lookout demo`` subscribes
the Telegram resident) still matches them after a restart. A phone's **New
resident** button brings a fresh person onto it instead: an id or number the
sandbox has not seen, so the app meets them as a stranger.
"""

from __future__ import annotations

import random
from collections.abc import Collection

from sandbox.telegram_users import SimulatedUser

TELEGRAM_RESIDENT = SimulatedUser(424242, "Sam", "sam_resident")
WHATSAPP_RESIDENT_ID = "447700900123"  # Ofcom's drama range: never a real number
WHATSAPP_RESIDENT_NAME = "Alice"
EMAIL_RESIDENT = "robin@example.org"  # example.org is reserved (RFC 2606): never a real mailbox

# The people "New resident" brings onto a phone, in turn.
NEW_RESIDENT_NAMES = ("Priya", "Tom", "Grace", "Ahmed", "Zofia", "Kwame", "Megan", "Dev")
# Telegram user ids far from the fixed resident's; drawn at random, so a restarted demo (whose database
# remembers earlier residents) does not hand out the same person twice.
_TELEGRAM_IDS = range(600_000_000, 700_000_000)
# Ofcom's drama range for mobiles, 07700 900000 to 900999: never a real number.
_WHATSAPP_NUMBERS = range(447700900000, 447700901000)


def new_resident_name(count: int) -> str:
    """The name of the ``count``-th new resident (0 first)."""
    return NEW_RESIDENT_NAMES[count % len(NEW_RESIDENT_NAMES)]


def new_telegram_resident(count: int, taken: Collection[int], rng: random.Random) -> SimulatedUser:
    """A Telegram user whose id is not in ``taken``."""
    while (user_id := rng.choice(_TELEGRAM_IDS)) in taken:
        pass
    name = new_resident_name(count)
    return SimulatedUser(user_id, name, f"{name.lower()}_{user_id % 10_000}")


def new_whatsapp_number(taken: Collection[str], rng: random.Random) -> str:
    """A WhatsApp number (``wa_id``) from the drama range that is not in ``taken``."""
    free = [str(n) for n in _WHATSAPP_NUMBERS if str(n) not in taken]
    if not free:
        raise ValueError("every number of the drama range is in use on this sandbox; restart it")
    return rng.choice(free)
