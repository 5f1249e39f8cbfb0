"""What the listeners need, handed to them through bolt's ``context`` (so each package's ``register(app)`` stays plain)."""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field
from typing import Any

from bots.map_tiles.client import TileClient
from bots.slack_officer.tasks import BackgroundTasks
from core.clock import Clock
from core.force import ForceConfig
from core.geocoding import Geocoder
from core.ports import UnitOfWorkFactory
from core.services.alerts import AlertService
from core.services.audit import AuditService
from core.services.progress import ProgressService
from core.services.roles import Roles
from core.services.stats import StatsService
from core.services.tips import TipService

CONTEXT_KEY = "lookout"
# How long a modal submission may wait for the address lookup before Slack's 3 s run out:
# past this the modal shows "Looking up…" and the lookup carries on after the answer.
ACK_BUDGET_SECONDS = 1.5


@dataclass
class OfficerDeps:
    alerts: AlertService
    progress: ProgressService
    stats: StatsService
    audit: AuditService
    force: ForceConfig
    geocoder: Geocoder | None
    roles: Roles
    uow: UnitOfWorkFactory
    tasks: BackgroundTasks
    tips: TipService
    clock: Clock
    tiles: TileClient | None = None  # the street map under the preview's picture (LOOKOUT_MAP_TILES), when set
    ack_budget: float = ACK_BUDGET_SECONDS
    _alert_locks: weakref.WeakValueDictionary[int, asyncio.Lock] = field(default_factory=weakref.WeakValueDictionary)
    _tip_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = field(default_factory=weakref.WeakValueDictionary)

    def alert_lock(self, alert_id: int) -> asyncio.Lock:
        """One card action at a time per alert in this process: a double-pressed Send is refused by core's
        state check the second time instead of racing the first."""
        lock = self._alert_locks.get(alert_id)
        if lock is None:
            lock = self._alert_locks[alert_id] = asyncio.Lock()
        return lock

    def tip_lock(self, reference: str) -> asyncio.Lock:
        """One tip action at a time per tip in this process, so the redraws land in the order of the changes."""
        lock = self._tip_locks.get(reference)
        if lock is None:
            lock = self._tip_locks[reference] = asyncio.Lock()
        return lock


def deps_of(context: Any) -> OfficerDeps:
    return context[CONTEXT_KEY]
