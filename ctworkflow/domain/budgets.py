"""Spending limits of a project's agents: a session that spent its budget starts no new round.

``budget_per_session_usd`` (project setting): once the agent runs of a session's children
cost that much (as the programs report it), a failed round is the last one.
``budget_per_component_usd`` limits one agent run where the program can enforce it (Claude
Code's ``--max-budget-usd``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Final

from ctworkflow import errors
from ctworkflow.domain.agent_usage import Usage
from ctworkflow.domain.model import Outcome
from ctworkflow.domain.states import ResultStatus

SESSION_BUDGET: Final = "budget_per_session_usd"
COMPONENT_BUDGET: Final = "budget_per_component_usd"


def budget(settings: Mapping[str, Any], name: str) -> float | None:
    """The budget setting ``name`` in US dollars, None if unset; InvalidInput if malformed."""
    value = settings.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise errors.InvalidInput(f"the setting {name!r} must be a positive number of dollars")
    return float(value)


def check_settings(settings: Mapping[str, Any]) -> None:
    """Raise InvalidInput if a budget setting is malformed."""
    budget(settings, SESSION_BUDGET)
    budget(settings, COMPONENT_BUDGET)


def session_over_budget(spent: Usage, settings: Mapping[str, Any]) -> str | None:
    """Why the session starts no new round (one line), or None if its budget allows one."""
    limit = budget(settings, SESSION_BUDGET)
    if limit is None or spent.cost_usd is None or spent.cost_usd < limit:
        return None
    return (
        f"budget spent: the agents cost ${spent.cost_usd:.4f} of ${limit:.4f} "
        f"({SESSION_BUDGET}), so no new round starts"
    )


def verdict_within_budget(
    outcome: Outcome, give_up: bool, over: str | None
) -> tuple[Outcome, bool]:
    """A round's verdict once the budget counts: a failed round of a session ``over`` its
    budget (why, or None) is its last, and its error says so first."""
    if over is None or outcome.status is not ResultStatus.ERROR:
        return outcome, give_up
    return dataclasses.replace(outcome, error_message=f"{over}; {outcome.error_message}"), True
