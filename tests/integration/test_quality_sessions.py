"""Test quality through whole sessions: each component's coverage and mutation score measured
at the base and after, a coverage bar that sends a component back with its uncovered lines,
and the figures in ``ctw session show``. A real worker, PostgreSQL, Redis, git, the sandbox,
the environment built from the package index, and the test agent program
``tests/agents/fake_agent.py``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from ctworkflow import api
from ctworkflow.domain.states import ChildStep, ResultStatus, SessionStatus
from ctworkflow.persistence.db import unit_of_work
from ctworkflow.persistence.metrics_store import MetricsStore
from ctworkflow.services.summary import SessionSummary
from tests import servers
from tests.cli_support import ctw, ok, server_env
from tests.integration.test_existing_tests_sessions import child_history, with_existing_tests
from tests.workflow_support import make_project, wait_until_terminal

#: A module whose ``discount`` the plain good test never runs.
PRICES = '''"""Prices of the shop."""


def double_prices(value: int) -> int:
    """Double a price."""
    return value * 2


def discount(total: int) -> int:
    """A total over 100 gets 10 off."""
    if total > 100:
        return total - 10
    return total
'''


def test_a_component_below_the_coverage_bar_is_told_its_uncovered_lines_and_covers_them(
    workflow_db: str, redis_server: servers.RedisServer, tmp_path: Path
) -> None:
    project = make_project(
        tmp_path / "shop",
        modules=("user", "prices"),
        sources={"prices": PRICES},
        settings={"min_coverage": 75, "max_mutants": 5},
        quality_checks=True,
    )
    user, prices = (c.module_name for c in project.components)
    with_existing_tests(project, [user])
    project.plan({user: ["append"], prices: ["good", "cover"]})

    session = wait_until_terminal(project.scope, project.start().id, timeout_s=300)

    assert session.status is SessionStatus.COMPLETE, session.error
    # prices: its first tests passed but covered too little; the fix round covered the rest.
    history = child_history(project, session.id, prices)
    assert [(i.step, i.outcome.status if i.outcome else None) for i in history] == [
        (ChildStep.INITIALIZE, ResultStatus.OK),
        (ChildStep.GENERATE_TESTS, ResultStatus.OK),
        (ChildStep.RUN_TESTS, ResultStatus.ERROR),
        (ChildStep.FIX_FAILURES, ResultStatus.OK),
        (ChildStep.RUN_TESTS, ResultStatus.OK),
        (ChildStep.FINALIZE, ResultStatus.OK),
    ]
    below, covered = (i.outcome for i in history if i.step == ChildStep.RUN_TESTS)
    assert below is not None and covered is not None
    assert "below the project's min_coverage of 75 %" in (below.error_message or "")
    # Each run records its figures and what changed since the one before.
    first = below.data["quality_progress"]["coverage"]["now"]
    assert first < 75
    assert covered.data["quality_progress"]["coverage"] == {"before": first, "now": 100.0}
    # The second call's prompt named the lines, with the source around them.
    calls = [c for c in project.agent_calls() if c["module"] == prices]
    assert [c["behaviour"] for c in calls] == ["good", "cover"]
    prompt = calls[1]["prompt"]
    assert "Lines of shop/accounts/prices.py no test runs (11-13)" in prompt
    assert ">   12 |         return total - 10" in prompt
    assert "no test runs" not in calls[0]["prompt"]

    # ctw session show: every component's coverage and mutation score, base and after.
    env = server_env(
        tmp_path,
        workflow_db,
        redis_server.url(0),
        redis_server.url(1),
        CTW_ACCOUNT=str(project.scope.account_id),
        CTW_PROJECT=str(project.scope.project_id),
    )
    shown = ok(ctw("session", "show", str(session.id), "--json", env=env)).json()
    figures = {c["component"]["module_name"]: c["quality"] for c in shown["children"]}
    assert figures[prices]["coverage"] == {"base": None, "after": 100.0}
    assert figures[prices]["mutation"]["base"] is None
    assert figures[prices]["mutation"]["after"] is not None
    assert figures[prices]["uncovered"] == ""
    # user had the project's own tests at the base: measured there, and after the change.
    assert figures[user]["coverage"]["base"] is not None
    assert figures[user]["coverage"]["after"] >= figures[user]["coverage"]["base"]
    assert figures[user]["mutation"]["base"] is not None
    assert figures[user]["mutation"]["after"] is not None
    (child,) = [c for c in shown["children"] if c["component"]["module_name"] == prices]
    document = child["artifact"]["report"]["quality"]
    assert document["after"]["coverage"]["line_percent"] == 100.0
    assert document["after"]["mutation"]["mutants"] <= 5
    table = ok(ctw("session", "show", str(session.id), env=env)).stdout
    assert "cov %" in table and "mut %" in table

    # The summary (API, webhooks, status task) has the medians; /metrics reads each figure.
    summary = SessionSummary.of(api.session_details(project.scope, session.id), datetime.now(UTC))
    afters = sorted([figures[user]["coverage"]["after"], 100.0])
    assert summary.quality.measured == 2
    assert summary.quality.coverage.after == round(sum(afters) / 2, 1)
    assert summary.quality.coverage.base == figures[user]["coverage"]["base"]
    with unit_of_work() as uow:
        assert sorted(MetricsStore(uow.db).quality()["coverage"]) == afters
