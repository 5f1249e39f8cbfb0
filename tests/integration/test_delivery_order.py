"""Who is reached first: urgent before routine, nearest before farthest, alerts of one priority taking turns,
and a cancellation mid fan-out — through the alert service and the worker, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from shapely.geometry import LineString, Polygon

from core.delivery.worker import DeliveryWorker, WorkerConfig
from core.geo.areas import CircleArea, PolygonArea, StreetArea
from core.model import Address, Channel, DeliveryState
from core.outbound import DeliveryResult, OutboundMessage
from core.services.alerts import AlertRequest, AlertService
from core.services.roles import Roles
from tests.support.fakes import FakeAdapter
from tests.support.residents import STAFFORD, add_residents, offset, resident_at

pytestmark = pytest.mark.calendar  # make test runs it again with the clock moved

OFFICER = "cli:test"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def clock() -> datetime:
    return NOW


class HookedAdapter(FakeAdapter):
    """A fake Telegram that runs ``hook`` (an officer acting mid fan-out) just before its n-th send."""

    def __init__(self) -> None:
        super().__init__(Channel.TELEGRAM)
        self.hooks: dict[int, Callable[[], Awaitable[None]]] = {}
        self.calls = 0

    async def send(self, to: Address, message: OutboundMessage) -> DeliveryResult:
        self.calls += 1
        hook = self.hooks.pop(self.calls, None)
        if hook is not None:
            await hook()
        return await super().send(to, message)


@pytest.fixture
def service(uow_factory, force) -> AlertService:
    return AlertService(uow_factory, force, roles=Roles(), clock=clock)


@pytest.fixture
def telegram() -> HookedAdapter:
    return HookedAdapter()


def worker_for(uow_factory, force, adapter, claim: int = 1000) -> DeliveryWorker:
    # One row in flight at a time and small claims: the order of sends is the order of claims.
    config = WorkerConfig(max_claim=claim, max_in_flight=1)
    return DeliveryWorker(uow_factory, {Channel.TELEGRAM: adapter}, force_name=force.name, config=config, clock=clock)


async def send_alert(service: AlertService, area, urgency: str):
    request = AlertRequest(
        incident_number="MV-20261125-0456",
        headline=f"{urgency} alert",
        message="Please look out.",
        area=area,
        urgency=urgency,
        everyone=True,
    )
    draft = await service.draft(request, OFFICER)
    return (await service.send(draft.id, OFFICER)).alert


def _headline(message: OutboundMessage) -> str:
    for word in ("Immediate", "Expected", "Future", "cancelled", "Past"):
        if word in message.text:
            return word
    return "?"


async def residents_around(uow_factory, count: int, first_m: float = 100, step_m: float = 10):
    return await add_residents(
        uow_factory, *[resident_at(*offset(*STAFFORD, north_m=first_m + step_m * i)) for i in range(count)]
    )


async def test_an_immediate_alert_overtakes_a_routine_one_in_flight(service, telegram, uow_factory, force):
    await residents_around(uow_factory, 12)
    await send_alert(service, CircleArea(*STAFFORD, 1000), "Future")
    worker = worker_for(uow_factory, force, telegram, claim=4)

    async def urgent() -> None:
        await send_alert(service, CircleArea(*STAFFORD, 1000), "Immediate")

    telegram.hooks[2] = urgent  # the routine alert is going out when the urgent one is sent
    await worker.run_until_idle()
    order = [_headline(m.message) for m in telegram.sent]
    # The four routine rows already claimed finish; then all twelve urgent ones; then the routine rest.
    assert order == ["Future"] * 4 + ["Immediate"] * 12 + ["Future"] * 8


async def test_expected_goes_before_future_and_a_due_retry_does_not_jump_an_urgent_alert(
    service, telegram, uow_factory, force
):
    (first, *_rest) = await residents_around(uow_factory, 3)
    telegram.answer(
        first.address, DeliveryResult.retry("busy", after=0.0, pause_channel=False)
    )  # fails once, due again at once
    await send_alert(service, CircleArea(*STAFFORD, 1000), "Future")
    worker = worker_for(uow_factory, force, telegram, claim=1)
    rows = await worker._claim(Channel.TELEGRAM, 1)
    assert len(rows) == 1
    await send_alert(service, CircleArea(*STAFFORD, 1000), "Expected")
    await send_alert(service, CircleArea(*STAFFORD, 1000), "Immediate")
    for row in rows:
        await worker._deliver(Channel.TELEGRAM, row)
    await worker.flush()
    await worker.run_until_idle()
    assert [_headline(m.message) for m in telegram.sent] == ["Immediate"] * 3 + ["Expected"] * 3 + ["Future"] * 3


async def test_two_alerts_of_one_priority_take_turns(service, telegram, uow_factory, force):
    await residents_around(uow_factory, 10)
    await send_alert(service, CircleArea(*STAFFORD, 1000), "Expected")
    worker = worker_for(uow_factory, force, telegram, claim=1)

    async def second() -> None:
        await send_alert(service, CircleArea(*offset(*STAFFORD, north_m=150), 1000), "Expected")

    telegram.hooks[3] = second
    await worker.run_until_idle()
    alerts = [m.message.text for m in telegram.sent]
    firsts = ["within 1 km of 52.80670" in t for t in alerts]
    assert len(alerts) == 20
    # After the second alert arrives, neither waits for the other: the next ten sends are shared about evenly.
    shared = firsts[3:13]
    assert 4 <= sum(shared) <= 6, firsts


@pytest.mark.parametrize(
    "area, distances_m",
    [
        (CircleArea(*STAFFORD, 2000), [1900, 120, 1400, 700, 1000, 400]),
        # a street running east–west through Stafford: what counts is how far from its line, not from its middle
        (
            StreetArea(
                "High Street",
                LineString([offset(*STAFFORD, east_m=-2000)[::-1], offset(*STAFFORD, east_m=2000)[::-1]]),
                100,
            ),
            [90, 0],
        ),
    ],
)
async def test_nearest_residents_are_reached_first(service, telegram, uow_factory, force, area, distances_m):
    east = [0, 1800]  # on the street: the one on its line 1.8 km along it comes before the one 90 m off its middle
    people = await add_residents(
        uow_factory,
        *[
            resident_at(*offset(*STAFFORD, north_m=d, east_m=e if isinstance(area, StreetArea) else 0))
            for d, e in zip(distances_m, east, strict=False)
        ],
    )
    await send_alert(service, area, "Expected")
    await worker_for(uow_factory, force, telegram, claim=2).run_until_idle()
    by_distance = [str(p.address) for _, p in sorted(zip(distances_m, people, strict=False), key=lambda pair: pair[0])]
    assert [str(m.to) for m in telegram.sent] == by_distance


async def test_inside_a_polygon_comes_before_its_edge(service, telegram, uow_factory, force):
    corners = [offset(*STAFFORD, north_m=n, east_m=e) for n, e in ((-500, -500), (-500, 500), (500, 500), (500, -500))]
    area = PolygonArea("Town centre", Polygon([(lon, lat) for lat, lon in corners]))
    edge, inside = await add_residents(
        uow_factory, resident_at(*offset(*STAFFORD, north_m=530)), resident_at(*offset(*STAFFORD, north_m=420))
    )
    await send_alert(service, area, "Expected")
    await worker_for(uow_factory, force, telegram).run_until_idle()
    assert [str(m.to) for m in telegram.sent] == [str(inside.address), str(edge.address)]


async def test_a_cancellation_mid_fan_out_skips_the_rest_and_reaches_only_those_reached(
    service, telegram, uow_factory, force
):
    await residents_around(uow_factory, 20)
    alert = await send_alert(service, CircleArea(*STAFFORD, 1000), "Expected")
    worker = worker_for(uow_factory, force, telegram, claim=4)

    async def cancel() -> None:
        await service.cancel(alert.reference, OFFICER, reason="Found safe.")

    telegram.hooks[6] = cancel
    await worker.run_until_idle()
    got_alert = [str(m.to) for m in telegram.sent if "Found safe" not in m.message.text]
    got_cancel = [str(m.to) for m in telegram.sent if "Found safe" in m.message.text]
    assert 6 <= len(got_alert) <= 8  # what was sent or already leased when the officer cancelled
    assert sorted(got_cancel) == sorted(got_alert)  # nobody hears of a cancellation of an alert they never got
    first_cancel = next(i for i, m in enumerate(telegram.sent) if "Found safe" in m.message.text)
    assert all("Found safe" in m.message.text for m in telegram.sent[first_cancel:])  # no alert after its cancellation
    progress = await service.progress(alert.id)
    assert progress[Channel.TELEGRAM].get(DeliveryState.SKIPPED) == 20 - len(got_alert)
