"""What the tests a session leaves are worth, measured: the scaffold against ``pynguin`` on a real
package whose own tests were removed first (humanize 4.9.0, fetched at test time).

Both sessions run at once, each on its own copy of the package, and each component's coverage
and mutation score are read back as a user reads them, from ``ctw session show --json``. The
offline generator's median component must exercise more of the code, and kill more mutants, than
the scaffold's smoke tests do. ``AGENT_QUALITY_REPORT=FILE`` keeps the figures (the table in
docs/test-quality.md comes from it).
"""

from __future__ import annotations

import json
import os
import statistics
from pathlib import Path
from typing import Any

import pytest

from ctworkflow import api
from ctworkflow.domain.states import SessionStatus
from tests import servers
from tests.cli_support import ctw, ok, server_env
from tests.real_packages import HUMANIZE, register, without_tests
from tests.workflow_support import wait_until_terminal

# Real third-party code or real agent programs: minutes, in the slow tier (make test-slow), with
# a deadline of its own that a loaded machine (the other tier worker busy) still meets.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]

#: Pynguin's search per module: about what 60 s gives on this package (docs/pynguin.md).
SEARCH_TIME_S = 20
SESSION_DEADLINE_S = 900
AGENTS = ("scaffold", "pynguin")


def figures(shown: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    """Each component's coverage and mutation score after the change, from session show."""
    return {
        child["component"]["module_name"]: {
            "coverage": child["quality"]["coverage"]["after"],
            "mutation": child["quality"]["mutation"]["after"],
        }
        for child in shown["children"]
    }


def median(per_component: dict[str, dict[str, float | None]], figure: str) -> float:
    values = [row[figure] for row in per_component.values()]
    assert all(value is not None for value in values), (figure, per_component)
    return statistics.median(value for value in values if value is not None)


def test_pynguin_tests_exercise_more_and_kill_more_mutants_than_the_scaffolds(
    workflow_db: str, redis_server: servers.RedisServer, tmp_path: Path
) -> None:
    # Given the same real package twice, its tests removed, one project per agent
    sessions = {}
    for agent in AGENTS:
        upstream = without_tests(HUMANIZE, tmp_path / agent)
        scope = register(
            upstream,
            "python",
            (("agent", agent), ("pynguin_search_time_s", SEARCH_TIME_S)),
            quality_checks=True,  # the mutants a measurement runs by default
        )
        api.discover_components(scope)
        sessions[agent] = (scope, api.start_context_testing(scope, HUMANIZE.context).id)

    # When both sessions run to their end
    shown = {}
    for agent, (scope, session_id) in sessions.items():
        session = wait_until_terminal(scope, session_id, timeout_s=SESSION_DEADLINE_S)
        assert session.status is SessionStatus.COMPLETE, (agent, session.error)
        env = server_env(
            tmp_path / agent,
            workflow_db,
            redis_server.url(0),
            redis_server.url(1),
            CTW_ACCOUNT=str(scope.account_id),
            CTW_PROJECT=str(scope.project_id),
        )
        shown[agent] = figures(
            ok(ctw("session", "show", str(session_id), "--json", env=env)).json()
        )

    # Then every component of both has its figures, and pynguin's median beats the scaffold's
    for agent in AGENTS:
        assert sorted(shown[agent]) == sorted(HUMANIZE.components), shown[agent]
    medians = {
        agent: {figure: median(shown[agent], figure) for figure in ("coverage", "mutation")}
        for agent in AGENTS
    }
    report = os.environ.get("AGENT_QUALITY_REPORT")
    if report:
        Path(report).write_text(json.dumps({"components": shown, "medians": medians}, indent=2))
    assert medians["pynguin"]["coverage"] > medians["scaffold"]["coverage"], medians
    assert medians["pynguin"]["mutation"] > medians["scaffold"]["mutation"], medians
