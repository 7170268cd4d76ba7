"""Helpers of the workflow tests: a project on a sample repository, waiting for sessions."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ctworkflow import api
from ctworkflow.domain.model import Component, Scope, Session
from ctworkflow.domain.states import TERMINAL
from ctworkflow.persistence.db import unit_of_work
from tests import samples
from tests.factories import new_project
from tests.samples import SampleRepo, git, python_sample

FAKE_AGENT = Path(__file__).parent / "agents" / "fake_agent.py"


@dataclass
class Project:
    """A registered project on a sample repository."""

    scope: Scope
    sample: SampleRepo
    context: Component
    components: list[Component]
    agent_state: Path
    plan_file: Path
    root: Path
    extra: dict[str, object] = field(default_factory=dict)

    def plan(self, plan: Mapping[str, Sequence[str]]) -> None:
        """Tell the fake agent how to behave, per module and call."""
        self.plan_file.write_text(json.dumps(plan))

    def agent_calls(self) -> list[dict[str, str]]:
        """Every call the fake agent received."""
        calls = self.agent_state / "calls.jsonl"
        if not calls.exists():
            return []
        return [json.loads(line) for line in calls.read_text().splitlines()]

    def start(self, **kwargs: object) -> Session:
        """Start testing the context through the public API."""
        return api.start_context_testing(self.scope, self.context.id, **kwargs)  # type: ignore[arg-type]

    def remote_git(self, *args: str) -> str:
        """Run git in the bare remote."""
        return git(*args, cwd=self.sample.remote)

    def branch_head(self, branch: str) -> str | None:
        """The commit ``branch`` points to on the remote, None if there is no such branch."""
        listed = self.remote_git("for-each-ref", "--format=%(objectname)", f"refs/heads/{branch}")
        return listed or None

    def push(self, files: Mapping[str, str], message: str, *, branch: str = "main") -> str:
        """Commit ``files`` on ``branch`` of the remote, as a person would; the new head."""
        clone = self.root / f"clone-{uuid.uuid4().hex[:8]}"
        git(
            "clone",
            "--quiet",
            "--branch",
            branch,
            str(self.sample.remote),
            str(clone),
            cwd=self.root,
        )
        for relative, content in files.items():
            path = clone / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
        git("add", "--all", cwd=clone)
        git("commit", "--quiet", "-m", message, cwd=clone)
        git("push", "--quiet", "origin", branch, cwd=clone)
        return git("rev-parse", "HEAD", cwd=clone)


def make_project(
    root: Path,
    *,
    agent: str = "command",
    modules: Sequence[str] = ("user", "user_repository", "accounts_live"),
    sources: Mapping[str, str] | None = None,
    context_name: str = "Accounts",
    code_repo: str | None = None,
    settings: Mapping[str, object] | None = None,
    extra_files: Mapping[str, str] | None = None,
    quality_checks: bool = False,
) -> Project:
    """A sample repository, registered as a python project with its context and components;
    its sessions skip the check for flaky tests and the mutants unless ``settings`` name them
    or ``quality_checks`` keeps the product's defaults (:func:`tests.factories.new_project`)."""
    root.mkdir(parents=True, exist_ok=True)
    sample = python_sample(
        root,
        modules=modules,
        sources=sources,
        context_name=context_name,
        extra_files=extra_files,
    )
    state, plan_file = root / "agent-state", root / "plan.json"
    project_settings = {
        "agent": agent,
        "agent_argv": [
            sys.executable,
            str(FAKE_AGENT),
            "--plan",
            str(plan_file),
            "--state",
            str(state),
            "--module",
            "{module}",
            "--test-path",
            "{test_path}",
            "--prompt",
            "{prompt_file}",
        ],
        "agent_timeout_s": 20,
        **(settings or {}),
    }
    with unit_of_work() as uow:
        scope = new_project(
            uow,
            code_repo or str(sample.remote),
            "python",
            project_settings,
            name="shop",
            quality_checks=quality_checks,
        )
        context, components = samples.register(uow, scope, sample)
    return Project(
        scope=scope,
        sample=sample,
        context=context,
        components=components,
        agent_state=state,
        plan_file=plan_file,
        root=root,
    )


def wait_until_terminal(scope: Scope, session_id: uuid.UUID, timeout_s: float = 120) -> Session:
    """Poll the session until it ends; fail the test past the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        session = api.get_session(scope, session_id)
        if session.status in TERMINAL:
            return session
        if time.monotonic() > deadline:
            raise AssertionError(f"session {session_id} still {session.status} after {timeout_s} s")
        time.sleep(0.2)


def wait_for(predicate: object, timeout_s: float = 60, what: str = "condition") -> None:
    """Poll ``predicate()`` until true."""
    deadline = time.monotonic() + timeout_s
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def run_pytest(workdir: Path, paths: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """Run pytest on test files of a checkout, as a user would."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--import-mode=importlib",
            "--rootdir",
            str(workdir),
            *paths,
        ],
        cwd=workdir,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(workdir), "PATH": "/usr/bin:/bin"},
        check=False,
    )


def register_sample(
    sample: SampleRepo, layout: str, settings: Mapping[str, object] | None = None
) -> Scope:
    """A project of a new account on the sample's remote; its agent is the scaffold unless
    ``settings`` say else. Its components are not registered (discovery or the test does it)."""
    with unit_of_work() as uow:
        return new_project(uow, str(sample.remote), layout, settings or None)
