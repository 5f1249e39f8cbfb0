"""deploy/.env.example is generated from the settings class and stays in step with it.

A setting added to core/settings.py without a row in docs/operations.md's settings
table, or without running ``python -m deploy.env_example`` again, fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import Field

from core.settings import Settings
from deploy.env_example import ENV_EXAMPLE, OPERATIONS, UndescribedSetting, render, variable_of

PAGE = OPERATIONS.read_text(encoding="utf-8")
SETTING_LINE = re.compile(r"^# ([A-Z][A-Z0-9_]+=.+)$")  # a default written out (unset ones end in "=")
TABLE_ROW = "| `LOOKOUT_WORKER_LEASE_SECONDS` |"


class WithANewSetting(Settings):
    reticulation_splines: int = Field(7, validation_alias="LOOKOUT_RETICULATION_SPLINES")


def test_the_committed_file_is_what_the_settings_class_generates() -> None:
    assert ENV_EXAMPLE.read_text(encoding="utf-8") == render(), (
        "deploy/.env.example is out of step with core/settings.py or docs/operations.md: run `python -m deploy.env_example`"
    )


def test_every_setting_is_in_it_with_its_default() -> None:
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    for name, field in Settings.model_fields.items():
        assert f"\n# {variable_of(name, field)}=" in text, name
    assert "\n# LOOKOUT_DATABASE_URL=sqlite:///var/lookout.db\n" in text
    assert '\n# LOOKOUT_EMAIL_FROM="Lookout alerts <alerts@lookout.invalid>"\n' in text
    assert "\n# TELEGRAM_PAID_BROADCAST=false\n" in text
    assert "# TELEGRAM_BOT_TOKEN (secret): From @BotFather; turns Telegram on.\n" in text


def test_a_setting_added_without_a_meaning_in_the_docs_is_refused() -> None:
    with pytest.raises(UndescribedSetting, match="LOOKOUT_RETICULATION_SPLINES"):
        render(WithANewSetting, PAGE)


def test_a_setting_added_with_its_row_changes_the_file() -> None:
    row = "| `LOOKOUT_RETICULATION_SPLINES` | `7` | How many splines to reticulate. |\n"
    page = PAGE.replace(TABLE_ROW, row + TABLE_ROW, 1)
    text = render(WithANewSetting, page)
    assert "# LOOKOUT_RETICULATION_SPLINES: How many splines to reticulate.\n# LOOKOUT_RETICULATION_SPLINES=7\n" in text
    assert text != ENV_EXAMPLE.read_text(encoding="utf-8")  # so the first test fails until it is regenerated


def test_uncommented_it_gives_the_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every default written in the file reads back as that default (quoting, booleans, numbers)."""
    for name, field in Settings.model_fields.items():
        monkeypatch.delenv(variable_of(name, field), raising=False)
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    values = [match[1] for line in lines if (match := SETTING_LINE.match(line))]
    assert len(values) > 20
    env_file = tmp_path / ".env"
    env_file.write_text("\n".join(values) + "\n", encoding="utf-8")
    assert Settings(_env_file=env_file).model_dump() == Settings(_env_file=None).model_dump()
