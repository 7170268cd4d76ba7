"""Build an agent from its name and the project's settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ctworkflow import errors
from ctworkflow.agents.base import Agent
from ctworkflow.agents.bench import BENCH_AGENT, BenchNoopAgent
from ctworkflow.agents.command import CommandAgent
from ctworkflow.agents.scaffold import ScaffoldAgent

#: The agents offered to users. ``bench-noop`` (the benchmark's zero-cost agent) is not listed:
#: it runs only when a session names it explicitly, and is never a default.
AGENT_NAMES = ("command", "scaffold")


def _argv_setting(settings: Mapping[str, Any]) -> list[str]:
    """Return settings["agent_argv"], or raise InvalidInput if it is missing or malformed."""
    argv = settings.get("agent_argv")
    if argv is None:
        raise errors.InvalidInput("the command agent needs the setting 'agent_argv'")
    if (
        not isinstance(argv, list | tuple)
        or not argv
        or not all(isinstance(item, str) for item in argv)
    ):
        raise errors.InvalidInput("the setting 'agent_argv' must be a non-empty list of strings")
    return list(argv)


def _timeout_setting(settings: Mapping[str, Any]) -> float | None:
    """Return settings["agent_timeout_s"] if set, or raise InvalidInput if it is malformed."""
    timeout = settings.get("agent_timeout_s")
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise errors.InvalidInput(
            f"the setting 'agent_timeout_s' must be a positive number, not {timeout!r}"
        )
    return float(timeout)


def _env_setting(settings: Mapping[str, Any]) -> list[str]:
    """Return settings["agent_env"] (names of variables passed to the agent), or []."""
    names = settings.get("agent_env") or []
    if not isinstance(names, list | tuple):
        raise errors.InvalidInput("the setting 'agent_env' must be a list of variable names")
    return list(names)


def _network_setting(settings: Mapping[str, Any]) -> bool:
    """Return settings["agent_network"] (whether the agent reaches the network), True if unset."""
    network = settings.get("agent_network", True)
    if not isinstance(network, bool):
        raise errors.InvalidInput("the setting 'agent_network' must be true or false")
    return network


def get_agent(name: str, settings: Mapping[str, Any]) -> Agent:
    """Return the agent called name, configured from settings."""
    if name == "scaffold":
        return ScaffoldAgent()
    if name == "command":
        return CommandAgent(
            _argv_setting(settings),
            timeout_s=_timeout_setting(settings),
            pass_env=_env_setting(settings),
            network=_network_setting(settings),
        )
    if name == BENCH_AGENT:
        return BenchNoopAgent()
    raise errors.InvalidInput(f"unknown agent {name!r}: expected one of {', '.join(AGENT_NAMES)}")
