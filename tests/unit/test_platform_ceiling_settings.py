"""WHATSAPP_DAILY_LIMIT as an operator types it: a tier, ``unlimited``, or a clear refusal."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from core.model import Channel
from core.settings import Settings
from runtime.app import paces_of


@pytest.mark.parametrize("typed, limit", [(None, 2000), ("250", 250), ("100,000", 100_000), ("Unlimited", None)])
def test_the_daily_limit_is_a_tier_or_unlimited(monkeypatch, typed, limit):
    monkeypatch.delenv("WHATSAPP_DAILY_LIMIT", raising=False)
    settings = Settings(_env_file=None) if typed is None else Settings(_env_file=None, WHATSAPP_DAILY_LIMIT=typed)
    assert settings.whatsapp_daily_limit == limit
    assert paces_of(settings).daily_limits.get(Channel.WHATSAPP) == limit


@pytest.mark.parametrize("typed", ["lots", "0", "-5"])
def test_anything_else_is_refused_saying_what_is_wanted(typed):
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, WHATSAPP_DAILY_LIMIT=typed)
    assert "WHATSAPP_DAILY_LIMIT" in str(refused.value) or "greater than or equal to 1" in str(refused.value)
