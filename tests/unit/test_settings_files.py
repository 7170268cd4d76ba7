"""Settings read from files in the secrets folder, as Docker mounts ``secrets:``."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctworkflow.config import get_settings


def test_a_setting_comes_from_its_file_in_the_secrets_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ctw_database_url").write_text("postgresql://ctw:pw@db:5432/ctw\n")
    monkeypatch.setenv("CTW_SECRETS_DIR", str(tmp_path))
    get_settings.cache_clear()

    assert get_settings().sqlalchemy_url == "postgresql+psycopg://ctw:pw@db:5432/ctw"


def test_an_environment_variable_wins_over_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ctw_broker_url").write_text("redis://from-file:6379/0")
    monkeypatch.setenv("CTW_SECRETS_DIR", str(tmp_path))
    monkeypatch.setenv("CTW_BROKER_URL", "redis://from-env:6379/0")
    get_settings.cache_clear()

    assert get_settings().celery_broker_url == "redis://from-env:6379/0"
