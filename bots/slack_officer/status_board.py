"""Keeping each sent alert's card current in Slack until every delivery is done, then the final report.

Runs in every web process that has Slack on, beside the request handlers.
Which process updates which card is settled through leased progress watches
in the database (core.services.progress): a process renews the lease of the
cards it holds, and if it dies its cards are taken over by another process, or
by itself after a restart, once the lease runs out, so the final report
still appears. Each card is changed at most once every ``min_interval`` seconds
(chat.update), and only when what it says has changed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack_officer.adapter import split_address
from bots.slack_officer.blocks.cards import status_card
from core.clock import Clock
from core.errors import NotFound
from core.force import ForceConfig
from core.model import Address, Channel
from core.outages import Outage, StorageUnavailable
from core.ports import ProgressWatch
from core.services.progress import DeliveryReport, ProgressService

logger = logging.getLogger("lookout.slack")

MIN_INTERVAL_SECONDS = 3.0
TICK_SECONDS = 1.0
LEASE = timedelta(seconds=20)
# While nothing moves (quiet-hour holds, a stopped worker) the card's "so far" is refreshed this often.
REFRESH_ELAPSED = timedelta(seconds=30)
# Slack answers these when the card can never be updated again (deleted, channel gone, app removed).
_GONE = frozenset(
    {
        "message_not_found",
        "channel_not_found",
        "cant_update_message",
        "is_archived",
        "not_in_channel",
        "restricted_action",
    }
)


@dataclass
class _Held:
    watch: ProgressWatch
    updated_at: datetime
    renewed_at: datetime
    shown: str | None = None  # the counts last put on the card (report_signature)
    quiet_until: datetime | None = None  # after a 429: Slack's Retry-After


class StatusBoard:
    def __init__(
        self,
        progress: ProgressService,
        client: AsyncWebClient,
        force: ForceConfig,
        *,
        min_interval: float = MIN_INTERVAL_SECONDS,
        tick: float = TICK_SECONDS,
        lease: timedelta = LEASE,
        clock: Clock,
    ) -> None:
        self._progress = progress
        self._client = client
        self._force = force
        self._min_interval = timedelta(seconds=min_interval)
        self._tick = tick
        self._lease = lease
        self._clock = clock
        self._held: dict[int, _Held] = {}
        self._stop = asyncio.Event()

    async def run(self) -> None:
        logger.info("Slack status board running (one card update per %s s at most)", self._min_interval.total_seconds())
        outage = Outage(logger, "Slack status board")
        while not self._stop.is_set():
            began = outage.try_began()
            try:
                await self.tick()
            except StorageUnavailable as exc:  # the database restarting: said once, not every second
                outage.failed(exc)
            except Exception:  # Slack hiccuped, or a bug: log it and try again next tick
                logger.exception("Slack status board tick failed")
            else:
                outage.recovered(began)
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=self._tick)
            except TimeoutError:
                pass
        await self._hand_back()

    async def _hand_back(self) -> None:
        """Stopping cleanly: end our leases now, so another process takes the cards over at once, not in 20 s."""
        for alert_id in list(self._held):
            try:
                await self._progress.renew(alert_id, timedelta(0), changed=False)
            except Exception:
                logger.exception(
                    "could not hand back the Slack status of alert %s; its lease runs out by itself", alert_id
                )
        self._held.clear()

    def stop(self) -> None:
        self._stop.set()

    @property
    def holding(self) -> list[int]:
        return sorted(self._held)

    async def tick(self) -> None:
        now = self._clock()
        for watch in await self._progress.claim(self._lease):
            self._held[watch.alert_id] = _Held(watch, watch.updated_at, now)
        for alert_id, held in list(self._held.items()):
            try:
                await self._refresh(alert_id, held)
            except StorageUnavailable:
                raise  # the whole tick waits for the database
            except Exception:
                logger.exception("updating the Slack status of alert %s failed; trying again shortly", alert_id)

    async def _refresh(self, alert_id: int, held: _Held) -> None:
        now = self._clock()
        if held.quiet_until is not None and now < held.quiet_until:
            await self._keep(alert_id, held, now)
            return
        if now - held.updated_at < self._min_interval:
            await self._keep(alert_id, held, now)
            return
        try:
            report = await self._progress.report(alert_id)
        except NotFound:
            logger.warning("alert %s of a Slack status card no longer exists; leaving the card as it is", alert_id)
            await self._release(alert_id)
            return
        shown = report_signature(report)
        stale = now - held.updated_at >= REFRESH_ELAPSED
        if shown != held.shown or stale:
            text, blocks = status_card(report, self._force, now)
            if not await self._update_card(alert_id, held, text, blocks, now):
                return
            held.shown, held.updated_at = shown, now
            held.renewed_at = await self._progress.renew(alert_id, self._lease, changed=True)
        else:
            await self._keep(alert_id, held, now)
        if report.done:
            await self._release(alert_id)

    async def _update_card(self, alert_id: int, held: _Held, text: str, blocks: list, now: datetime) -> bool:
        channel, ts = split_address(held.watch.address)
        try:
            if ts is None:  # sent from the command line or on a schedule: the card is posted in the officers' channel
                posted = await self._client.chat_postMessage(channel=channel, text=text, blocks=blocks)
                address = Address(Channel.SLACK, f"{posted['channel']}/{posted['ts']}")
                await self._progress.move(alert_id, address)
                held.watch = replace(held.watch, address=address)
            else:
                await self._client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "")
            if exc.response.status_code == 429 or error == "ratelimited":
                after = float(exc.response.headers.get("Retry-After", 1) or 1)
                held.quiet_until = now + timedelta(seconds=after)
                logger.info("Slack asked to wait %.0f s before updating the status of alert %s", after, alert_id)
                return False
            if error in _GONE:
                logger.warning(
                    "the Slack status card of alert %s can't be updated (%s); no more updates", alert_id, error
                )
                await self._release(alert_id)
                return False
            raise
        return True

    async def _keep(self, alert_id: int, held: _Held, now: datetime) -> None:
        """Renew the lease once half of it has gone, so another process never takes a card we are keeping."""
        if now - held.renewed_at >= self._lease / 2:
            held.renewed_at = await self._progress.renew(alert_id, self._lease, changed=False)

    async def _release(self, alert_id: int) -> None:
        await self._progress.finish(alert_id)
        self._held.pop(alert_id, None)


def report_signature(report: DeliveryReport) -> str:
    """What the card's counts say, so an update is made only when they change."""
    counts = sorted((c.value, s.value, n) for c, states in report.by_channel.items() for s, n in states.items())
    return repr((report.alert.state.value, counts, report.unreachable, report.held, report.limit_held))
