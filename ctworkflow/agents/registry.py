"""Build an agent from its name and the project's settings.

The registry holds the production agents. A process may add its own with
:func:`register_agent` (the benchmark's worker adds a zero-cost double); no other process knows
them, so a project setting or a session can never name one there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ctworkflow import errors
from ctworkflow.agents.base import Agent
from ctworkflow.agents.command import CommandAgent
from ctworkflow.agents.presets import PRESETS, Preset, preset_settings
from ctworkflow.agents.pynguin import PynguinAgent, search_time_setting
from ctworkflow.agents.scaffold import ScaffoldAgent
from ctworkflow.domain import network
from ctworkflow.domain.inputs import preview

AgentFactory = Callable[[Mapping[str, Any]], Agent]


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


def _command_agent(settings: Mapping[str, Any]) -> Agent:
    return CommandAgent(
        _argv_setting(settings),
        timeout_s=_timeout_setting(settings),
        pass_env=_env_setting(settings),
        network=_network_setting(settings),
        network_allow=network.check_allow_list(settings.get(network.SETTING) or []),
    )


def _preset_agent(preset: Preset) -> AgentFactory:
    """The factory of a preset: the command agent running the preset's program."""

    def build(settings: Mapping[str, Any]) -> Agent:
        chosen = preset_settings(settings)
        argv = [chosen.program or preset.program, *preset.arguments(chosen)]
        return CommandAgent(
            argv,
            timeout_s=_timeout_setting(settings),
            pass_env=[*preset.pass_env, *_env_setting(settings)],
            network=_network_setting(settings),
            network_allow=network.check_allow_list(settings.get(network.SETTING) or []),
            preset=preset,
            base_url=chosen.base_url,
        )

    return build


_FACTORIES: dict[str, AgentFactory] = {
    "command": _command_agent,
    "pynguin": lambda settings: PynguinAgent(search_time_s=search_time_setting(settings)),
    "scaffold": lambda settings: ScaffoldAgent(),
    **{name: _preset_agent(preset) for name, preset in PRESETS.items()},
}


#: The agents every process has.
_PRODUCTION = frozenset(_FACTORIES)


def register_agent(name: str, factory: AgentFactory) -> None:
    """Make ``name`` an agent of this process (test and benchmark doubles only)."""
    _FACTORIES[name] = factory


def unregister_agent(name: str) -> None:
    """Forget a agent :func:`register_agent` added; the production ones stay."""
    if name in _PRODUCTION:
        raise ValueError(f"{name} is a production agent")
    _FACTORIES.pop(name, None)


def agent_names() -> tuple[str, ...]:
    """The agents this process can build, sorted."""
    return tuple(sorted(_FACTORIES))


def get_agent(name: str, settings: Mapping[str, Any]) -> Agent:
    """Return the agent called name, configured from settings."""
    factory = _FACTORIES.get(name)
    if factory is None:
        raise errors.InvalidInput(
            f"unknown agent {preview(name)}: expected one of {', '.join(agent_names())}"
        )
    return factory(settings)
