"""Settings read from files in the secrets folder, as Docker mounts ``secrets:``; and the pool
memory limit, from the settings to Celery's."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctworkflow import celery_defaults
from ctworkflow.config import get_settings
from ctworkflow.errors import ConfigurationError


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


@pytest.mark.parametrize(("value", "limit_kib"), [("200", 200 * 1024), ("0", None)])
def test_the_pool_memory_limit_reaches_celery_in_kib_and_0_means_none(
    monkeypatch: pytest.MonkeyPatch, value: str, limit_kib: int | None
) -> None:
    monkeypatch.setenv("CTW_WORKER_MAX_MEMORY_MB", value)
    get_settings.cache_clear()

    limit = celery_defaults.memory_limit_kib(get_settings().worker_max_memory_mb)

    assert limit == limit_kib


def test_a_negative_pool_memory_limit_is_refused_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CTW_WORKER_MAX_MEMORY_MB", "-1")
    get_settings.cache_clear()

    with pytest.raises(ConfigurationError) as raised:
        get_settings()

    assert "CTW_WORKER_MAX_MEMORY_MB must be 0 (no limit) or positive" in str(raised.value)
    assert "\n" not in str(raised.value)
