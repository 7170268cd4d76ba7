"""The scaffold never fails a valid module, and never loses a line of an existing test file.

Every test runs the real scaffold and the real pytest runner: the names come from importing the
module in a real interpreter, and the tests it writes really run.
"""

from __future__ import annotations

import ast
import os
import sys
import textwrap
from pathlib import Path

from ctworkflow.agents import introspect
from ctworkflow.agents.base import ExistingTests
from ctworkflow.agents.elixir_scaffold import append_tests as append_elixir_tests
from ctworkflow.agents.scaffold import ScaffoldAgent
from ctworkflow.domain import regression
from ctworkflow.domain.model import TestReport
from ctworkflow.runners.pytest_runner import PytestRunner
from tests.unit.test_scaffold_agent import generated_constants, make_workspace, request_for


def run(workspace: Path, test_path: str) -> TestReport:
    return PytestRunner().run(workspace, [test_path], timeout_s=120)[test_path]


def scaffold_and_run(source: str, tmp_path: Path) -> tuple[dict[str, object], TestReport]:
    workspace = make_workspace(tmp_path, source)
    request = request_for(workspace)
    result = ScaffoldAgent().write_tests(request)
    assert result.ok, result.error
    return generated_constants(workspace / request.test_path), run(workspace, request.test_path)


def test_a_helper_deleted_at_the_end_of_the_module_is_not_asserted(tmp_path: Path) -> None:
    source = '''\
    """Deletes its helper once used."""


    def _make(n):
        return n


    def helper(x):
        return x


    VALUE = helper(3)
    del helper
    '''

    constants, report = scaffold_and_run(source, tmp_path)

    assert constants["PUBLIC_NAMES"] == ("VALUE",)
    assert report.all_passed, report.output_tail


def test_dunder_all_as_the_import_leaves_it_decides_the_names(tmp_path: Path) -> None:
    source = '''\
    """Builds __all__ at import time."""

    def first(): ...
    def second(): ...
    def not_exported(): ...

    __all__ = [name for name in ("first", "second")]
    __all__ += ["VERSION"]
    VERSION = "1.0"
    '''

    constants, report = scaffold_and_run(source, tmp_path)

    assert constants["PUBLIC_NAMES"] == ("VERSION", "first", "second")
    assert report.all_passed, report.output_tail


def test_only_the_branch_of_a_conditional_definition_that_ran_is_asserted(
    tmp_path: Path,
) -> None:
    source = '''\
    """Defines names depending on where it runs."""
    import sys

    if sys.version_info >= (3,):
        def modern(): ...
    else:
        def legacy(): ...

    try:
        import this_module_does_not_exist_anywhere as accelerated
    except ImportError:
        def pure_python(): ...
    '''

    constants, report = scaffold_and_run(source, tmp_path)

    assert constants["PUBLIC_NAMES"] == ("modern", "pure_python")
    assert report.all_passed, report.output_tail


def test_a_module_that_cannot_be_imported_is_reported_with_its_import_error(
    tmp_path: Path,
) -> None:
    workspace = make_workspace(tmp_path, "import freezegun_is_not_installed_here\n\nX = 1\n")

    result = ScaffoldAgent().write_tests(request_for(workspace))

    assert not result.ok
    assert result.permanent  # no round can change the environment's packages
    assert result.error is not None
    assert result.error.startswith("cannot import pkg.mod in the target's environment")
    assert "ModuleNotFoundError: No module named 'freezegun_is_not_installed_here'" in (
        result.error
    )
    assert not (workspace / "tests").exists()


def test_the_target_interpreter_is_the_first_python_on_the_requests_path(tmp_path: Path) -> None:
    bin_dir = tmp_path / "env" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").symlink_to(sys.executable)
    workspace = make_workspace(tmp_path / "ws", "X = 1\n")

    with_env = request_for(workspace, env={"PATH": f"{bin_dir}{os.pathsep}/usr/bin"})
    without = request_for(workspace)

    assert introspect.target_python(with_env) == str(bin_dir / "python")
    assert introspect.target_python(without) == sys.executable
    assert introspect.module_names(with_env, ["X"]).present == ["X"]


EXISTING = '''\
"""The project's own tests of pkg.mod."""

import pytest

from pkg.mod import add


def test_add():
    assert add(1, 2) == 3


@pytest.mark.parametrize("a", [1, 2])
def test_add_zero(a):
    assert add(a, 0) == a


def test_ctw_smoke_module_imports():
    """A name the scaffold would have used: it must pick another."""
'''

SOURCE = '''\
"""A small module."""


def add(a, b):
    """Add.

    >>> add(2, 2)
    4
    """
    return a + b
'''


def test_an_existing_test_file_keeps_every_line_and_gains_the_smoke_tests(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path, SOURCE)
    request = request_for(workspace)
    test_file = workspace / request.test_path
    test_file.parent.mkdir(parents=True)
    test_file.write_text(EXISTING)
    base = run(workspace, request.test_path)
    existing = ExistingTests(path=request.test_path, tests=base.collected, content=EXISTING)

    result = ScaffoldAgent().write_tests(request_for(workspace, existing=existing))

    assert result.ok, result.error
    content = test_file.read_text()
    assert content.startswith(EXISTING)  # not a character of it changed
    after = run(workspace, request.test_path)
    assert after.all_passed, after.output_tail
    assert not regression.lost_tests(base, after)
    added = set(after.cases) - set(base.cases)
    assert added == {
        "test_ctw_smoke2_module_imports",
        "test_ctw_smoke2_public_names_exist",
        "test_ctw_smoke2_doctests_pass",
    }
    names = [n.name for n in ast.parse(content).body if isinstance(n, ast.FunctionDef)]
    assert len(names) == len(set(names))  # no name clashes


def test_writing_again_adds_to_the_original_and_a_file_that_has_the_tests_stays_as_it_is(
    tmp_path: Path,
) -> None:
    workspace = make_workspace(tmp_path, SOURCE)
    request = request_for(workspace)
    test_file = workspace / request.test_path
    test_file.parent.mkdir(parents=True)
    test_file.write_text(EXISTING)
    existing = ExistingTests(path=request.test_path, tests=4, content=EXISTING)

    # Given: a fix round writes again into the file the first call wrote.
    ScaffoldAgent().write_tests(request_for(workspace, existing=existing))
    once = test_file.read_text()
    ScaffoldAgent().write_tests(request_for(workspace, existing=existing, feedback="failed"))

    assert test_file.read_text() == once
    # And: a later session whose base already holds the scaffold's tests changes nothing.
    again = ExistingTests(path=request.test_path, tests=7, content=once)
    ScaffoldAgent().write_tests(request_for(workspace, existing=again))
    assert test_file.read_text() == once


def test_a_file_in_the_workspace_nobody_mentioned_is_added_to_not_overwritten(
    tmp_path: Path,
) -> None:
    workspace = make_workspace(tmp_path, SOURCE)
    request = request_for(workspace)
    test_file = workspace / request.test_path
    test_file.parent.mkdir(parents=True)
    test_file.write_text(EXISTING)

    assert ScaffoldAgent().write_tests(request).ok

    assert test_file.read_text().startswith(EXISTING)


def test_an_existing_elixir_test_module_is_kept_and_a_smoke_module_appended() -> None:
    existing = textwrap.dedent(
        """\
        defmodule Demo.UserTest do
          use ExUnit.Case
          doctest Demo.User

          test "creates a user" do
            assert Demo.User.new("a")
          end
        end

        defmodule Demo.UserCtwSmokeTest do
        end
        """
    )

    content = append_elixir_tests(existing, "Demo.User", [("new", 1)], doctests=True)

    assert content.startswith(existing)
    added = content[len(existing) :]
    assert "defmodule Demo.UserCtwSmoke2Test do" in added
    assert "doctest Demo.User" not in added  # the file doctests the module already
    assert 'test "exports new/1"' in added
    assert append_elixir_tests(content, "Demo.User", [("new", 1)], doctests=True) == content


def test_an_existing_test_file_of_a_module_whose_doctests_fail_gains_no_doctest_test(
    tmp_path: Path,
) -> None:
    workspace = make_workspace(tmp_path, SOURCE.replace("    4\n", "    5\n"))
    request = request_for(workspace)
    test_file = workspace / request.test_path
    test_file.parent.mkdir(parents=True)
    test_file.write_text(EXISTING)
    base = run(workspace, request.test_path)
    existing = ExistingTests(path=request.test_path, tests=base.collected, content=EXISTING)

    result = ScaffoldAgent().write_tests(request_for(workspace, existing=existing))

    assert result.ok, result.error
    after = run(workspace, request.test_path)
    assert after.all_passed, after.output_tail
    assert set(after.cases) - set(base.cases) == {
        "test_ctw_smoke2_module_imports",
        "test_ctw_smoke2_public_names_exist",
    }
    assert "CTW_SMOKE2_DOCTESTS_NOT_TESTED = '1 of 1 doctests fail" in test_file.read_text()
