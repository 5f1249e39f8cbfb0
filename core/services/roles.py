"""Who may do what: officers send, supervisors approve.

Slack user ids come from ``SLACK_OFFICER_IDS`` / ``SLACK_SUPERVISOR_IDS``; an
empty officer list means nobody may send from Slack. Someone at the server's
shell (actor ``cli:<user>``) is the operator and may act as an officer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.errors import NotAllowed

CLI_PREFIX = "cli:"
SYSTEM_ACTOR = "system"
# A Slack user id (officers act from Slack as themselves; the CLI and the system act under other names).
SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


@dataclass(frozen=True)
class Roles:
    officers: frozenset[str] = frozenset()
    supervisors: frozenset[str] = frozenset()

    def is_officer(self, actor: str) -> bool:
        return actor.startswith(CLI_PREFIX) or actor in self.officers or actor in self.supervisors

    def is_supervisor(self, actor: str) -> bool:
        return actor in self.supervisors

    def require_officer(self, actor: str) -> None:
        if not self.is_officer(actor):
            raise NotAllowed(
                "Only officers listed in SLACK_OFFICER_IDS can raise or change alerts. Ask your Lookout administrator to add you."
            )

    def require_supervisor(self, actor: str) -> None:
        if not self.is_supervisor(actor):
            raise NotAllowed("Only supervisors listed in SLACK_SUPERVISOR_IDS can approve alerts.")
