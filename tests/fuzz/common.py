"""What the hostile-input tests share: the budget and arbitrary JSON."""

from __future__ import annotations

import os

import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

# Examples per test kind: short in `make test`, `make fuzz` sets 3,000.
EXAMPLES = int(os.environ.get("LOOKOUT_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Any JSON value, NaN included, nested a few levels deep.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)


async def rows_in(engine: AsyncEngine, table: sa.Table) -> int:
    """How many rows ``table`` holds (nothing may be stored from an unauthenticated request)."""
    async with engine.connect() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()
