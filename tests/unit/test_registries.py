"""Only production agents and runners can be named by a project or a session."""

from __future__ import annotations

import pytest

from ctworkflow import errors
from ctworkflow.agents.registry import agent_names, get_agent
from ctworkflow.runners.registry import check_runner, runner_names
from ctworkflow.services import catalog


def test_the_production_registries_hold_the_production_agents_and_runners_only() -> None:
    assert agent_names() == ("aider", "claude-code", "command", "pynguin", "scaffold")
    assert runner_names() == ("mix", "pytest")


@pytest.mark.parametrize("key", ["agent", "runner"])
def test_a_project_setting_naming_the_benchmark_double_is_refused_with_one_line(key: str) -> None:
    with pytest.raises(errors.InvalidInput) as refused:
        catalog.check_project_settings({key: "bench-noop"})
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(f"unknown {key} 'bench-noop': expected one of ")


@pytest.mark.parametrize("value", [None, 3, "", "x" * 500, "pytest\n"])
def test_a_runner_that_is_not_a_name_of_ours_is_refused(value: object) -> None:
    with pytest.raises(errors.InvalidInput, match="unknown runner"):
        check_runner(value)


def test_an_unknown_agent_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(
        errors.InvalidInput, match="expected one of aider, claude-code, command, pynguin, scaffold"
    ):
        get_agent("bench-noop", {})


def test_the_benchmark_double_is_known_only_while_the_benchmark_runs() -> None:
    from tests.benchmarks import noop

    with noop.registered():
        assert "bench-noop" in agent_names() and "bench-noop" in runner_names()
        catalog.check_project_settings({"agent": "bench-noop", "runner": "bench-noop"})
    assert "bench-noop" not in agent_names() and "bench-noop" not in runner_names()


def test_a_production_agent_or_runner_cannot_be_unregistered() -> None:
    from ctworkflow.agents.registry import unregister_agent
    from ctworkflow.runners.registry import unregister_runner

    with pytest.raises(ValueError, match="production agent"):
        unregister_agent("scaffold")
    with pytest.raises(ValueError, match="production runner"):
        unregister_runner("pytest")
    assert agent_names() == (
        "aider",
        "claude-code",
        "command",
        "pynguin",
        "scaffold",
    ) and runner_names() == (
        "mix",
        "pytest",
    )
