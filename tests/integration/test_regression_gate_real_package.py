"""The regression gate on a real test file of a real package nobody here wrote.

marshmallow 3.21.3 (src layout, a runtime dependency, its own suite) is fetched from the
package index at test time and published as its authors' repository; its tests run in the
environment ctworkflow builds for it (the package and its ``tests`` extra, from its own
``pyproject.toml``). The orchestrator's own runs
(:func:`ctworkflow.workflow.steps.validate.run_tests_here`) at the base and with an agent's change
applied are what the gate compares.
"""

from __future__ import annotations

import ast
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ctworkflow.config import get_settings
from ctworkflow.domain import regression
from ctworkflow.domain.model import Project, TestReport
from ctworkflow.domain.repository.layouts import Layout
from ctworkflow.effects.environments import Environments
from ctworkflow.effects.git import Git
from ctworkflow.workflow.deps import Deps
from ctworkflow.workflow.steps import validate
from tests import real_packages

# Real third-party code or real agent programs: minutes, in the slow tier (make test-slow), with
# a deadline of its own that a loaded machine (the other tier worker busy) still meets.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]

TEST_FILE = "tests/test_validate.py"
#: Two tests an agent drops: one parametrized over many URLs, one plain.
DROPPED = ("test_url_absolute_valid", "test_url_custom_message")
APPENDED = """

def test_added_by_an_agent():
    assert validate.Length(min=1)("x") == "x"
"""


@pytest.fixture(scope="module")
def marshmallow(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The upstream repository's bare remote, and a folder of environments its tests share
    (one project: the environment is built once for the module)."""
    root = tmp_path_factory.mktemp("marshmallow")
    source = real_packages.fetch_sdist("marshmallow", "3.21.3", root / "sdist")
    upstream = real_packages.as_repository(source, root / "upstream")
    return upstream.remote, root / "environments"


def without(source: str, names: tuple[str, ...]) -> str:
    """``source`` with the top-level test functions ``names`` cut out, decorators and all."""
    lines = source.splitlines(keepends=True)
    for node in sorted(ast.parse(source).body, key=lambda n: -n.lineno):
        if isinstance(node, ast.FunctionDef) and node.name in names:
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            assert node.end_lineno is not None
            del lines[start - 1 : node.end_lineno]
    return "".join(lines)


PROJECT_ID = uuid.uuid4()


def gate(
    remote: Path, environments: Path, tmp_path: Path, content: str
) -> tuple[TestReport, TestReport]:
    """The orchestrator's runs of TEST_FILE at the base and with ``content`` applied."""
    git = Git(tmp_path / "workspaces")
    base = git.remote_head(str(remote), "main")
    assert base is not None
    settings = get_settings().model_copy(update={"environment_dir": environments})
    deps = Deps(settings=settings, git=git, environments=Environments(settings))
    project = Project(
        id=PROJECT_ID,
        account_id=uuid.uuid4(),
        name="marshmallow",
        code_repo=str(remote),
        layout=Layout.PYTHON,
        default_branch="main",
        created_at=datetime.now(UTC),
    )
    checked = validate.run_tests_here(deps, project, base, [TEST_FILE], [(TEST_FILE, content)])
    return checked.base[TEST_FILE], checked.after[TEST_FILE]


def original(remote: Path, tmp_path: Path) -> str:
    git = Git(tmp_path / "read")
    head = git.remote_head(str(remote), "main")
    assert head is not None
    with git.worktree(str(remote), head) as workspace:
        return (workspace / TEST_FILE).read_text()


def test_an_agent_that_appends_keeps_every_test_that_passed_at_the_base(
    marshmallow: tuple[Path, Path], tmp_path: Path
) -> None:
    remote, environments = marshmallow

    base, after = gate(remote, environments, tmp_path, original(remote, tmp_path) + APPENDED)

    assert base.all_passed and base.passed > 100, base.output_tail  # the real suite ran
    assert not regression.lost_tests(base, after)
    assert after.all_passed and after.passed == base.passed + 1
    assert set(after.cases) - set(base.cases) == {"test_added_by_an_agent"}


def test_an_agent_that_drops_tests_is_named_with_every_test_it_lost(
    marshmallow: tuple[Path, Path], tmp_path: Path
) -> None:
    remote, environments = marshmallow

    base, after = gate(remote, environments, tmp_path, without(original(remote, tmp_path), DROPPED))

    lost = regression.lost_tests(base, after)
    expected = sorted(case for case in base.cases if case.split("[")[0] in DROPPED)
    assert len(expected) > 10  # the parametrized one stands for many cases
    assert list(lost.gone) == expected and lost.broken == ()
    assert after.all_passed  # what is left still passes: only the gate can tell
    message = regression.describe(TEST_FILE, lost, base)
    assert message.startswith(f"lost {len(expected)} of the {base.passed} existing tests")
    cases = sum(1 for case in expected if case.startswith("test_url_absolute_valid["))
    assert f"gone: test_url_absolute_valid ({cases} cases), test_url_custom_message)" in message
