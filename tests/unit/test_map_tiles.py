"""The map tile setting as an operator types it, the tile client against the tile stand-in, and the shared cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from bots.map_tiles.cache import MAX_AGE_SECONDS, TileCache
from bots.map_tiles.client import TileClient, TileError, Window, user_agent
from core.settings import Settings
from sandbox.tiles import ATTRIBUTION, TileStandIn
from tests.support.processes import lookout_env, run_lookout

TEMPLATE = "https://tiles.force.example/{z}/{x}/{y}.png"


def test_tiles_are_off_until_a_force_names_its_tile_server(monkeypatch):
    monkeypatch.delenv("LOOKOUT_MAP_TILES", raising=False)
    assert Settings(_env_file=None).map_tiles is None
    assert Settings(_env_file=None, LOOKOUT_MAP_TILES=" ").map_tiles is None
    on = Settings(
        _env_file=None, LOOKOUT_MAP_TILES=TEMPLATE, LOOKOUT_MAP_TILES_ATTRIBUTION="© OpenStreetMap contributors"
    )
    assert on.map_tiles == TEMPLATE and on.map_tiles_attribution == "© OpenStreetMap contributors"


@pytest.mark.parametrize(
    ("template", "said"),
    [
        ("tiles.example/{z}/{x}/{y}.png", "must be an http:// or https:// URL"),
        ("ftp://tiles.example/{z}/{x}/{y}.png", "must be an http:// or https:// URL"),
        ("https://tiles.example/{z}/{x}.png", "must hold {y} exactly once"),
        ("https://tiles.example/{z}/{x}/{y}/{y}.png", "must hold {y} exactly once"),
        ("https://{s}.tiles.example/{z}/{x}/{y}.png", "must be an http:// or https:// URL"),
        ("https://tiles.example/{s}/{z}/{x}/{y}.png", "may hold only {z}, {x} and {y} (not {s})"),
        ("https://tiles.example/{z/{x}/{y}.png", "unmatched { or }"),
    ],
)
def test_a_bad_tile_template_is_refused_saying_what_is_wrong(template, said):
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, LOOKOUT_MAP_TILES=template, LOOKOUT_MAP_TILES_ATTRIBUTION="x")
    assert "LOOKOUT_MAP_TILES" in str(refused.value) and said in str(refused.value)


def test_tiles_without_their_attribution_are_refused():
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, LOOKOUT_MAP_TILES=TEMPLATE)
    assert "LOOKOUT_MAP_TILES_ATTRIBUTION" in str(refused.value)


def test_lookout_does_not_start_with_a_bad_tile_template(tmp_path):
    done = run_lookout(
        ["serve"],
        lookout_env(
            f"sqlite:///{tmp_path}/x.db",
            LOOKOUT_MAP_TILES="https://tiles.example/{z}/{x}.png",
            LOOKOUT_MAP_TILES_ATTRIBUTION="x",
        ),
    )
    assert done.returncode == 2
    assert "Configuration error" in done.stderr and "LOOKOUT_MAP_TILES must hold {y} exactly once" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_user_agent_names_lookout_and_the_force():
    assert user_agent("Mercia Vale Police", "https://alerts.mercia-vale.example").startswith("Lookout/")
    assert "(Mercia Vale Police; https://alerts.mercia-vale.example)" in user_agent(
        "Mercia Vale Police", "https://alerts.mercia-vale.example"
    )


def test_a_window_needs_the_tiles_it_touches_and_none_past_the_poles():
    assert Window(2, 250, 0, 20, 10).tiles() == [(0, 0), (1, 0)]
    assert Window(1, 0, 400, 256, 400).tiles() == [(0, 1)]


async def test_a_slow_tile_server_is_a_tile_error_after_the_timeout(tmp_path):
    with TileStandIn() as tiles:
        tiles.app.set(latency_seconds=1.0)
        client = TileClient(
            tiles.template,
            attribution=ATTRIBUTION,
            user_agent="Lookout/test",
            cache=TileCache(tmp_path, tiles.template, max_bytes=10**6),
            timeout=0.2,
        )
        try:
            with pytest.raises(TileError, match=r"did not answer within 0\.2 s"):
                await client.tile(15, 16191, 10782)
        finally:
            await client.aclose()


def test_the_cache_keeps_fresh_tiles_and_forgets_stale_ones(tmp_path):
    now = [1_000_000.0]
    cache = TileCache(tmp_path, TEMPLATE, max_bytes=10**6, clock=lambda: now[0])
    cache.put(15, 1, 2, b"tile")
    os.utime(cache.path(15, 1, 2), (now[0], now[0]))
    assert cache.get(15, 1, 2) == b"tile" and cache.get(15, 1, 3) is None
    now[0] += MAX_AGE_SECONDS + 1
    assert cache.get(15, 1, 2) is None
    other = TileCache(tmp_path, "https://other.example/{z}/{x}/{y}.png", max_bytes=10**6)
    assert other.get(15, 1, 2) is None  # another server's tiles are its own


def test_the_cache_stays_within_its_budget_dropping_the_oldest_first(tmp_path):
    cache = TileCache(tmp_path, TEMPLATE, max_bytes=10_000)
    for n in range(30):
        cache.put(15, n, 0, bytes(1000))
        os.utime(cache.path(15, n, 0), (1_000_000 + n, 1_000_000 + n))
    kept = sorted(int(Path(p).parent.name) for p in tmp_path.rglob("*.tile"))
    assert sum(p.stat().st_size for p in tmp_path.rglob("*.tile")) <= 10_000
    assert kept and kept[-1] == 29 and 0 not in kept
    assert not list(tmp_path.rglob(".part-*"))


async def test_a_cache_that_cannot_be_written_costs_the_cache_not_the_tile(tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache's folder should be")
    with TileStandIn() as tiles:
        client = TileClient(
            tiles.template,
            attribution=ATTRIBUTION,
            user_agent="Lookout/test",
            cache=TileCache(blocked, tiles.template, max_bytes=10**6),
        )
        try:
            content = await client.tile(15, 16191, 10782)
        finally:
            await client.aclose()
    assert content.startswith(b"\x89PNG")
