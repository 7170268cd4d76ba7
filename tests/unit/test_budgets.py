"""A project's agent budgets: refused when malformed, and when a session's is spent."""

from __future__ import annotations

import pytest

from ctworkflow import errors
from ctworkflow.agents.registry import get_agent
from ctworkflow.domain import budgets
from ctworkflow.domain.agent_usage import Usage
from ctworkflow.services import catalog


@pytest.mark.parametrize("value", [0, -1, "5", True])
@pytest.mark.parametrize("name", ["budget_per_session_usd", "budget_per_component_usd"])
def test_a_malformed_budget_is_refused_when_the_project_is_created(
    name: str, value: object
) -> None:
    with pytest.raises(errors.InvalidInput) as refused:
        catalog.check_project_settings({name: value})

    assert str(refused.value) == f"the setting {name!r} must be a positive number of dollars"


def test_a_session_over_its_budget_says_so_and_one_under_it_or_unpriced_does_not() -> None:
    settings = {"budget_per_session_usd": 2}

    assert budgets.session_over_budget(Usage(cost_usd=2.5), settings) == (
        "budget spent: the agents cost $2.5000 of $2.0000 (budget_per_session_usd), "
        "so no new round starts"
    )
    assert budgets.session_over_budget(Usage(cost_usd=1.99), settings) is None
    assert budgets.session_over_budget(Usage(input_tokens=10**9), settings) is None
    assert budgets.session_over_budget(Usage(cost_usd=99.0), {}) is None


def test_claude_code_is_given_the_per_component_budget_as_its_own_limit() -> None:
    agent = get_agent("claude-code", {"budget_per_component_usd": 0.5})

    argv = agent.argv_template  # type: ignore[attr-defined]
    assert argv[argv.index("--max-budget-usd") + 1] == "0.5"
