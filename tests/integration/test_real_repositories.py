"""Context testing sessions on real repositories nobody here wrote, checked the way their
authors would check them.

Each package is fetched from the package index at test time (never committed) and published
as its authors' repository would be: prettytable 3.10.0 and python-dateutil 2.9.0.post0 (src
layouts with their own suites and runtime dependencies, wcwidth and six; dateutil's
``_version.py`` is written by setuptools-scm and ignored by git), toolz 0.12.1 (a flat package
with subpackages and tests inside them) and the EEx library of Elixir 1.14.0 (``lib/eex.ex`` and
``lib/eex/*.ex``). For each: discovery finds the contexts its layout has, a session with the
scaffold agent completes in the environment ctworkflow builds from the project's own metadata,
the branch holds one commit on the base, and the project's own test command, run in a fresh
clone with a fresh environment the test builds itself (not ctworkflow's), collects and passes
the new tests while every test that passed at the base still passes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from ctworkflow import api
from ctworkflow.domain.model import Scope
from ctworkflow.domain.states import SessionStatus
from ctworkflow.effects.build_host import find_uv
from ctworkflow.persistence.db import unit_of_work
from ctworkflow.services import catalog
from tests.conftest import INSTALLER_CACHE
from tests.elixir_support import require_elixir
from tests.real_packages import UpstreamRepo, as_repository, fetch_eex, fetch_sdist, git, register
from tests.workflow_support import wait_until_terminal

# Real third-party code or real agent programs: minutes, in the slow tier (make test-slow), with
# a deadline of its own that a loaded machine (the other tier worker busy) still meets.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]

SESSION_DEADLINE_S = 600
#: A file to append each package's figures to (JSON lines), when set (docs/repositories.md).
REPORT_ENV = "REAL_REPOS_REPORT"


def report(package: str, **figures: object) -> None:
    """Keep one package's figures where ``$REAL_REPOS_REPORT`` says, if it says."""
    path = os.environ.get(REPORT_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"package": package, **figures}) + "\n")


@dataclass(frozen=True)
class PythonCase:
    """A real Python package, the context a session tests, and how its authors run its tests."""

    name: str
    version: str
    context: str
    #: Contexts discovery must find (test packages never among them).
    contexts: tuple[str, ...]
    #: What the test's own environment installs besides the clone: an extra, requirement files.
    install: tuple[str, ...]
    generated: tuple[str, ...] = ()
    #: The release tag of the authors' repository (setuptools-scm reads the version from it).
    tag: str | None = None
    #: The project's settings besides the scaffold agent.
    settings: tuple[tuple[str, object], ...] = ()


CASES = (
    PythonCase(
        name="prettytable",
        version="3.10.0",
        context="prettytable",
        contexts=("prettytable",),
        install=("{clone}[tests]",),
    ),
    PythonCase(
        name="python-dateutil",
        version="2.9.0.post0",
        context="dateutil.parser",
        contexts=("dateutil", "dateutil.parser", "dateutil.tz", "dateutil.zoneinfo"),
        # Its suite turns warnings into errors, and pytest 9 warns about its parametrize
        # generators: its authors test with pytest 8, and so does its project's recipe.
        install=("pytest<9", "{clone}", "-r", "{clone}/requirements-dev.txt"),
        generated=("src/dateutil/_version.py",),
        tag="2.9.0.post0",
        settings=(("environment", {"packages": ["pytest<9"]}),),
    ),
    PythonCase(
        name="toolz",
        version="0.12.1",
        context="toolz.sandbox",
        contexts=("toolz", "toolz.curried", "toolz.sandbox"),
        install=("{clone}", "pytest"),
    ),
)


def contexts(scope: Scope) -> list[str]:
    with unit_of_work() as uow:
        return sorted(
            c.module_name for c in catalog.list_components(uow, scope) if c.type == "context"
        )


def clone(upstream: UpstreamRepo, ref: str, folder: Path) -> Path:
    git("clone", "--quiet", "--branch", ref, str(upstream.remote), str(folder), cwd=folder.parent)
    return folder


def fresh_environment(folder: Path, install: Sequence[str]) -> Path:
    """A new virtual environment with what the project's authors install to test it."""
    uv = find_uv()
    assert uv is not None, "uv is installed with ctworkflow's dev extra"
    venv = folder.parent / f"{folder.name}-venv"
    env = {**os.environ, "UV_CACHE_DIR": str(INSTALLER_CACHE / "uv"), "UV_SYSTEM_CERTS": "1"}
    subprocess.run(
        [uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True, env=env
    )
    wanted = [part.format(clone=folder) for part in install]
    done = subprocess.run(
        [
            uv,
            "pip",
            "install",
            "--quiet",
            "--python",
            str(venv / "bin" / "python"),
            "pytest",
            *wanted,
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return venv / "bin" / "python"


@dataclass(frozen=True)
class Suite:
    """What the project's own ``pytest`` said, test by test."""

    passed: frozenset[str]
    failed: frozenset[str]
    output: str


def own_suite(folder: Path, python: Path, report: Path) -> Suite:
    """The project's own test command in ``folder``: ``python -m pytest``, its own config."""
    done = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--junitxml", str(report)],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=900,
        env={
            "PATH": f"{python.parent}:/usr/bin:/bin",
            "HOME": str(folder.parent),
            "LANG": "C.UTF-8",
        },
        check=False,
    )
    passed, failed = set(), set()
    for case in ET.parse(report).getroot().iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        outcomes = {child.tag for child in case}
        if outcomes & {"failure", "error"}:
            failed.add(name)
        elif "skipped" not in outcomes:
            passed.add(name)
    return Suite(frozenset(passed), frozenset(failed), done.stdout[-3000:])


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_session_on_a_real_python_package_keeps_every_passing_test_and_adds_passing_ones(
    workflow_db: str, tmp_path: Path, case: PythonCase
) -> None:
    source = fetch_sdist(case.name, case.version, tmp_path / "sdist")
    upstream = as_repository(source, tmp_path / "upstream", generated=case.generated, tag=case.tag)
    scope = register(upstream, "python", case.settings)

    api.discover_components(scope)

    assert contexts(scope) == sorted(case.contexts)

    session = wait_until_terminal(
        scope, api.start_context_testing(scope, case.context).id, timeout_s=SESSION_DEADLINE_S
    )

    assert session.status is SessionStatus.COMPLETE, session.error
    # The files its build generates (git ignores them) were found, for every run to import.
    built = session.state["environment"]["build"]
    assert built["generated"] == list(case.generated), built
    assert session.branch_name is not None
    branch = clone(upstream, session.branch_name, tmp_path / "branch")
    base_commit = git("rev-parse", "origin/main", cwd=branch)
    assert git("rev-list", "--count", f"{base_commit}..HEAD", cwd=branch) == "1"
    assert git("rev-parse", "HEAD^", cwd=branch) == base_commit
    changed = git("diff", "--name-only", base_commit, "HEAD", cwd=branch).splitlines()
    assert changed and all("test" in Path(p).name for p in changed), changed

    base = clone(upstream, "main", tmp_path / "base")
    python = fresh_environment(branch, case.install)
    before = own_suite(base, python, tmp_path / "before.xml")
    after = own_suite(branch, python, tmp_path / "after.xml")

    assert before.passed, before.output  # the authors' suite really ran
    # Every test that passed at the base still passes, and nothing fails that did not before.
    assert before.passed <= after.passed, sorted(before.passed - after.passed)[:10]
    assert after.failed <= before.failed, sorted(after.failed - before.failed)[:10]
    # The new tests are collected by the project's own command, from the changed files, and pass.
    added = after.passed - before.passed
    assert added, after.output
    files = [p.removesuffix(".py").replace("/", ".") for p in changed]
    assert all(any(f in name for f in files) for name in added), sorted(added)[:10]
    report(
        case.name,
        passed_before=len(before.passed),
        passed_after=len(after.passed),
        failed_before=len(before.failed),
        added=len(added),
        changed=changed,
    )


def mix_test(folder: Path, home: Path) -> str:
    done = subprocess.run(
        ["mix", "test"],
        cwd=folder,
        env={**os.environ, "MIX_HOME": str(home), "MIX_ENV": "test"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    (summary,) = [
        line for line in done.stdout.splitlines() if " failures" in line and "tests" in line
    ]
    return summary


def counts(summary: str) -> tuple[int, int, int]:
    """``7 doctests, 101 tests, 0 failures``: doctests, tests, failures."""
    numbers = {word: int(n) for n, word in re.findall(r"(\d+) (\w+)", summary)}
    return numbers.get("doctests", 0), numbers["tests"], numbers["failures"]


def test_a_session_on_a_real_elixir_library_keeps_its_tests_and_adds_passing_ones(
    workflow_db: str, tmp_path: Path
) -> None:
    require_elixir()
    upstream = as_repository(fetch_eex(tmp_path / "src"), tmp_path / "eex")
    scope = register(upstream, "phoenix")
    api.discover_components(scope)
    assert contexts(scope) == ["EEx"]

    session = wait_until_terminal(
        scope, api.start_context_testing(scope, "EEx").id, timeout_s=SESSION_DEADLINE_S
    )

    assert session.status is SessionStatus.COMPLETE, session.error
    assert session.branch_name is not None
    branch = clone(upstream, session.branch_name, tmp_path / "branch")
    base_commit = git("rev-parse", "origin/main", cwd=branch)
    assert git("rev-list", "--count", f"{base_commit}..HEAD", cwd=branch) == "1"
    changed = git("diff", "--name-only", base_commit, "HEAD", cwd=branch).splitlines()
    # The modules' tests mirror lib/eex/; EEx's own code (lib/eex.ex) is tested in
    # test/eex_test.exs.
    assert changed and all(p.startswith(("test/eex/", "test/eex_test.exs")) for p in changed), (
        changed
    )
    base = clone(upstream, "main", tmp_path / "base")
    doctests, tests, failures = counts(mix_test(base, tmp_path / "mix-base"))
    doctests_after, tests_after, failures_after = counts(mix_test(branch, tmp_path / "mix-branch"))
    assert failures == failures_after == 0
    assert doctests_after >= doctests
    assert tests_after > tests  # the base's tests are all there and pass, and more with them
    report(
        "eex",
        tests_before=tests,
        tests_after=tests_after,
        doctests_before=doctests,
        doctests_after=doctests_after,
        changed=changed,
    )
