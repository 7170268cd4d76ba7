"""Whether the configured sandbox can run on this host: a worker's start-up check, and the
demo's choice to run its own sample without one."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from ctworkflow import errors
from ctworkflow.config import Settings
from ctworkflow.effects import sandbox, shell

_PROBE_TIMEOUT_S = 30.0


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
            # A run with the network starts the relay to its proxy first (sandbox_network).
            networked = shell.run(
                [sys.executable, "-c", ""],
                cwd=Path(folder),
                timeout_s=_PROBE_TIMEOUT_S,
                policy=sandbox.for_agent(Path(folder), network=True),
            )
    except errors.SandboxUnavailable as error:
        return str(error)
    if not probe.ok:
        return (
            f"CTW_SANDBOX=bubblewrap cannot create its sandbox on this host ({_said(probe)}): "
            "allow user namespaces (see docs/security.md) or set CTW_SANDBOX=none"
        )
    if not networked.ok:
        return (
            "CTW_SANDBOX=bubblewrap cannot give a run its network proxy on this host "
            f"({_said(networked)}): see docs/security.md, 'The network of a run'"
        )
    return None


def _said(result: shell.CommandResult) -> str:
    return (result.stderr.strip().splitlines() or [f"exit status {result.returncode}"])[-1]
