"""The pynguin agent on real code: Pynguin from the package index, in its own tool environment,
run in the sandbox against each component of a real package whose own tests were removed.

The package (humanize 4.9.0, :data:`tests.real_packages.HUMANIZE`) is fetched at test time and
published as its authors' repository would be. A session with the agent completes, and the
branch's test files assert, for every component, what a call into its module returned.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from ctworkflow import api
from ctworkflow.agents.base import AgentRequest
from ctworkflow.agents.pynguin import PynguinAgent
from ctworkflow.config import get_settings
from ctworkflow.domain.repository.layouts import Layout
from ctworkflow.domain.states import SessionStatus
from tests.real_packages import HUMANIZE, git, register, without_tests
from tests.workflow_support import wait_until_terminal

# Real third-party code or real agent programs: minutes, in the slow tier (make test-slow), with
# a deadline of its own that a loaded machine (the other tier worker busy) still meets.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]

SEARCH_TIME_S = 20
SESSION_DEADLINE_S = 600


def imported_module(function: ast.FunctionDef) -> str | None:
    """The module a generated test imports first (``import humanize.number as number_``)."""
    for node in function.body:
        if isinstance(node, ast.Import) and node.names[0].name.startswith(HUMANIZE.name):
            return node.names[0].name
    return None


def asserts_a_returned_value(function: ast.FunctionDef) -> bool:
    """Whether the test asserts ``var == <literal>`` of a ``var`` a call returned."""
    returned = {
        node.targets[0].id
        for node in function.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Call)
        and isinstance(node.targets[0], ast.Name)
    }
    for node in function.body:
        if not isinstance(node, ast.Assert) or not isinstance(node.test, ast.Compare):
            continue
        compare = node.test
        if (
            isinstance(compare.left, ast.Name)
            and compare.left.id in returned
            and isinstance(compare.ops[0], ast.Eq)
            and isinstance(compare.comparators[0], ast.Constant)
        ):
            return True
    return False


def test_a_pynguin_session_on_a_real_package_without_tests_asserts_what_each_module_returns(
    workflow_db: str, tmp_path: Path
) -> None:
    upstream = without_tests(HUMANIZE, tmp_path / "humanize")
    scope = register(
        upstream, "python", (("agent", "pynguin"), ("pynguin_search_time_s", SEARCH_TIME_S))
    )
    api.discover_components(scope)

    session = wait_until_terminal(
        scope, api.start_context_testing(scope, HUMANIZE.context).id, timeout_s=SESSION_DEADLINE_S
    )

    assert session.status is SessionStatus.COMPLETE, session.error
    assert session.branch_name is not None
    branch = tmp_path / "branch"
    git(
        "clone",
        "--quiet",
        "--branch",
        session.branch_name,
        str(upstream.remote),
        str(branch),
        cwd=tmp_path,
    )
    changed = git("diff", "--name-only", "origin/main", "HEAD", cwd=branch).splitlines()
    asserted: dict[str, int] = {}
    for path in changed:
        tree = ast.parse((branch / path).read_text(encoding="utf-8"))
        for function in tree.body:
            if isinstance(function, ast.FunctionDef) and asserts_a_returned_value(function):
                module = imported_module(function)
                if module is not None:
                    asserted[module] = asserted.get(module, 0) + 1
    # Every component's tests assert what its functions return, value for value.
    assert sorted(asserted) == sorted(HUMANIZE.components), (asserted, changed)


def test_a_module_with_nothing_to_call_falls_back_to_the_scaffold_and_says_why(
    tmp_path: Path,
) -> None:
    workspace = tmp_path / "work"
    (workspace / "pkg").mkdir(parents=True)
    (workspace / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    (workspace / "pkg" / "limits.py").write_text("LIMIT = 3\nNAMES = ('a', 'b')\n")

    result = PynguinAgent(search_time_s=2).write_tests(
        AgentRequest(
            workspace=workspace,
            component_name="pkg.limits",
            module_name="pkg.limits",
            source_path="pkg/limits.py",
            test_path="tests/test_limits.py",
            layout=Layout.PYTHON,
        )
    )

    assert result.ok, result.error
    assert result.stdout_tail.startswith("pynguin produced no usable test: "), result.stdout_tail
    assert "nothing we can test" in result.stdout_tail
    assert "fell back to the scaffold" in result.stdout_tail
    written = (workspace / "tests" / "test_limits.py").read_text(encoding="utf-8")
    assert "MODULE_NAME = 'pkg.limits'" in written  # the scaffold's smoke tests


SHAPES = """\
def double(n):
    return n * 2


def describe(n):
    if n < 0:
        return "negative"
    if n == 0:
        return "zero"
    return "positive"
"""


def test_a_round_that_names_uncovered_lines_adds_tests_aimed_at_them_and_keeps_the_others(
    tmp_path: Path,
) -> None:
    workspace = tmp_path / "work"
    (workspace / "pkg").mkdir(parents=True)
    (workspace / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    (workspace / "pkg" / "shapes.py").write_text(SHAPES, encoding="utf-8")
    agent = PynguinAgent(search_time_s=3)
    request = AgentRequest(
        workspace=workspace,
        component_name="pkg.shapes",
        module_name="pkg.shapes",
        source_path="pkg/shapes.py",
        test_path="tests/test_shapes.py",
        layout=Layout.PYTHON,
    )
    test_file = workspace / "tests" / "test_shapes.py"
    first = agent.write_tests(request)
    assert first.ok and first.stdout_tail.startswith("added "), first.stdout_tail
    first_round = test_file.read_text(encoding="utf-8")

    second = agent.write_tests(dataclasses.replace(request, uncovered=((5, 10),)))

    assert second.ok, second.error
    assert "aimed at lines 5-10" in second.stdout_tail
    assert "--only-cover-line-ranges" in (second.argv or ())
    after = test_file.read_text(encoding="utf-8")
    assert after.startswith(first_round.rstrip())  # the first round's tests stay as they were
    added = ast.parse(after[len(first_round.rstrip()) :])
    new_tests = [f for f in added.body if isinstance(f, ast.FunctionDef)]
    assert new_tests, after
    assert any(
        isinstance(node, ast.Attribute) and node.attr == "describe"
        for function in new_tests
        for node in ast.walk(function)
    )


def test_a_pynguin_that_cannot_be_installed_falls_back_to_the_scaffold_and_says_why(
    tmp_path: Path,
) -> None:
    workspace = tmp_path / "work"
    (workspace / "pkg").mkdir(parents=True)
    (workspace / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    (workspace / "pkg" / "shapes.py").write_text(SHAPES, encoding="utf-8")
    agent = PynguinAgent(search_time_s=2, requirement="pynguin==0.0.0")  # no such release

    result = agent.write_tests(
        AgentRequest(
            workspace=workspace,
            component_name="pkg.shapes",
            module_name="pkg.shapes",
            source_path="pkg/shapes.py",
            test_path="tests/test_shapes.py",
            layout=Layout.PYTHON,
        )
    )

    assert result.ok, result.error
    first = result.stdout_tail.splitlines()[0]
    assert first.startswith("pynguin produced no usable test: Pynguin cannot be installed: ")
    assert "0.0.0" in first and first.endswith("; fell back to the scaffold"), first
    written = (workspace / "tests" / "test_shapes.py").read_text(encoding="utf-8")
    assert "MODULE_NAME = 'pkg.shapes'" in written
    # Nothing half-built is left for the next run to take for a tool environment.
    tools = get_settings().environments / "tools"
    assert not [p for p in tools.iterdir() if p.is_dir()], list(tools.iterdir())
