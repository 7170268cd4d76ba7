"""Checks a worker makes before it loads any task: it refuses to start on bad settings."""

from __future__ import annotations

import os

from ctworkflow import errors
from ctworkflow.agents.command import program_problem
from ctworkflow.agents.presets import PRESETS
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
    problem = sandbox_problem(settings) or agent_problem(settings)
    if problem is not None:
        raise SystemExit(f"ctworkflow {role} worker refuses to start: {problem}")
    return settings


def agent_problem(settings: Settings) -> str | None:
    """Why the default agent (``CTW_AGENT``), when it is a preset, cannot run here: its
    program is not on the worker's ``PATH``, or is under ``/tmp``, which the sandbox hides.
    (A project naming its own ``agent_program`` is checked when its run starts.)"""
    preset = PRESETS.get(settings.agent)
    if preset is None:
        return None
    problem = program_problem(preset, preset.program, os.environ.get("PATH"))
    return f"CTW_AGENT={settings.agent}: {problem}" if problem is not None else None
