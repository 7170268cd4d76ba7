"""Discovery then whole sessions with the ``scaffold`` agent, on a real mix project and a real
Python package: the pushed branch's tests pass under ``mix test`` and ``pytest`` from a fresh
clone. Then the code changes and discovery runs again."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ctworkflow import api, errors
from ctworkflow.config import get_settings
from ctworkflow.domain.model import Scope, Session
from ctworkflow.domain.repository.layouts import Layout, test_file_path
from ctworkflow.domain.states import SessionStatus
from ctworkflow.effects.git import Git
from ctworkflow.persistence.db import unit_of_work
from ctworkflow.services import catalog, discovery
from ctworkflow.services.discovery import DiscoveryReport, Renamed
from tests.elixir_support import require_elixir
from tests.samples import SampleRepo, git, mix_sample, module_source, publish, python_sample
from tests.workflow_support import register_sample, run_pytest, wait_until_terminal

BRANCH = "test-context-testing-session-for-accounts"


def register(sample: SampleRepo, layout: str, settings: dict[str, object] | None = None) -> Scope:
    """A project on the sample's remote; its agent is the scaffold unless settings say else."""
    return register_sample(sample, layout, settings)


def clone_branch(sample: SampleRepo, where: Path) -> Path:
    git("clone", "--quiet", "--branch", BRANCH, str(sample.remote), str(where), cwd=where.parent)
    return where


def pushed_files(sample: SampleRepo) -> list[str]:
    base = git("rev-parse", "main", cwd=sample.remote)
    return sorted(git("diff", "--name-only", base, BRANCH, cwd=sample.remote).splitlines())


def run_session(scope: Scope, context: str) -> Session:
    return wait_until_terminal(scope, api.start_context_testing(scope, context).id, timeout_s=240)


def test_a_mix_project_is_discovered_tested_and_pushed_with_passing_tests(
    workflow_db: str, tmp_path: Path
) -> None:
    require_elixir()
    sample = mix_sample(tmp_path / "app")
    scope = register(sample, "phoenix")

    report = api.discover_components(scope)

    modules = [c.module_name for c in sample.components]
    assert report.added == tuple(sorted([sample.context_module, *modules]))
    assert (report.renamed, report.removed, report.unchanged, report.skipped) == ((), (), (), ())
    session = run_session(scope, "MyApp.Accounts")
    assert session.status is SessionStatus.COMPLETE, session.error
    expected = sorted(test_file_path(Layout.PHOENIX, m) for m in modules)
    assert expected == [
        "test/my_app/accounts/session_token_test.exs",
        "test/my_app/accounts/user_repository_test.exs",
        "test/my_app/accounts/user_test.exs",
    ]
    assert pushed_files(sample) == expected
    # A fresh clone of the branch passes `mix test` as a developer would run it.
    clone = clone_branch(sample, tmp_path / "clone")
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "MIX_HOME": str(tmp_path / "mix-home"),
        "MIX_ENV": "test",
    }
    done = subprocess.run(
        [shutil.which("mix") or "mix", "test"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 doctests, 12 tests, 0 failures" in done.stdout


def test_a_python_package_is_discovered_tested_and_pushed_with_passing_tests(
    workflow_db: str, tmp_path: Path
) -> None:
    sample = python_sample(tmp_path / "shop")
    scope = register(sample, "python")

    report = api.discover_components(scope)

    modules = [c.module_name for c in sample.components]
    assert report.added == tuple(sorted(["shop.accounts", *modules]))
    session = run_session(scope, "shop.accounts")
    assert session.status is SessionStatus.COMPLETE, session.error
    expected = sorted(test_file_path(Layout.PYTHON, m) for m in modules)
    assert pushed_files(sample) == expected
    result = run_pytest(clone_branch(sample, tmp_path / "clone"), expected)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "9 passed" in result.stdout


AUDIT = '''"""Who did what, when."""

EVENTS: list[str] = []


def record(event: str) -> int:
    """Remember an event and return how many there are.

    >>> record("login") >= 1
    True
    """
    EVENTS.append(event)
    return len(EVENTS)
'''


def by_id(session: Session) -> str:
    return str(session.id)


def change_code(sample: SampleRepo) -> None:
    """Rename one module, delete one, add one, and push to the remote's main."""
    work = sample.remote.parent / "work"
    git("pull", "--quiet", "origin", "main", cwd=work)
    git(
        "mv",
        "shop/accounts/user_repository.py",
        "shop/accounts/member_repository.py",
        cwd=work,
    )
    git("rm", "--quiet", "shop/accounts/accounts_live.py", cwd=work)
    # Unlike the other modules, not from the same template: git would take it for a rename.
    (work / "shop/accounts/audit.py").write_text(AUDIT)
    git("add", "--all", cwd=work)
    git("commit", "--quiet", "-m", "Rename, remove and add modules", cwd=work)
    git("push", "--quiet", "origin", "main", cwd=work)


def test_discovery_again_follows_renames_and_removals_without_touching_past_sessions(
    workflow_db: str, tmp_path: Path
) -> None:
    sample = python_sample(tmp_path / "shop")
    scope = register(sample, "python")
    api.discover_components(scope)
    first = run_session(scope, "shop.accounts")
    assert first.status is SessionStatus.COMPLETE, first.error
    before = api.session_details(scope, first.id)
    change_code(sample)

    report = api.discover_components(scope)

    assert dataclasses.replace(report, profile=None, tests=()) == DiscoveryReport(
        commit=git("rev-parse", "main", cwd=sample.remote),
        added=("shop.accounts.audit",),
        renamed=(
            Renamed(
                old_module="shop.accounts.user_repository",
                new_module="shop.accounts.member_repository",
            ),
        ),
        removed=("shop.accounts.accounts_live",),
        unchanged=("shop.accounts", "shop.accounts.user"),
        skipped=(),
    )
    assert ("shop.accounts.audit", "tests/accounts/test_audit.py", False) in report.tests
    with unit_of_work() as uow:
        listed = [c.module_name for c in catalog.list_components(uow, scope)]
    assert listed == [
        "shop.accounts",
        "shop.accounts.audit",
        "shop.accounts.member_repository",
        "shop.accounts.user",
    ]
    # The session that already ran is as it was: same children, artifacts and status; the
    # removed component is still there for it to point at, and the renamed one kept its id.
    after = api.session_details(scope, first.id)
    assert after.session == before.session
    assert sorted(after.children, key=by_id) == sorted(before.children, key=by_id)
    assert after.artifacts == before.artifacts
    assert set(after.components) == set(before.components)
    removed = next(
        c for c in after.components.values() if c.module_name == "shop.accounts.accounts_live"
    )
    assert removed.removed
    renamed_id = next(
        i for i, c in before.components.items() if c.module_name == "shop.accounts.user_repository"
    )
    assert after.components[renamed_id].module_name == "shop.accounts.member_repository"
    # Running discovery again on the same commit changes nothing.
    again = api.discover_components(scope)
    assert (again.added, again.renamed, again.removed) == ((), (), ())
    assert again.unchanged == tuple(listed)
    # A new session (once the first one's branch is merged away) tests what the code holds now.
    git("branch", "-D", BRANCH, cwd=sample.remote)
    second = run_session(scope, "shop.accounts")
    assert second.status is SessionStatus.COMPLETE, second.error
    details = api.session_details(scope, second.id)
    assert sorted(details.components[c.component_id].module_name for c in details.children) == [
        "shop.accounts.audit",
        "shop.accounts.member_repository",
        "shop.accounts.user",
    ]


def test_a_session_overrides_the_projects_agent_and_runner(
    workflow_db: str, tmp_path: Path
) -> None:
    # Given: project settings that cannot work for this Python package.
    sample = python_sample(tmp_path / "shop")
    scope = register(
        sample, "python", {"agent": "command", "agent_argv": ["false"], "runner": "mix"}
    )
    api.discover_components(scope)
    with pytest.raises(errors.InvalidInput, match="unknown runner 'nose': expected one of mix"):
        api.start_context_testing(scope, "shop.accounts", runner="nose")

    started = api.start_context_testing(scope, "shop.accounts", agent="scaffold", runner="pytest")
    session = wait_until_terminal(scope, started.id, timeout_s=240)

    assert session.status is SessionStatus.COMPLETE, session.error
    assert session.agent == "scaffold" and session.runner == "pytest"
    assert pushed_files(sample) == sorted(
        test_file_path(Layout.PYTHON, c.module_name) for c in sample.components
    )


def test_concurrent_discoveries_of_one_project_register_each_module_once(
    database_url: str, tmp_path: Path
) -> None:
    sample = python_sample(tmp_path / "shop")
    scope = register(sample, "python")
    with unit_of_work() as uow:
        project = catalog.get_project(uow, scope)
    read = discovery.read_repository(Git(get_settings().workspaces), project)
    start_together = threading.Barrier(4)

    def apply(_: int) -> DiscoveryReport:
        start_together.wait()
        with unit_of_work() as uow:
            return discovery.apply_scan(uow, scope, read)

    with ThreadPoolExecutor(max_workers=4) as pool:
        reports = list(pool.map(apply, range(4)))

    modules = sorted(["shop.accounts", *(c.module_name for c in sample.components)])
    assert sorted(r.added for r in reports) == [(), (), (), tuple(modules)]
    assert all(r.unchanged == tuple(modules) for r in reports if not r.added)
    with unit_of_work() as uow:
        registered = sorted(c.module_name for c in catalog.list_components(uow, scope))
    assert registered == modules


ACCOUNTS_INIT = '''"""The accounts context: its own code lives here, beside its modules."""

from shop.accounts.user import *  # noqa: F403 (a re-export)

__all__ = ["Registry", "greet"]


def greet(name: str) -> str:
    """Say hello.

    >>> greet("Ada")
    'hello Ada'
    """
    return f"hello {name}"


class Registry:
    """Names seen so far."""

    def __init__(self) -> None:
        self.names: list[str] = []
'''


def test_a_package_whose_init_holds_code_is_a_component_tested_where_the_project_tests(
    workflow_db: str, tmp_path: Path
) -> None:
    # Given a package whose context's __init__.py defines a function and a class, no tests yet
    root = tmp_path / "shop"
    root.mkdir()
    remote = publish(
        root,
        {
            "shop/__init__.py": '"""The shop package."""\n',
            "shop/accounts/__init__.py": ACCOUNTS_INIT,
            "shop/accounts/user.py": module_source("user"),
            "README.md": "# shop\n",
        },
    )
    sample = SampleRepo(
        remote=remote, context_name="Accounts", context_module="shop.accounts", components=[]
    )
    scope = register(sample, "python")

    # When discovery runs, then a session of the context
    report = api.discover_components(scope)
    session = run_session(scope, "shop.accounts")

    # Then the context's own code is one of its components, tested under tests/ like the others
    assert report.added == ("shop.accounts", "shop.accounts.__init__", "shop.accounts.user")
    assert session.status is SessionStatus.COMPLETE, session.error
    own = "tests/test_accounts.py"
    assert pushed_files(sample) == ["tests/accounts/test_user.py", own]
    clone = clone_branch(sample, tmp_path / "clone")
    text = (clone / own).read_text()
    assert "MODULE_NAME = 'shop.accounts'" in text and "('Registry', 'greet')" in text
    result = run_pytest(clone, [own])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
