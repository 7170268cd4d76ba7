"""The scaffold agent: deterministic smoke tests that really run under pytest."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from ctworkflow.agents.base import AgentRequest
from ctworkflow.agents.defined_names import defined_names
from ctworkflow.agents.scaffold import ScaffoldAgent
from ctworkflow.domain.repository.layouts import Layout, source_file_path, test_file_path
from ctworkflow.runners.pytest_runner import PytestRunner

MODULE = "pkg.mod"

PASSING_SOURCE = '''\
"""A small module."""

VALUE = 3
_private = 1


def add(a, b):
    """Add two numbers.

    >>> add(1, 2)
    3
    """
    return a + b


class Greeter:
    """Say hello.

    >>> Greeter().greet("Ada")
    'hello Ada'
    """

    def greet(self, name):
        return f"hello {name}"


def _helper():
    return None
'''


def make_workspace(root: Path, source: str, module: str = MODULE) -> Path:
    """Write a package holding module with the given source; return the workspace."""
    source_path = root / source_file_path(Layout.PYTHON, module)
    source_path.parent.mkdir(parents=True, exist_ok=True)
    for parent in source_path.relative_to(root).parents:
        if parent != Path("."):
            (root / parent / "__init__.py").touch()
    source_path.write_text(textwrap.dedent(source), encoding="utf-8")
    return root


def request_for(workspace: Path, module: str = MODULE, **kwargs: object) -> AgentRequest:
    """Return the request to test module in workspace."""
    fields: dict[str, object] = {
        "workspace": workspace,
        "component_name": module.rsplit(".", 1)[-1],
        "module_name": module,
        "source_path": source_file_path(Layout.PYTHON, module),
        "test_path": test_file_path(Layout.PYTHON, module),
        "layout": Layout.PYTHON,
    }
    fields.update(kwargs)
    return AgentRequest(**fields)  # type: ignore[arg-type]


def generated_constants(test_file: Path) -> dict[str, object]:
    """Return the literal module-level constants of a generated test file."""
    tree = ast.parse(test_file.read_text(encoding="utf-8"))
    constants: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            constants[node.targets[0].id] = ast.literal_eval(node.value)
    return constants


def test_the_scaffold_writes_three_smoke_tests_that_pass_under_pytest(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path, PASSING_SOURCE)
    request = request_for(workspace)

    result = ScaffoldAgent().write_tests(request)

    assert result.ok, result.error
    assert result.argv is None
    assert (workspace / "tests" / "test_mod.py").is_file()
    reports = PytestRunner().run(workspace, [request.test_path], timeout_s=120)
    report = reports[request.test_path]
    assert (report.collected, report.passed, report.failed, report.errors) == (3, 3, 0, 0)
    assert report.all_passed


def test_the_public_names_are_the_sorted_top_level_definitions_without_private_ones(
    tmp_path: Path,
) -> None:
    workspace = make_workspace(tmp_path, PASSING_SOURCE)
    request = request_for(workspace)

    ScaffoldAgent().write_tests(request)

    constants = generated_constants(workspace / request.test_path)
    assert constants == {"MODULE_NAME": "pkg.mod", "PUBLIC_NAMES": ("Greeter", "VALUE", "add")}


def test_a_literal_dunder_all_decides_the_public_names(tmp_path: Path) -> None:
    source = PASSING_SOURCE + '\n__all__ = ["add", "_helper"]\n'
    workspace = make_workspace(tmp_path, source)
    request = request_for(workspace)

    ScaffoldAgent().write_tests(request)

    constants = generated_constants(workspace / request.test_path)
    assert constants["PUBLIC_NAMES"] == ("_helper", "add")
    report = PytestRunner().run(workspace, [request.test_path], timeout_s=120)[request.test_path]
    assert report.all_passed
    assert report.collected == 3


def test_the_source_defines_its_public_names_under_if_try_and_with_too() -> None:
    source = textwrap.dedent(
        """\
        import os
        if os.name == "nt":
            def native(): ...
        else:
            def native(): ...
            POSIX = True
        try:
            import json as fast_json
        except ImportError:
            fast_json = None
        with open(__file__) as _f:
            FIRST, SECOND = 1, 2
        def _b(): ...
        """
    )

    assert defined_names(source, "m.py") == ["FIRST", "POSIX", "SECOND", "fast_json", "native"]


def test_a_name_in_dunder_all_that_the_module_lacks_fails_one_test(tmp_path: Path) -> None:
    source = PASSING_SOURCE + '\n__all__ = ["add", "ghost"]\n'
    workspace = make_workspace(tmp_path, source)
    request = request_for(workspace)
    ScaffoldAgent().write_tests(request)

    report = PytestRunner().run(workspace, [request.test_path], timeout_s=120)[request.test_path]

    assert (report.collected, report.passed, report.failed) == (3, 2, 1)
    assert "ghost" in report.output_tail


def test_doctests_that_fail_at_the_base_get_no_test_and_the_file_says_why(
    tmp_path: Path,
) -> None:
    source = '''\
    def double(x):
        """Double x.

        >>> double(2)
        5
        """
        return 2 * x
    '''
    workspace = make_workspace(tmp_path, source)
    request = request_for(workspace)
    result = ScaffoldAgent().write_tests(request)
    assert result.ok, result.error

    report = PytestRunner().run(workspace, [request.test_path], timeout_s=120)[request.test_path]

    # The two tests that hold at the base pass; nothing asserts the failing doctest.
    assert (report.collected, report.passed, report.failed, report.errors) == (2, 2, 0, 0)
    assert "test_doctests_pass" not in report.cases
    reason = generated_constants(workspace / request.test_path)["DOCTESTS_NOT_TESTED"]
    assert isinstance(reason, str) and reason.startswith("1 of 1 doctests fail at the base")
    assert "pkg.mod.double" in reason
    assert "no doctest test: 1 of 1 doctests fail at the base" in result.stdout_tail


def test_doctests_that_pass_at_the_base_are_tested(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path, PASSING_SOURCE)
    request = request_for(workspace)
    ScaffoldAgent().write_tests(request)

    report = PytestRunner().run(workspace, [request.test_path], timeout_s=120)[request.test_path]

    assert report.cases.get("test_doctests_pass") == "passed"
    assert "DOCTESTS_NOT_TESTED" not in generated_constants(workspace / request.test_path)


def test_a_submodule_whose_package_deletes_its_name_is_imported_through_the_package(
    tmp_path: Path,
) -> None:
    # Given a package whose __init__ imports from its submodule, then deletes the name, and
    # a submodule that needs its package imported first (it imports a name the package sets)
    workspace = make_workspace(
        tmp_path,
        '''\
        """The sub module.

        >>> from pkg import mod
        >>> mod.triple(2)
        6
        """
        import pkg


        def triple(x):
            return x * pkg.FACTOR
        ''',
    )
    (workspace / "pkg" / "__init__.py").write_text(
        '"""A package."""\n\nFACTOR = 3\n\nfrom pkg.mod import triple\n\ndel mod\n'
    )
    request = request_for(workspace)

    # When the scaffold writes its tests
    result = ScaffoldAgent().write_tests(request)

    # Then every one of them passes under pytest, and the test imports the package first
    assert result.ok, result.error
    report = PytestRunner().run(workspace, [request.test_path], timeout_s=120)[request.test_path]
    assert (report.collected, report.passed) == (3, 3), report.output_tail
    written = (workspace / request.test_path).read_text()
    assert "for end in range(1, len(parts)):" in written


def test_the_output_is_byte_identical_for_identical_input(tmp_path: Path) -> None:
    first = make_workspace(tmp_path / "one", PASSING_SOURCE)
    second = make_workspace(tmp_path / "two", PASSING_SOURCE)

    ScaffoldAgent().write_tests(request_for(first))
    ScaffoldAgent().write_tests(request_for(second))
    ScaffoldAgent().write_tests(request_for(second, feedback="something failed"))

    test_path = test_file_path(Layout.PYTHON, MODULE)
    assert (first / test_path).read_bytes() == (second / test_path).read_bytes()


def test_the_generated_file_imports_only_the_standard_library(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path, PASSING_SOURCE)
    request = request_for(workspace)
    ScaffoldAgent().write_tests(request)

    tree = ast.parse((workspace / request.test_path).read_text(encoding="utf-8"))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported == {"__future__", "contextlib", "doctest", "importlib", "io", "types"}


def test_names_are_embedded_as_data_and_never_as_code(tmp_path: Path) -> None:
    hostile = "x'); import os; os.remove('boom'); ('"
    source = f"__all__ = [{hostile!r}, 'ok\\nline']\nok = 1\n"
    workspace = make_workspace(tmp_path, source)
    request = request_for(workspace)

    assert ScaffoldAgent().write_tests(request).ok

    constants = generated_constants(workspace / request.test_path)
    assert constants["MODULE_NAME"] == "pkg.mod"
    assert constants["PUBLIC_NAMES"] == ("ok\nline", hostile)


def test_a_hostile_module_name_is_imported_as_data_and_runs_nothing(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path, PASSING_SOURCE)
    hostile = "pkg.mod'\"\nimport os; os.mkdir('pwned')"

    result = ScaffoldAgent().write_tests(request_for(workspace, module_name=hostile))

    assert not result.ok and result.permanent
    assert result.error is not None and "ModuleNotFoundError" in result.error
    assert not (workspace / "pwned").exists() and not (workspace / "tests").exists()


def test_a_missing_source_is_reported_without_writing_anything(tmp_path: Path) -> None:
    result = ScaffoldAgent().write_tests(request_for(tmp_path))

    assert not result.ok
    assert result.error == "source file pkg/mod.py does not exist"
    assert result.permanent  # no later round can change that
    assert not (tmp_path / "tests").exists()


def test_a_source_with_a_syntax_error_is_reported_on_one_line(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path, "def broken(:\n    pass\n")

    result = ScaffoldAgent().write_tests(request_for(workspace))

    assert not result.ok
    assert result.error is not None
    assert result.error.startswith("cannot parse pkg/mod.py: ")
    assert "(line 1)" in result.error
    assert "\n" not in result.error
    assert result.permanent


def test_a_path_outside_the_workspace_is_refused(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws", PASSING_SOURCE)

    result = ScaffoldAgent().write_tests(request_for(workspace, test_path="../escape.py"))

    assert not result.ok
    assert result.error == "test file '../escape.py' is outside the workspace"
    assert not (tmp_path / "escape.py").exists()
