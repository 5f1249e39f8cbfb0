"""Who the console plays: one Telegram resident, one WhatsApp resident, one email resident, and the sandbox's Slack workspace.

Fixed identities, so a demo database seeded for them (``lookout demo`` subscribes
the Telegram resident) still matches them after a restart.
"""
from __future__ import annotations

from sandbox.telegram_users import SimulatedUser

TELEGRAM_RESIDENT = SimulatedUser(424242, "Sam", "sam_resident")
WHATSAPP_RESIDENT_ID = "447700900123"  # Ofcom's drama range: never a real number
WHATSAPP_RESIDENT_NAME = "Alice"
EMAIL_RESIDENT = "robin@example.org"  # example.org is reserved (RFC 2606): never a real mailbox
