"""Public alerts in CAP 1.2: one document per alert message, and the feed of those still live."""

from __future__ import annotations

import hashlib

from core.alert_photos import photo_link
from core.cap import PhotoResource, is_public, render_cap, render_feed
from core.clock import Clock
from core.errors import NotFound
from core.force import ForceConfig
from core.model import Alert, AlertPhoto, AlertState, AlertType
from core.ports import UnitOfWorkFactory

FEED_SIZE = 50
LIVE = (AlertState.SENDING, AlertState.SENT)


class CapService:
    def __init__(
        self, uow: UnitOfWorkFactory, force: ForceConfig, *, clock: Clock, public_url: str | None = None
    ) -> None:
        self._uow = uow
        self._public_url = public_url  # where an appeal's photo is served (its CAP resource's uri)
        self._force = force
        self._clock = clock

    async def document(self, reference: str) -> bytes:
        """The CAP document of a public alert, update or cancellation; NotFound for anything else."""
        async with self._uow(read_only=True) as uow:
            alert = await uow.alerts.get_by_reference(reference.strip().upper())
            if alert is None or not is_public(self._force, alert):
                raise NotFound(f"No public alert {reference!r}.")
            earlier: list[Alert] = []
            if alert.original_id is not None:
                original = await uow.alerts.get(alert.original_id)
                follow_ups = await uow.alerts.follow_ups(alert.original_id)
                earlier = [
                    a
                    for a in [original, *follow_ups]
                    if a is not None
                    and a.sent_at
                    and a.id != alert.id
                    and a.sent_at <= (alert.sent_at or self._clock())
                ]
            photo = await uow.photos.of_alert(alert.id) if alert.type is AlertType.ALERT else None  # type: ignore[arg-type]
        return render_cap(self._force, alert, earlier, photo=self._resource(alert, photo))

    def _resource(self, alert: Alert, photo: AlertPhoto | None) -> PhotoResource | None:
        """The photo while it is served: not once the appeal is resolved or the picture purged."""
        if photo is None or photo.data is None or photo.withdrawn_at is not None:
            return None
        uri = photo_link(self._public_url, alert.reference or "", photo.token)
        if uri is None:
            return None
        return PhotoResource(
            uri, photo.size, hashlib.sha1(photo.data, usedforsecurity=False).hexdigest(), photo.content_type
        )

    async def feed(self, base_url: str) -> bytes:
        now = self._clock()
        async with self._uow(read_only=True) as uow:
            recent = await uow.alerts.recent(FEED_SIZE * 4)
        live = [
            a
            for a in recent
            if is_public(self._force, a) and a.state in LIVE and (a.expires_at is None or a.expires_at > now)
        ]
        return render_feed(self._force, live[:FEED_SIZE], base_url=base_url.rstrip("/"), updated=now)
