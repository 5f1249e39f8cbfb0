"""Which residents an alert reaches: the recipients query, built once per shape of alert.

Recipient resolution runs inside the database: the area's cover arrives as a
short list of H3 integer ranges, each answered by a range scan of the covering
index on ``reachable_places`` (residents and subscriptions are not visited).

The statement depends only on the alert's *shape* (dialect, audience, how many
topics, whether it names sectors, testers only, everyone, ranked or not).
Everything else — the cover's ranges, the nearest-first ranking table, the
topics, sectors and the time — travels as bound parameters. So each shape is
built and compiled once per process and then reused; building it per alert
cost 2–6 ms of Python, ten times the database's work for a street, and a
ranking table written as literal ``VALUES`` rows made SQLAlchemy compile the
whole statement again on every send. With one statement text per shape,
psycopg also prepares it on the server after a few uses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Integer,
    String,
    and_,
    bindparam,
    column,
    false,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.sql import ColumnElement, CompoundSelect, FromClause, Select

from core.force import ALL_TOPICS
from core.ports import RecipientCriteria
from storage.tables import REACH_TOPIC_SEPARATOR as SEP
from storage.tables import reachable_places

_FAR_METRES = 10_000_000  # a place the ranking table does not know: after every known one
_LIKE_ESCAPE = "/"


@dataclass(frozen=True)
class Shape:
    """What decides the recipients statement's text; every other part of the criteria is a parameter."""

    dialect: str
    topics: int  # topic patterns tested, ``all`` included
    residents: bool  # the audience includes residents (no sector)
    businesses: bool  # ... and businesses
    everyone: bool
    by_sector: bool  # the alert names sectors
    testers_only: bool
    ranked: bool  # a nearest-first ranking table joins the places

    @classmethod
    def of(cls, criteria: RecipientCriteria, dialect: str) -> Shape:
        near = criteria.nearness
        return cls(
            dialect=dialect,
            topics=1 + len(criteria.topics),
            residents=criteria.audience.includes_residents,
            businesses=criteria.audience.includes_businesses,
            everyone=criteria.everyone,
            by_sector=bool(criteria.sectors),
            testers_only=criteria.testers_only,
            ranked=near is not None and bool(near.metres),
        )


def recipients(criteria: RecipientCriteria, dialect: str) -> tuple[Shape, dict[str, Any]]:
    """The shape of the statement ``criteria`` needs (see ``recipients_statement``) and its parameters."""
    shape = Shape.of(criteria, dialect)
    return shape, parameters(criteria, shape)


@lru_cache(maxsize=256)
def recipients_statement(shape: Shape) -> CompoundSelect:
    """``SELECT id, channel, address, metres`` of every resident the criteria match, once each
    (``metres``: from their nearest place in the area, for the nearest-first order).

    Read from ``reachable_places`` alone. A resident with several places in
    the area is one row: the cover is scanned twice, once for residents with
    one place (nine in ten, passed straight through) and once for those with
    several, grouped. Grouping every hit, or materialising the hits once to
    split them, cost more than the second scan.

    Built once per shape: callers wrap it (also once per shape) and execute
    with ``parameters(criteria, shape)``. The objects are shared, so nobody
    may change them.
    """
    cover = _cover(shape.dialect)
    ranks = _ranking(shape)  # one ranking table for both scans
    several = _hits(shape, cover, ranks, several_places=True).subquery("several")
    return union_all(
        _hits(shape, cover, ranks, several_places=False),
        select(several.c.id, several.c.channel, several.c.address, func.min(several.c.metres).label("metres")).group_by(
            several.c.id, several.c.channel, several.c.address
        ),
    )


def parameters(criteria: RecipientCriteria, shape: Shape) -> dict[str, Any]:
    """The values of ``recipients_statement(shape)``'s parameters for ``criteria``."""
    ranges = criteria.cover.ranges
    values: dict[str, Any] = {"at": criteria.at}
    if shape.dialect == "postgresql":
        values |= {"cover_lo": [lo for lo, _ in ranges], "cover_hi": [hi for _, hi in ranges]}
    else:
        values["cover"] = json.dumps(ranges)
    for i, topic in enumerate((ALL_TOPICS, *criteria.topics)):
        values[f"topic_{i}"] = f"%{_like_escaped(f'{SEP}{topic}{SEP}')}%"
    if shape.by_sector:
        values["sectors"] = list(criteria.sectors)
    if shape.ranked:
        near = criteria.nearness
        assert near is not None
        values |= {"near_keep": near.keep, "near_fill": near.fill}
        if shape.dialect == "postgresql":
            values |= {"rank_cells": [cell for cell, _ in near.metres], "rank_metres": [m for _, m in near.metres]}
        else:
            values["nearness"] = json.dumps(near.metres)
    return values


def _like_escaped(text: str) -> str:
    """``text`` matched literally by LIKE … ESCAPE '/' (topic keys hold underscores)."""
    return (
        text.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2).replace("%", f"{_LIKE_ESCAPE}%").replace("_", f"{_LIKE_ESCAPE}_")
    )


def _pairs(dialect: str, name: str, array_names: tuple[str, str], columns: tuple[Any, Any]) -> FromClause:
    """A little two-column table from parameters: on PostgreSQL two arrays unnested side by side,
    on SQLite (no arrays) one JSON text ``[[a, b], …]`` read with ``json_each``."""
    first, second = columns
    if dialect == "postgresql":
        arrays = [bindparam(n, type_=ARRAY(c.type)) for n, c in zip(array_names, columns, strict=True)]
        return func.unnest(*arrays).table_valued(first, second).render_derived(name)
    rows = func.json_each(bindparam(name, type_=String)).table_valued("value")
    return select(
        func.json_extract(rows.c.value, "$[0]").label(first.name),
        func.json_extract(rows.c.value, "$[1]").label(second.name),
    ).cte(name)


def _cover(dialect: str) -> FromClause:
    """The cover's ranges as a little table ``(lo, hi)`` to join the index against.

    Parameters, not one literal per range: the statement's text is the same
    whatever the area (a UNION of one SELECT per range cost ~50 ms of planning
    for a 3 km circle's 265 ranges).
    """
    return _pairs(dialect, "cover", ("cover_lo", "cover_hi"), (column("lo", BigInteger), column("hi", BigInteger)))


def _conditions(shape: Shape) -> list[ColumnElement[bool]]:
    """The alert's filters, on ``reachable_places`` columns (only active, unerased residents have rows there)."""
    rp = reachable_places
    subscribed = or_(*[rp.c.topics.like(bindparam(f"topic_{i}"), escape=_LIKE_ESCAPE) for i in range(shape.topics)])
    audiences = []
    if shape.residents:  # "everyone in the area" reaches residents whatever their topics
        audiences.append(rp.c.sector.is_(None) if shape.everyone else and_(rp.c.sector.is_(None), subscribed))
    if shape.businesses:
        wanted: ColumnElement[bool]
        if shape.by_sector:
            wanted = rp.c.sector.in_(bindparam("sectors", expanding=True, type_=String))
        else:
            wanted = true() if shape.everyone else subscribed
        audiences.append(and_(rp.c.sector.is_not(None), wanted))
    at = bindparam("at", type_=rp.c.paused_until.type)
    conditions = [
        or_(rp.c.paused_until.is_(None), rp.c.paused_until <= at),
        or_(*audiences) if audiences else false(),
    ]
    if shape.testers_only:
        conditions.append(rp.c.is_tester.is_(True))
    return conditions


def _ranking(shape: Shape) -> FromClause | None:
    """The metres from each cell of the cover (at the ranking resolution) to the area, for the
    nearest-first order: a little ``(rank_cell, rank_metres)`` table, or None when not ranking."""
    if not shape.ranked:
        return None
    columns = (column("rank_cell", BigInteger), column("rank_metres", Integer))
    return _pairs(shape.dialect, "nearness", ("rank_cells", "rank_metres"), columns)


def _hits(shape: Shape, cover: FromClause, ranks: FromClause | None, *, several_places: bool) -> Select:
    """``SELECT id, channel, address, metres`` of the matching places in the cover of residents with one place,
    or with several (``metres`` 0 when not ranking).

    One range scan of the covering index per range of the cover. PostgreSQL
    cannot estimate a range whose ends are parameters: it guesses thousands
    of rows per range and, joining freely, picked plans that read the whole
    table (45 s). The LATERAL subquery with ``OFFSET 0`` cannot be flattened,
    so each range is its own index-only range scan, whatever the guess.

    The ranking table is joined once to all the hits, outside the ranges:
    joined inside each range's subquery it was hashed (or scanned) again for
    every range, 265 times for a 3 km circle.
    """
    rp = reachable_places
    # "+ 0" keeps the place count a filter: SQLite otherwise built a throwaway index on it and
    # scanned the whole table (minutes at a million) instead of range-scanning the cells.
    places_count = rp.c.resident_places + 0
    conditions = [places_count > 1 if several_places else places_count == 1, *_conditions(shape)]
    in_range = rp.c.cell.between(cover.c.lo, cover.c.hi)
    place = (rp.c.resident_id.label("id"), rp.c.channel, rp.c.address, rp.c.cell)
    if shape.dialect == "postgresql":
        per_range = select(*place).where(in_range, *conditions).offset(0).lateral("per_range")
        found = select(per_range).select_from(cover.join(per_range, true()))
    else:
        found = select(*place).select_from(cover.join(rp, in_range)).where(*conditions)
    if ranks is None:
        return found.with_only_columns(*found.selected_columns[:3], literal(0).label("metres"))
    # OFFSET 0 again on PostgreSQL: left free, it moved the ranking join into each range's subquery.
    hits = (found.offset(0) if shape.dialect == "postgresql" else found).subquery("hits")
    keep, fill = bindparam("near_keep", type_=BigInteger), bindparam("near_fill", type_=BigInteger)
    metres = func.coalesce(ranks.c.rank_metres, _FAR_METRES)
    return select(hits.c.id, hits.c.channel, hits.c.address, metres.label("metres")).select_from(
        hits.outerjoin(ranks, ranks.c.rank_cell == hits.c.cell.op("&")(keep).op("|")(fill))
    )
