"""Checks a worker makes before it loads any task: it refuses to start on bad settings."""

from __future__ import annotations

from ctworkflow import errors
from ctworkflow.config import Settings, get_settings


def settings_or_exit(role: str) -> Settings:
    """The settings, or exit with one line naming the setting to change (no traceback)."""
    try:
        return get_settings()
    except errors.ConfigurationError as error:
        raise SystemExit(f"ctworkflow {role} worker refuses to start: {error}") from None
