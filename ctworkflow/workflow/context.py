"""The steps of a context testing session: initialize, spawn (and its validation), finalize."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from ctworkflow import errors, repository_layout, sessions
from ctworkflow.config import Settings
from ctworkflow.domain import commits, model, validation
from ctworkflow.domain.inputs import check_relative_path
from ctworkflow.domain.naming import branch_name
from ctworkflow.domain.states import ParentStep, SessionStatus
from ctworkflow.effects import nofollow
from ctworkflow.effects.git import BranchExists, GitError, redact
from ctworkflow.persistence.db import UnitOfWork, unit_of_work
from ctworkflow.workflow import recording
from ctworkflow.workflow.effects import Effects

logger = logging.getLogger(__name__)


# -- initialize ---------------------------------------------------------------------------


def initialize(scope: model.Scope, session_id: uuid.UUID, attempt: int, fx: Effects) -> bool:
    """Record the base commit and the branch name, and create the branch on the remote.

    Returns whether this call recorded the step's outcome (and so should move the session on).
    """
    start = recording.begin(
        scope, session_id, ParentStep.INITIALIZE, attempt, model.Command(keyword="initialize")
    )
    if start is None:
        return False
    session = start.session
    with unit_of_work() as uow:
        project = uow.catalog.get_project(scope.account_id, scope.project_id)
        context = uow.catalog.get_component(scope, session.component_id)
    remote = redact(project.code_repo)
    try:
        branch = session.branch_name or branch_name(context.name)
        with unit_of_work() as uow:
            holders = uow.sessions.branch_holders(scope, branch, besides=session.id)
        clash = [h for h in holders if h.component_id != session.component_id]
        if clash:
            raise errors.StepFailed(
                f"branch {branch} is already used by session {clash[0].id} of another context"
            )
        base = session.base_commit or fx.git.remote_head(project.code_repo, project.default_branch)
        if base is None:
            raise errors.StepFailed(
                f"the remote {remote} has no branch {project.default_branch} to start from"
            )
        # The paths every component of this session uses follow its base commit.
        profile = repository_layout.session_profile(session.state, base)
        if profile is None:
            profile, _tree = repository_layout.detect(fx.git, project, base)
        layout = repository_layout.session_state(profile, base)
        state = {**session.state, repository_layout.STATE_KEY: layout}
        with unit_of_work() as uow:  # recorded before the push: a redelivery knows it is ours
            uow.sessions.update_session(
                scope,
                session.id,
                only_if=SessionStatus.ACTIVE,
                branch_name=branch,
                base_commit=base,
                state=state,
            )
        _create_branch(fx, project.code_repo, branch, base, session.id)
    except (errors.StepFailed, errors.InvalidInput) as error:
        permanent = not isinstance(error, GitError) or isinstance(error, BranchExists)
        with unit_of_work() as uow:
            return recording.finish(
                uow, scope, start, model.Outcome.error(str(error)), fail_session=permanent
            )
    except errors.TransientError as error:
        with unit_of_work() as uow:
            return recording.finish(uow, scope, start, model.Outcome.error(str(error)))
    command = model.Command(
        argv=("git", "push", remote, f"{base}:refs/heads/{branch}"),
        metadata={"branch_name": branch, "base_commit": base},
    )
    data = {"branch_name": branch, "base_commit": base, "layout": profile.describe()}
    with unit_of_work() as uow:
        return recording.finish(uow, scope, start, model.Outcome.ok(data=data), command=command)


def _create_branch(fx: Effects, remote: str, branch: str, base: str, session_id: uuid.UUID) -> None:
    head = fx.git.remote_head(remote, branch)
    if head is None:
        try:
            fx.git.create_branch(remote, branch, base)
            return
        except BranchExists:
            head = fx.git.remote_head(remote, branch)
    if head == base or (head and _pushed_by(fx, remote, head, session_id)):
        return  # ours: a redelivered initialize, or a session already finalized
    raise BranchExists(
        f"branch {branch} already exists on the remote {redact(remote)} and belongs to another "
        "session; delete it or rename the context"
    )


def _pushed_by(fx: Effects, remote: str, commit: str, session_id: uuid.UUID) -> bool:
    return commits.session_of(fx.git.commit_message(remote, commit)) == session_id


# -- spawn --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class FanOut:
    """The children a spawn round runs, out of all the context's children."""

    attempt: int
    child_ids: list[uuid.UUID]
    run_ids: list[uuid.UUID]


def spawn(scope: model.Scope, session_id: uuid.UUID, attempt: int) -> FanOut | None:
    """Get or create the children and choose who runs this round; None if nothing to do.

    Round 1 runs every child. A later round runs only the children that did not pass,
    each handed the reason it failed, plus children of components added since.
    """
    start = recording.begin(
        scope,
        session_id,
        ParentStep.SPAWN_COMPONENT_TESTING_SESSIONS,
        attempt,
        model.Command(keyword="spawn_sessions"),
    )
    if start is None:
        return None
    with unit_of_work() as uow:
        children = sessions.ensure_children(uow, scope, session_id)
        if not children:
            context = uow.catalog.get_component(scope, start.session.component_id)
            message = f"context {context.module_name} has no components to test"
            recording.finish(uow, scope, start, model.Outcome.error(message), fail_session=True)
            return None
        failing = _previous_failures(uow, scope, session_id, attempt)
        # Validation failed every child it did not pass: a complete child passed, and keeps
        # its artifact; nothing leaves ``complete`` to run again.
        to_run = [c for c in children if c.status is not SessionStatus.COMPLETE]
        # Set-based: one UPDATE per status left, one for the round, one executemany of the
        # states that carry feedback; never a statement per child.
        by_status: dict[SessionStatus, list[uuid.UUID]] = {}
        states: dict[uuid.UUID, dict[str, Any]] = {}
        for child in to_run:
            if child.status is not SessionStatus.ACTIVE:
                by_status.setdefault(child.status, []).append(child.id)
            feedback = failing.get(child.id) or child.error
            if feedback:
                states[child.id] = {**child.state, "feedback": feedback}
        for status, ids in by_status.items():
            uow.sessions.set_status(scope, ids, expected=status, target=SessionStatus.ACTIVE)
        uow.sessions.start_round(scope, attempt, session_ids=[c.id for c in to_run], states=states)
        uow.sessions.update_session(scope, session_id, attempt=attempt)
        child_ids = [c.id for c in children]
        run_ids = [c.id for c in to_run]
        uow.sessions.update_interaction_command(
            scope,
            start.interaction,
            model.Command(
                keyword="spawn_sessions",
                metadata={
                    "child_session_ids": [str(i) for i in child_ids],
                    "run_session_ids": [str(i) for i in run_ids],
                },
            ),
        )
    return FanOut(attempt=attempt, child_ids=child_ids, run_ids=run_ids)


def _previous_failures(
    uow: UnitOfWork, scope: model.Scope, session_id: uuid.UUID, attempt: int
) -> dict[uuid.UUID, str]:
    if attempt <= 1:
        return {}
    previous = uow.sessions.find_interaction(
        scope, session_id, step=ParentStep.SPAWN_COMPONENT_TESTING_SESSIONS, attempt=attempt - 1
    )
    if previous is None or previous.outcome is None:
        return {}
    return {
        uuid.UUID(f["child_id"]): f["reason"]
        for f in previous.outcome.data.get("failures", [])
        if f.get("child_id")
    }


# -- validate (the chord callback) ----------------------------------------------------------


class Verdict(StrEnum):
    """What a validation call did."""

    RECORDED = "recorded"  # it judged the round: move the session on
    WAITING = "waiting"  # a child of the round still runs: look again later
    IGNORED = "ignored"  # a late or duplicate callback: nothing to do


def validate(scope: model.Scope, session_id: uuid.UUID, attempt: int, fx: Effects) -> Verdict:
    """Check the round: every component has a complete child whose test file passes here.

    A round is judged only once every child has ended: a callback fired early (a child
    delivered twice is counted once by the chord, whichever copy returns first) waits.
    """
    with unit_of_work() as uow:
        session = uow.sessions.get_session(scope, session_id)
        interaction = uow.sessions.find_interaction(
            scope, session_id, step=ParentStep.SPAWN_COMPONENT_TESTING_SESSIONS, attempt=attempt
        )
        if session.status is not SessionStatus.ACTIVE or interaction is None:
            return Verdict.IGNORED  # cancelled or ended meanwhile: a late callback does nothing
        if not interaction.pending:
            return Verdict.IGNORED  # a duplicate callback
        children = uow.sessions.children(scope, session_id)
        if any(c.status is SessionStatus.ACTIVE for c in children):
            return Verdict.WAITING
        project = uow.catalog.get_project(scope.account_id, scope.project_id)
        components = uow.catalog.child_components(scope, session.component_id)
        artifacts = uow.sessions.latest_artifacts(scope, [c.id for c in children])
    failures, to_run = validation.unverified(components, children, artifacts)
    try:
        reports = _run_tests_here(fx, project, session, to_run)
    except errors.CtWorkflowError as error:  # e.g. the remote is unreachable: blame no test
        reports = {a.test_path: model.TestReport(errors=1, output_tail=str(error)) for a in to_run}
    disproved = validation.disproved(components, children, to_run, reports)
    failures += disproved
    start = recording.StepStart(session=session, interaction=interaction)
    if failures:
        outcome = model.Outcome.error(
            validation.summary(failures, len(components)),
            data={"failures": [f.to_json() for f in failures]},
        )
    else:
        outcome = model.Outcome.ok(
            data={
                "components": len(components),
                "tests_collected": sum(r.collected for r in reports.values()),
                "tests_passed": sum(r.passed for r in reports.values()),
            }
        )
    with unit_of_work() as uow:
        for failure in failures:  # a child that said complete but did not pass is failed
            if failure.child_id is not None:
                uow.sessions.set_status(
                    scope,
                    [failure.child_id],
                    expected=SessionStatus.COMPLETE,
                    target=SessionStatus.FAILED,
                    error=failure.reason,
                )
        recorded = recording.finish(uow, scope, start, outcome)
    return Verdict.RECORDED if recorded else Verdict.IGNORED


def _run_tests_here(
    fx: Effects, project: model.Project, session: model.Session, artifacts: Sequence[model.Artifact]
) -> dict[str, model.TestReport]:
    if not artifacts:
        return {}
    assert session.base_commit is not None, "initialize records the base commit"
    fx.git.mirror(project.code_repo, need=session.base_commit)
    with fx.git.workspace(project.code_repo, session.base_commit) as workspace:
        refused = _apply(workspace, artifacts, fx.settings)
        runnable = [a.test_path for a in artifacts if a.test_path not in refused]
        reports = fx.runner(project, session.state.get("runner")).run(
            workspace, runnable, timeout_s=fx.settings.test_timeout_s
        )
        return {**reports, **refused}


def _apply(
    workspace: Path, artifacts: Sequence[model.Artifact], settings: Settings
) -> dict[str, model.TestReport]:
    """Write each artifact's test file, never through a link the repository has there.

    Returns the refused ones (a link or a non-regular file at the path, over the size limit),
    each with a report saying why.
    """
    refused: dict[str, model.TestReport] = {}
    for artifact in artifacts:
        try:
            nofollow.write_text(
                workspace,
                artifact.test_path,
                artifact.content,
                max_bytes=settings.max_test_file_bytes,
                setting="CTW_MAX_TEST_FILE_BYTES",
            )
        except (errors.UnsafeFile, errors.LimitExceeded) as error:
            reason = f"{error} (in the repository at the base commit)"
            refused[artifact.test_path] = model.TestReport(errors=1, output_tail=reason)
    return refused


# -- finalize -----------------------------------------------------------------------------


def finalize(scope: model.Scope, session_id: uuid.UUID, attempt: int, fx: Effects) -> bool:
    """Commit every component's test file on the branch and push it, exactly once.

    Returns whether this call recorded the step's outcome.
    """
    start = recording.begin(
        scope, session_id, ParentStep.FINALIZE, attempt, model.Command(keyword="finalize")
    )
    if start is None:
        return False
    session = start.session
    with unit_of_work() as uow:
        project = uow.catalog.get_project(scope.account_id, scope.project_id)
        context = uow.catalog.get_component(scope, session.component_id)
        children = uow.sessions.children(scope, session_id)
        components = uow.catalog.components_by_id(scope, [c.component_id for c in children])
        artifacts = uow.sessions.latest_artifacts(scope, [c.id for c in children])
    entries = [
        commits.Entry(
            name=components[c.component_id].name,
            module_name=components[c.component_id].module_name,
            test_path=artifacts[c.id].test_path,
        )
        for c in children
        if c.id in artifacts
    ]
    message = commits.commit_message(context.name, session_id, entries)
    try:
        commit = _commit_and_push(fx, project, session, list(artifacts.values()), message)
    except errors.CtWorkflowError as error:
        permanent = not isinstance(error, errors.TransientError)
        with unit_of_work() as uow:
            return recording.finish(
                uow, scope, start, model.Outcome.error(str(error)), fail_session=permanent
            )
    command = model.Command(
        argv=(
            "git",
            "push",
            redact(project.code_repo),
            f"{commit}:refs/heads/{session.branch_name}",
        ),
        metadata={
            "branch_name": session.branch_name,
            "committed_files": [e.test_path for e in entries],
        },
    )
    with unit_of_work() as uow:
        return recording.finish(
            uow,
            scope,
            start,
            model.Outcome.ok(data={"commit": commit, "files": [e.test_path for e in entries]}),
            command=command,
        )


def _commit_and_push(
    fx: Effects,
    project: model.Project,
    session: model.Session,
    artifacts: Sequence[model.Artifact],
    message: str,
) -> str:
    branch, base = session.branch_name, session.base_commit
    assert branch is not None and base is not None, "initialize records branch and base"
    head = fx.git.remote_head(project.code_repo, branch)
    if head is None:
        raise errors.StepFailed(
            f"branch {branch} is gone from the remote {redact(project.code_repo)}"
        )
    if head != base:
        if _pushed_by(fx, project.code_repo, head, session.id):
            return head  # a crash after the push: the commit is there already
        raise errors.StepFailed(
            f"branch {branch} moved to {head[:12]} on the remote, expected {base[:12]}; "
            "not overwriting"
        )
    fx.git.mirror(project.code_repo, need=base)
    with fx.git.workspace(project.code_repo, base) as workspace:
        refused = _apply(workspace, artifacts, fx.settings)
        if refused:
            raise errors.StepFailed("; ".join(r.output_tail for r in refused.values()))
        paths = sorted(a.test_path for a in artifacts)
        for path in paths:
            check_relative_path(path, "test path")
        commit = fx.git.commit_all(workspace, paths, message)
        try:
            fx.git.push(workspace, project.code_repo, branch, commit, expected_head=base)
        except GitError:
            # A twin delivery of this step may have pushed first: then its commit stands.
            head = fx.git.remote_head(project.code_repo, branch)
            if head and head != base and _pushed_by(fx, project.code_repo, head, session.id):
                return head
            raise
    return commit
