"""Checks a worker makes before it loads any task: it refuses to start on bad settings."""

from __future__ import annotations

from ctworkflow import errors
from ctworkflow.config import Settings, get_settings
from ctworkflow.effects.sandbox_probe import sandbox_problem


def settings_or_exit(role: str) -> Settings:
    """The settings, or exit with one line naming the setting to change (no traceback).

    The sandbox is checked too: with ``CTW_SANDBOX=bubblewrap`` (the default) a worker whose
    host lacks ``bwrap``, or cannot create its namespaces, refuses to start.
    """
    try:
        settings = get_settings()
    except errors.ConfigurationError as error:
        raise SystemExit(f"ctworkflow {role} worker refuses to start: {error}") from None
    problem = sandbox_problem(settings)
    if problem is not None:
        raise SystemExit(f"ctworkflow {role} worker refuses to start: {problem}")
    return settings
