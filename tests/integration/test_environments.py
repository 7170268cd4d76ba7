"""The target's environment: built from its own files, once per host and key, used by every run.

Real builds (uv, from the package index, in the sandbox), real worker processes, PostgreSQL,
Redis and git. The sample projects declare a dependency the worker's own interpreter does not
have (``tomli-w``), so a test that imports it passes only inside the environment built for it.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import uuid
from pathlib import Path

import pytest

from ctworkflow import api
from ctworkflow.config import get_settings
from ctworkflow.domain.repository import environments
from ctworkflow.domain.repository.environments import Recipe
from ctworkflow.domain.repository.layouts import Layout
from ctworkflow.domain.states import ChildStep, ParentStep, SessionStatus
from ctworkflow.effects.environments import Environments
from ctworkflow.persistence.db import unit_of_work
from tests import samples
from tests.elixir_support import require_elixir
from tests.samples import git, mix_sample
from tests.workflow_support import make_project, register_sample, run_pytest, wait_until_terminal

PYPROJECT = """\
[project]
name = "shop"
version = "1.0"
dependencies = ["tomli-w>=1"]

[project.optional-dependencies]
tests = ["iso8601>=2"]

[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"

[tool.setuptools.packages.find]
include = ["shop*"]
"""
#: A module that needs the project's dependency: it imports only where that is installed.
USER = '''"""Users, written out as TOML."""

import tomli_w


def dump(name):
    """The user as a TOML document."""
    return tomli_w.dumps({"name": name})
'''


def workspace_with(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / f"checkout-{uuid.uuid4().hex[:6]}"
    for relative, content in files.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(content)
    return folder


def pytest_only() -> Recipe:
    return environments.detect(Layout.PYTHON, {})


def _build_in_a_process(project_id: str, workspace: str, results: str) -> None:
    """Run in a process of its own: ask for the environment, say whether this one built it."""
    get_settings.cache_clear()
    with Environments(get_settings()).using(project_id, pytest_only(), Path(workspace)) as build:
        Path(results, f"{os.getpid()}.txt").write_text(f"{build.built} {build.environment.key}")


def test_two_processes_asking_at_once_build_one_environment_and_both_use_it(
    tmp_path: Path,
) -> None:
    workspace = workspace_with(tmp_path, {"README.md": "no metadata\n"})
    results = tmp_path / "results"
    results.mkdir()
    spawn = multiprocessing.get_context("spawn")
    processes = [
        spawn.Process(target=_build_in_a_process, args=("p1", str(workspace), str(results)))
        for _ in range(2)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=600)
        assert process.exitcode == 0

    said = sorted(f.read_text() for f in results.iterdir())
    (key,) = {line.split()[1] for line in said}
    assert [line.split()[0] for line in said] == ["False", "True"]  # one built, one waited
    python = get_settings().environments / key / "bin" / "python"
    assert python.is_file()


def test_a_changed_dependency_file_is_a_new_environment_and_old_ones_go_once_unused(
    tmp_path: Path,
) -> None:
    envs = Environments(get_settings())
    first = workspace_with(tmp_path, {"requirements.txt": "iso8601\n"})
    second = workspace_with(tmp_path, {"requirements.txt": "iso8601>=2\n"})
    third = workspace_with(tmp_path, {"requirements.txt": "iso8601>=2.0\n"})
    recipe = environments.detect(Layout.PYTHON, {"requirements.txt": ""})
    root = get_settings().environments

    with envs.using("p1", recipe, first) as held:
        with envs.using("p1", recipe, second) as newer:
            assert newer.built and newer.environment.key != held.environment.key
        # The first is held by a run: building another never removes it.
        assert Path(held.environment.root).is_dir()
        with envs.using("p1", recipe, first) as again:
            assert not again.built  # same files, same key: found, not built
    with envs.using("p1", recipe, third) as latest:
        assert latest.built
    left = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    assert left == [latest.environment.key]


def test_a_session_runs_its_tests_in_the_environment_its_pyproject_calls_for(
    workflow_db: str, tmp_path: Path
) -> None:
    # The scaffold imports the module (in the target's environment) and its tests do too.
    project = make_project(
        tmp_path / "shop",
        agent="scaffold",
        modules=("user",),
        sources={"user": USER},
        extra_files={"pyproject.toml": PYPROJECT},
    )

    session = wait_until_terminal(project.scope, project.start().id, timeout_s=600)

    assert session.status is SessionStatus.COMPLETE, session.error
    details = api.session_details(project.scope, session.id)
    (initialize,) = [i for i in details.interactions if i.step == ParentStep.INITIALIZE]
    assert initialize.outcome is not None
    built = initialize.outcome.data["environment"]
    assert built["built"] is True and built["host"]
    assert built["recipe"] == "auto: the project[tests], pytest, pytest-randomly, coverage"
    install = built["steps"][-1]
    assert install["argv"][1:3] == ["pip", "install"] and install["exit_code"] == 0
    assert install["duration_s"] > 0
    # It holds the test extra too.
    python = get_settings().environments / built["key"] / "bin" / "python"
    assert subprocess.run([str(python), "-c", "import iso8601"], check=False).returncode == 0
    # The component run used the same environment, found built on this host.
    (child,) = details.children
    with unit_of_work() as uow:
        child_history = uow.sessions.interactions(project.scope, child.id)
    (child_init,) = [i for i in child_history if i.step == ChildStep.INITIALIZE]
    assert child_init.outcome is not None
    used = child_init.outcome.data["environment"]
    assert used["key"] == built["key"] and used["built"] is False
    # And the worker's own interpreter could not have passed that test.
    clone = tmp_path / "clone"
    project.remote_git("worktree", "add", str(clone), session.branch_name or "")
    assert run_pytest(clone, ["tests/accounts/test_user.py"]).returncode != 0


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        (
            {"environment": {"packages": ["ctw-no-such-package-anywhere==9.9"]}},
            "uv pip install failed:",
        ),
        (
            {"environment": {"requirements": ["ci/missing.txt"]}},
            "the environment recipe names ci/missing.txt, which the repository does not have "
            "at the base commit",
        ),
    ],
)
def test_a_recipe_that_cannot_build_fails_the_session_at_once_and_writes_nothing(
    workflow_db: str, tmp_path: Path, settings: dict[str, object], reason: str
) -> None:
    project = make_project(tmp_path / "shop", modules=("user",), settings=settings)
    before = project.remote_git("for-each-ref", "--format=%(refname) %(objectname)")

    session = wait_until_terminal(project.scope, project.start().id, timeout_s=600)

    assert session.status is SessionStatus.FAILED
    assert reason in (session.error or "")
    assert "\n" not in (session.error or "").strip()
    details = api.session_details(project.scope, session.id)
    assert [i.step for i in details.interactions] == [ParentStep.INITIALIZE]
    assert details.children == []
    assert project.agent_calls() == []
    assert project.remote_git("for-each-ref", "--format=%(refname) %(objectname)") == before


def test_an_elixir_project_whose_dependencies_cannot_be_fetched_fails_in_one_line(
    workflow_db: str, tmp_path: Path
) -> None:
    require_elixir()
    # Its one dependency comes from hex.pm, which this worker has no Hex client for.
    sample = mix_sample(tmp_path / "app", deps='[{:jason, "~> 1.4"}]')
    scope = register_sample(sample, "phoenix")
    with unit_of_work() as uow:
        samples.register(uow, scope, sample)

    session = wait_until_terminal(
        scope, api.start_context_testing(scope, sample.context_module).id, timeout_s=600
    )

    assert session.status is SessionStatus.FAILED
    assert session.error == (
        "mix deps.get failed: the project's dependencies come from the Hex registry and this "
        "worker has no Hex (install it with mix local.hex, which needs builds.hex.pm)"
    )
    assert git("branch", "--list", cwd=sample.remote) == "* main"
