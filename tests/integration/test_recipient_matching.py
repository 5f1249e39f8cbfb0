"""Recipient matching from ``reachable_places`` gives exactly what the rule says, on SQLite and PostgreSQL.

The rule is written out below as a plain join of residents, places and
subscriptions (the query Lookout ran before the covering index); every case
compares what the outbox counts and writes with it, and with the cover's own
cell test, through the real repositories and the database triggers.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import h3
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from core.clock import utc_now
from core.delivery.priority import Priority
from core.force import ALL_TOPICS
from core.geo.areas import CircleArea
from core.geo.cells import Cover, cover_area, snap
from core.geo.nearness import nearness
from core.model import Audience, Channel, MessageKind, Place, Resident
from core.ports import RecipientCriteria
from storage.outbox import SqlOutbox
from storage.tables import deliveries, messages, places, reachable_places, residents, subscriptions
from tests.support.residents import STAFFORD, add_residents, offset, resident_at

AT = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
AREA = CircleArea(*STAFFORD, 400)


def criteria(
    cover: Cover | None = None,
    *,
    topics: tuple[str, ...] = ("burglary",),
    sectors: tuple[str, ...] = (),
    audience: Audience = Audience.BOTH,
    testers_only: bool = False,
) -> RecipientCriteria:
    return RecipientCriteria(
        cover or cover_area(AREA, 10),
        topics=topics,
        sectors=sectors,
        audience=audience,
        testers_only=testers_only,
        at=AT,
    )


def rule(c: RecipientCriteria) -> sa.Select:
    """The matching rule as a plain join over the source tables (the query before ``reachable_places``)."""
    r = residents
    in_area = sa.or_(*[places.c.cell.between(lo, hi) for lo, hi in c.cover.ranges])
    has_place = sa.exists().where(places.c.resident_id == r.c.id, in_area)
    subscribed = sa.exists().where(
        subscriptions.c.resident_id == r.c.id, subscriptions.c.topic.in_((ALL_TOPICS, *c.topics))
    )
    audiences = []
    if c.audience.includes_residents:
        audiences.append(sa.and_(r.c.sector.is_(None), subscribed))
    if c.audience.includes_businesses:
        audiences.append(sa.and_(r.c.sector.is_not(None), r.c.sector.in_(c.sectors) if c.sectors else subscribed))
    conditions = [
        has_place,
        r.c.active.is_(True),
        r.c.erased_at.is_(None),
        sa.or_(r.c.paused_until.is_(None), r.c.paused_until <= c.at),
        sa.or_(*audiences) if audiences else sa.false(),
    ]
    if c.testers_only:
        conditions.append(r.c.is_tester.is_(True))
    return sa.select(r.c.id, r.c.channel, r.c.address).where(*conditions)


async def matched(engine: AsyncEngine, c: RecipientCriteria) -> set[tuple[int, str, str]]:
    """What the outbox matches, checked three ways: the rule, its own count, and the delivery rows it writes."""
    async with engine.begin() as conn:
        expected = {tuple(row) for row in (await conn.execute(rule(c))).all()}
        outbox = SqlOutbox(conn, utc_now)
        counted = await outbox.count_recipients(c)
        message_id = await outbox.new_message(MessageKind.ALERT)
        written_counts = await outbox.queue_for_recipients(message_id, c, AT, priority=Priority.ROUTINE)
        written = (
            await conn.execute(
                sa.select(deliveries.c.resident_id, deliveries.c.channel, deliveries.c.address).where(
                    deliveries.c.message_id == message_id
                )
            )
        ).all()
    rows = [tuple(row) for row in written]
    assert len(rows) == len(set(rows)), "one delivery row per recipient"
    assert set(rows) == expected
    per_channel = {Channel(channel): n for channel, n in Counter(channel for _, channel, _ in rows).items()}
    assert counted == written_counts == per_channel
    return expected


def ids(*people: Resident) -> set[int]:
    return {p.id for p in people}  # type: ignore[misc]


def who(found: set[tuple[int, str, str]]) -> set[int]:
    return {resident_id for resident_id, _, _ in found}


async def test_every_cell_on_and_around_the_edge_matches_as_the_cover_says(engine, uow_factory):
    cover = cover_area(AREA, 10)
    centre = snap(*STAFFORD, 10)
    # Rings of cells well past the circle's edge (400 m is about 5 cells), one resident in each.
    cells = h3.grid_disk(centre, 8)
    people = [
        Resident(
            address=resident_at(*STAFFORD).address,
            age_confirmed=True,
            topics=frozenset({ALL_TOPICS}),
            places=[Place("Home", cell)],
        )
        for cell in cells
    ]
    await add_residents(uow_factory, *people)

    found = who(await matched(engine, criteria(cover)))

    inside = {p.id for p in people if cover.contains(p.places[0].cell)}
    assert found == inside
    assert 0 < len(inside) < len(people)
    # The cover's ranges begin and end on real cells: residents there are matched, the neighbours outside are not.
    ends = {h3.int_to_str(v) for lo, hi in cover.ranges for v in (lo, hi)}
    assert {p.id for p in people if p.places[0].cell in ends} <= found


async def test_a_resident_with_several_places_in_the_area_gets_one_row(engine, uow_factory):
    both_inside = resident_at(*STAFFORD)
    both_inside.places.append(Place("Work", snap(*offset(*STAFFORD, north_m=150), 10)))
    both_inside.places.append(Place("Parents", snap(*offset(*STAFFORD, east_m=-150), 10)))
    one_inside = resident_at(*offset(*STAFFORD, north_m=3000))
    one_inside.places.append(Place("Work", snap(*STAFFORD, 10)))
    none_inside = resident_at(*offset(*STAFFORD, north_m=3000))
    none_inside.places.append(Place("Work", snap(*offset(*STAFFORD, east_m=2000), 10)))
    await add_residents(uow_factory, both_inside, one_inside, none_inside)

    assert who(await matched(engine, criteria())) == ids(both_inside, one_inside)


async def test_topics_sectors_and_audiences(engine, uow_factory):
    everything = resident_at(*STAFFORD, topics=frozenset({ALL_TOPICS}))
    burglary = resident_at(*STAFFORD, topics=frozenset({"burglary", "horse"}), channel=Channel.WHATSAPP)
    horse = resident_at(*STAFFORD, topics=frozenset({"horse"}))
    # Topic text that only a careless substring test would match: "bogus_callers" as a LIKE pattern matches this.
    lookalike = resident_at(*STAFFORD, topics=frozenset({"bogusXcallers"}))
    prefix = resident_at(*STAFFORD, topics=frozenset({"burglary_extra"}))
    no_topics = resident_at(*STAFFORD, topics=frozenset())
    shop = resident_at(*STAFFORD, sector="retail", topics=frozenset({"horse"}))
    farm = resident_at(*STAFFORD, sector="farming", topics=frozenset({ALL_TOPICS}))
    await add_residents(uow_factory, everything, burglary, horse, lookalike, prefix, no_topics, shop, farm)

    assert who(await matched(engine, criteria(topics=("burglary",)))) == ids(everything, burglary, farm)
    assert who(await matched(engine, criteria(topics=("bogus_callers",)))) == ids(everything, farm)
    assert who(await matched(engine, criteria(topics=("horse",), sectors=("retail",)))) == ids(
        everything, burglary, horse, shop
    )
    assert who(await matched(engine, criteria(topics=("horse",), audience=Audience.RESIDENTS))) == ids(
        everything, burglary, horse
    )
    assert who(await matched(engine, criteria(topics=(), audience=Audience.BUSINESSES))) == ids(farm)
    assert who(
        await matched(engine, criteria(topics=(), sectors=("retail", "farming"), audience=Audience.BUSINESSES))
    ) == ids(shop, farm)


async def test_nearest_first_rows_match_the_rule_and_rank_a_resident_by_their_nearest_place(engine, uow_factory):
    """The ranked send (the statement the alert service's send runs) writes the rule's residents, turns in
    order of distance, a resident with several places by the nearest; a second area of the same shape reuses
    the one built statement with its own values."""
    # Distances far apart: a place's distance is its cell centre's, up to ~75 m from the place itself.
    near = resident_at(*STAFFORD)
    two_places = resident_at(*offset(*STAFFORD, north_m=-900))
    two_places.places.append(Place("Work", snap(*offset(*STAFFORD, east_m=-250), 10)))
    middle = resident_at(*offset(*STAFFORD, north_m=550))
    far = resident_at(*offset(*STAFFORD, north_m=850))
    elsewhere = resident_at(*offset(*STAFFORD, north_m=2500))
    await add_residents(uow_factory, far, middle, near, two_places, elsewhere)

    async def nearest_first(area: CircleArea) -> list[int]:
        ranked = RecipientCriteria(
            cover_area(area, 10),
            topics=("burglary",),
            sectors=(),
            audience=Audience.BOTH,
            testers_only=False,
            at=AT,
            nearness=nearness(area, 10),
        )
        async with engine.begin() as conn:
            expected = {row.id for row in (await conn.execute(rule(ranked))).all()}
            outbox = SqlOutbox(conn, utc_now)
            message_id = await outbox.new_message(MessageKind.ALERT)
            await outbox.queue_for_recipients(message_id, ranked, AT, priority=Priority.ROUTINE)
            rows = (
                (
                    await conn.execute(
                        sa.select(deliveries.c.resident_id)
                        .where(deliveries.c.message_id == message_id)
                        .order_by(deliveries.c.turn)
                    )
                )
                .scalars()
                .all()
            )
        assert set(rows) == expected
        return list(rows)

    assert await nearest_first(CircleArea(*STAFFORD, 1000)) == [near.id, two_places.id, middle.id, far.id]
    # The same shape of alert 2.5 km north: only ``elsewhere``, so the first area's values were not kept.
    assert await nearest_first(CircleArea(*offset(*STAFFORD, north_m=2500), 400)) == [elsewhere.id]


async def test_inactive_paused_erased_and_testers(engine, uow_factory):
    plain = resident_at(*STAFFORD)
    tester = resident_at(*STAFFORD, is_tester=True)
    paused = resident_at(*STAFFORD, paused_until=AT + timedelta(hours=1))
    pause_over = resident_at(*STAFFORD, paused_until=AT - timedelta(minutes=1))
    pause_ends_now = resident_at(*STAFFORD, paused_until=AT)
    inactive = resident_at(*STAFFORD, active=False)
    erased = resident_at(*STAFFORD, erased_at=AT - timedelta(days=1))
    await add_residents(uow_factory, plain, tester, paused, pause_over, pause_ends_now, inactive, erased)

    assert who(await matched(engine, criteria())) == ids(plain, tester, pause_over, pause_ends_now)
    assert who(await matched(engine, criteria(testers_only=True))) == ids(tester)


async def test_changes_to_a_resident_are_followed_at_once(engine, uow_factory):
    """Every way a resident changes — repository saves, raw updates, erasure — reaches the index in the same transaction."""
    mover = resident_at(*STAFFORD)
    switcher = resident_at(*STAFFORD, topics=frozenset({"horse"}))
    pauser = resident_at(*STAFFORD)
    bouncer = resident_at(*STAFFORD, channel=Channel.WHATSAPP)
    leaver = resident_at(*STAFFORD)
    await add_residents(uow_factory, mover, switcher, pauser, bouncer, leaver)
    assert who(await matched(engine, criteria())) == ids(mover, pauser, bouncer, leaver)

    mover.places = [Place("Home", snap(*offset(*STAFFORD, north_m=5000), 10))]
    switcher.topics = frozenset({"burglary"})
    pauser.paused_until = AT + timedelta(days=1)
    async with uow_factory() as uow:
        await uow.residents.save(mover)
        await uow.residents.save(switcher)
        await uow.residents.save_flags(pauser)
        await uow.commit()
    async with engine.begin() as conn:
        # Written directly, as the delivery worker and the bounce counter do.
        await conn.execute(sa.update(residents).where(residents.c.id == bouncer.id).values(active=False))
        await conn.execute(
            sa.update(residents).where(residents.c.id == leaver.id).values(address="telegram:777", channel="telegram")
        )
    assert who(await matched(engine, criteria())) == ids(switcher, leaver)
    async with engine.connect() as conn:
        address = (
            await conn.execute(sa.select(reachable_places.c.address).where(reachable_places.c.resident_id == leaver.id))
        ).scalar_one()
    assert address == "telegram:777"

    async with uow_factory() as uow:
        await uow.residents.erase(leaver.id)  # type: ignore[arg-type]
        await uow.commit()
    pauser.paused_until = None
    async with uow_factory() as uow:
        await uow.residents.save_flags(pauser)
        await uow.commit()
    assert who(await matched(engine, criteria())) == ids(switcher, pauser)
    async with engine.connect() as conn:
        left = (
            await conn.execute(sa.select(sa.func.count()).where(reachable_places.c.resident_id == leaver.id))
        ).scalar_one()
    assert left == 0


async def test_deleting_a_message_deletes_its_delivery_rows(engine, uow_factory):
    """Delivery rows have no foreign key to their message (it slowed large sends); a trigger cascades the delete."""
    await add_residents(uow_factory, resident_at(*STAFFORD), resident_at(*STAFFORD))
    async with engine.begin() as conn:
        outbox = SqlOutbox(conn, utc_now)
        kept, dropped = await outbox.new_message(MessageKind.ALERT), await outbox.new_message(MessageKind.ALERT)
        for message_id in (kept, dropped):
            assert (
                sum(
                    (
                        await outbox.queue_for_recipients(
                            message_id, criteria(topics=()), AT, priority=Priority.ROUTINE
                        )
                    ).values()
                )
                == 2
            )
    async with engine.begin() as conn:
        await conn.execute(sa.delete(messages).where(messages.c.id == dropped))
    async with engine.connect() as conn:
        left = (
            await conn.execute(sa.select(deliveries.c.message_id, sa.func.count()).group_by(deliveries.c.message_id))
        ).all()
    assert [tuple(row) for row in left] == [(kept, 2)]
