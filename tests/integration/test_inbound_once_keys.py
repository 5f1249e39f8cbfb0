"""The inbound-once service keeps any id a door hands it, on SQLite and PostgreSQL: a forged id with a NUL byte
(which PostgreSQL's text refuses) or longer than the log's column is still handled exactly once."""

from __future__ import annotations

import pytest

from core.services.inbound_once import ALREADY_HANDLED, MAX_KEY, InboundOnce, stored_key

ODD_KEYS = ["command:\x00trigger", "event:" + "x" * 300, "view_submission:U1:\ud800", "wamid.é"]


@pytest.mark.parametrize("key", ODD_KEYS, ids=["nul", "long", "lone-surrogate", "non-ascii"])
async def test_an_odd_id_is_handled_once(uow_factory, clock, key: str) -> None:
    inbound = InboundOnce(uow_factory, clock=clock)
    runs: list[str] = []

    async def work() -> str:
        runs.append(key)
        return "done"

    assert await inbound.handle("slack", key, work) == "done"
    assert await inbound.handle("slack", key, work) is ALREADY_HANDLED
    assert runs == [key]


async def test_an_odd_id_that_failed_is_forgotten_for_its_retry(uow_factory, clock) -> None:
    inbound = InboundOnce(uow_factory, clock=clock)
    assert await inbound.claim("whatsapp", "wamid.\x00") is True
    assert await inbound.forget("whatsapp", "wamid.\x00") is True
    assert await inbound.claim("whatsapp", "wamid.\x00") is True


def test_genuine_ids_are_kept_as_they_are_and_odd_ones_by_their_hash() -> None:
    assert (
        stored_key("command:13345224609.738474920.8088930838d88f008e0")
        == "command:13345224609.738474920.8088930838d88f008e0"
    )
    for key in ODD_KEYS:
        kept = stored_key(key)
        assert kept.startswith("sha256:") and len(kept) <= MAX_KEY and kept.isprintable()
    assert stored_key("event:\x00a") != stored_key("event:\x00b")
