"""Checks a worker makes before it loads any task: it refuses to start on bad settings."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from ctworkflow import errors
from ctworkflow.agents.command import program_problem
from ctworkflow.agents.presets import PRESETS
from ctworkflow.config import Settings, get_settings
from ctworkflow.effects import sandbox, shell

_PROBE_TIMEOUT_S = 30.0


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


def sandbox_problem(settings: Settings) -> str | None:
    """Why the configured sandbox cannot run on this host, in one line; None if it can."""
    if settings.sandbox == sandbox.NONE:
        return None
    config = sandbox.from_settings(settings)
    missing = sandbox.missing_programs(config)
    if missing:
        return sandbox.missing_message(missing[0])
    try:
        with tempfile.TemporaryDirectory(prefix="ctw-sandbox-probe-") as folder:
            probe = shell.run(
                [sys.executable, "-c", ""],
                cwd=Path(folder),
                timeout_s=_PROBE_TIMEOUT_S,
                policy=sandbox.for_tests(Path(folder)),
            )
    except errors.SandboxUnavailable as error:
        return str(error)
    if probe.ok:
        return None
    said = (probe.stderr.strip().splitlines() or [f"exit status {probe.returncode}"])[-1]
    return (
        f"CTW_SANDBOX=bubblewrap cannot create its sandbox on this host ({said}): allow user "
        "namespaces (see docs/security.md) or set CTW_SANDBOX=none"
    )
