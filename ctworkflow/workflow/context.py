"""The steps of a context testing session: initialize, spawn (and its validation), finalize."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from ctworkflow import errors, ports
from ctworkflow.config import Settings
from ctworkflow.domain import (
    agent_runs,
    budgets,
    commits,
    landing,
    model,
    regression,
    rounds,
    validation,
)
from ctworkflow.domain.inputs import check_relative_path
from ctworkflow.domain.layout_profile import LayoutProfile
from ctworkflow.domain.states import ParentStep, ResultStatus, SessionStatus
from ctworkflow.effects import nofollow, repository_layout
from ctworkflow.effects.git import redact
from ctworkflow.workflow import branch, environment, recording, reuse
from ctworkflow.workflow.children import ensure_children
from ctworkflow.workflow.effects import Effects

logger = logging.getLogger(__name__)


# -- initialize ---------------------------------------------------------------------------


def initialize(scope: model.Scope, session_id: uuid.UUID, attempt: int, fx: Effects) -> bool:
    """Record the base commit and the branch name, and create the branch on the remote.

    Returns whether this call recorded the step's outcome (and so should move the session on).
    """
    start = recording.begin(
        fx.transactions,
        scope,
        session_id,
        ParentStep.INITIALIZE,
        attempt,
        model.Command(keyword="initialize"),
    )
    if start is None:
        return False
    session = start.session
    with fx.transactions() as uow:
        project = uow.catalog.get_project(scope.account_id, scope.project_id)
        context = uow.catalog.get_component(scope, session.component_id)
    remote = redact(project.code_repo)
    try:
        branch_name = branch.choose(fx, scope, session, context)
        with fx.transactions() as uow:
            holders = uow.sessions.branch_holders(scope, branch_name, besides=session.id)
        clash = [h for h in holders if h.component_id != session.component_id]
        if clash:  # two first sessions of colliding contexts, at the same time
            raise errors.StepFailed(
                f"branch {branch_name} is already used by session {clash[0].id} of another context"
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
        built = _environment_at_base(fx, project, base, profile)
        state = {
            **session.state,
            repository_layout.STATE_KEY: layout,
            environment.STATE_KEY: built,
        }
        with fx.transactions() as uow:  # recorded before the push: a redelivery knows it is ours
            uow.sessions.update_session(
                scope,
                session.id,
                only_if=SessionStatus.ACTIVE,
                branch_name=branch_name,
                base_commit=base,
                state=state,
            )
        claimed = branch.claim(fx, scope, session, project.code_repo, branch_name, base)
        branch.record_state(fx, scope, session, claimed)
    except errors.CtWorkflowError as error:
        permanent = not errors.is_transient(error)
        with fx.transactions() as uow:
            return recording.finish(
                uow, scope, start, model.Outcome.error(str(error)), fail_session=permanent
            )
    head = claimed.get(branch.HEAD_KEY)
    taken_over = head is not None and head != base
    command = model.Command(
        argv=("git", "push", remote, f"{base}:refs/heads/{branch_name}"),
        metadata={"branch_name": branch_name, "base_commit": base, "branch_head": head},
    )
    data = {
        "branch_name": branch_name,
        "base_commit": base,
        "branch_head": head,
        "layout": profile.describe(),
        "environment": built["build"],
    }
    if taken_over:
        data["taken_over"] = True
        command = model.Command(keyword="take_over_branch", metadata=command.metadata)
    with fx.transactions() as uow:
        return recording.finish(uow, scope, start, model.Outcome.ok(data=data), command=command)


def _environment_at_base(
    fx: Effects, project: model.Project, base: str, profile: LayoutProfile
) -> dict[str, Any]:
    """Decide the session's environment recipe at the base commit and build it on this host
    (so a recipe that cannot build fails the session now, with the installer's reason).

    Raises:
        EnvironmentUnavailable: it cannot be built.
        InvalidLayout, InvalidInput: a configuration file or the project's setting is wrong.
    """
    fx.git.mirror(project.code_repo, need=base)
    with fx.git.workspace(project.code_repo, base) as workspace:
        recipe = environment.recipe_for(project, workspace)
        with environment.prepared(fx, project, recipe, profile, workspace) as ready:
            return {"recipe": recipe.to_json(), "build": ready.record}


def _over_budget(
    fx: Effects, scope: model.Scope, project: model.Project, children: Sequence[model.Session]
) -> str | None:
    """Why the session starts no new round because of its budget, or None."""
    if budgets.budget(project.settings, budgets.SESSION_BUDGET) is None:
        return None
    with fx.transactions() as uow:
        steps = uow.sessions.interactions_of(scope, [c.id for c in children])
    spent = agent_runs.usage(step for found in steps.values() for step in found)
    return budgets.session_over_budget(spent, project.settings)


# -- spawn --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class FanOut:
    """The children a spawn round runs, out of all the context's children."""

    attempt: int
    child_ids: list[uuid.UUID]
    run_ids: list[uuid.UUID]


def spawn(scope: model.Scope, session_id: uuid.UUID, attempt: int, fx: Effects) -> FanOut | None:
    """Get or create the children and choose who runs this round; None if nothing to do.

    Round 1 runs every child. A later round runs only the children that did not pass,
    each handed the reason it failed, plus children of components added since.
    """
    start = recording.begin(
        fx.transactions,
        scope,
        session_id,
        ParentStep.SPAWN_COMPONENT_TESTING_SESSIONS,
        attempt,
        model.Command(keyword="spawn_sessions"),
    )
    if start is None:
        return None
    if attempt == 1:  # components unchanged since a complete session keep its tests
        reuse.keep_verified(fx, scope, session_id)
    with fx.transactions() as uow:
        children = ensure_children(uow, scope, session_id)
        if not children:
            context = uow.catalog.get_component(scope, start.session.component_id)
            message = f"context {context.module_name} has no components to test"
            recording.finish(uow, scope, start, model.Outcome.error(message), fail_session=True)
            return None
        # Validation failed every child it did not pass: a complete child passed, and keeps
        # its artifact; nothing leaves ``complete`` to run again. A child that failed
        # permanently does not run again either.
        plan = rounds.plan_round(children, _previous_failures(uow, scope, session_id, attempt))
        # Set-based: one UPDATE per status left, one for the round, one executemany of the
        # states that carry feedback; never a statement per child.
        for status, ids in plan.reactivate.items():
            uow.sessions.set_status(scope, ids, expected=status, target=SessionStatus.ACTIVE)
        run_ids = [c.id for c in plan.run]
        uow.sessions.start_round(scope, attempt, session_ids=run_ids, states=plan.states)
        uow.sessions.update_session(scope, session_id, attempt=attempt)
        child_ids = [c.id for c in children]
        record = rounds.FanOutRecord(child_ids=child_ids, run_ids=run_ids)
        uow.sessions.update_interaction_command(scope, start.interaction, record.command())
    return FanOut(attempt=attempt, child_ids=child_ids, run_ids=run_ids)


def _previous_failures(
    uow: ports.UnitOfWork, scope: model.Scope, session_id: uuid.UUID, attempt: int
) -> dict[uuid.UUID, str]:
    if attempt <= 1:
        return {}
    previous = uow.sessions.find_interaction(
        scope, session_id, step=ParentStep.SPAWN_COMPONENT_TESTING_SESSIONS, attempt=attempt - 1
    )
    if previous is None or previous.outcome is None:
        return {}
    return validation.feedback_by_child(validation.failures_of(previous.outcome.data))


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
    with fx.transactions() as uow:
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
    assert session.base_commit is not None, "initialize records the base commit"
    try:
        checked = run_tests_here(
            fx, project, session.base_commit, to_run, session.runner, state=session.state
        )
    except errors.CtWorkflowError as error:  # e.g. the remote is unreachable: blame no test
        reports = {a.test_path: model.TestReport(errors=1, output_tail=str(error)) for a in to_run}
        checked = Checked(after=reports)
    disproved = validation.disproved(components, children, to_run, checked.after, checked.base)
    failures += disproved
    start = recording.StepStart(session=session, interaction=interaction)
    # What lands if the round lands: every artifact that passed (all of them, or none, under
    # the ``all`` policy).
    lost = {f.child_id for f in disproved}
    passing = [a for a in to_run if a.session_id not in lost]
    kept = validation.kept(passing, checked.base_contents)
    # A session whose agents spent its budget makes this round its last.
    over = _over_budget(fx, scope, project, children) if failures else None
    outcome, give_up = validation.verdict(
        failures,
        len(components),
        {a.test_path: checked.after[a.test_path] for a in passing if a.test_path in checked.after},
        [{"test_path": a.test_path, "summary": regression.kept_summary(a.report)} for a in kept],
        policy=landing.policy_of(project.settings),
        last_round=attempt >= session.max_attempts or over is not None,
    )
    if over is not None and outcome.status is ResultStatus.ERROR:
        outcome = dataclasses.replace(outcome, error_message=f"{over}; {outcome.error_message}")
        give_up = True
    with fx.transactions() as uow:
        for failure in failures:  # a child that said complete but did not pass is failed
            if failure.child_id is not None:
                uow.sessions.set_status(
                    scope,
                    [failure.child_id],
                    expected=SessionStatus.COMPLETE,
                    target=SessionStatus.FAILED,
                    error=failure.reason,
                )
        # Every failure left is one no round can change: fail now, not after the rounds left.
        recorded = recording.finish(uow, scope, start, outcome, fail_session=give_up)
    return Verdict.RECORDED if recorded else Verdict.IGNORED


@dataclass(frozen=True, slots=True, kw_only=True)
class Checked:
    """The orchestrator's own test runs of a round."""

    #: Every artifact's test file with the round's change applied, by test path.
    after: dict[str, model.TestReport]
    #: The test files that existed at the base, run there, unchanged.
    base: dict[str, model.TestReport] = field(default_factory=dict)
    #: Their content at the base.
    base_contents: dict[str, str] = field(default_factory=dict)


def run_tests_here(
    fx: Effects,
    project: model.Project,
    base_commit: str,
    artifacts: Sequence[model.Artifact],
    runner_name: str | None = None,
    *,
    state: Mapping[str, Any] | None = None,
) -> Checked:
    """Run, in a workspace of the base commit and in the session's environment (``state``:
    the session's, which holds its recipe and layout), the test files that exist there (the
    regression gate's base), then every artifact's test file with all artifacts applied."""
    if not artifacts:
        return Checked(after={})
    runner = fx.runner(project, runner_name)
    timeout_s = fx.settings.test_timeout_s
    state = state or {}
    profile = repository_layout.session_profile(state, base_commit)
    fx.git.mirror(project.code_repo, need=base_commit)
    with (
        fx.git.workspace(project.code_repo, base_commit) as workspace,
        environment.prepared(
            fx,
            project,
            environment.session_recipe(state) or environment.recipe_for(project, workspace),
            profile,
            workspace,
        ) as ready,
    ):
        env = ready.environment
        contents: dict[str, str] = {}
        for artifact in artifacts:
            text = _base_text(workspace, artifact.test_path, fx.settings)
            if text is not None:
                contents[artifact.test_path] = text
        base = (
            runner.run(workspace, list(contents), timeout_s=timeout_s, environment=env)
            if contents
            else {}
        )
        refused = _apply(workspace, artifacts, fx.settings)
        runnable = [a.test_path for a in artifacts if a.test_path not in refused]
        after = (
            runner.run(workspace, runnable, timeout_s=timeout_s, environment=env)
            if runnable
            else {}
        )
    return Checked(after={**after, **refused}, base=base, base_contents=contents)


def _base_text(workspace: Path, test_path: str, settings: Settings) -> str | None:
    """The test file at the base, if there is a regular one (a link is refused by _apply)."""
    try:
        return nofollow.read_text(
            workspace,
            test_path,
            max_bytes=settings.max_test_file_bytes,
            setting="CTW_MAX_TEST_FILE_BYTES",
        )
    except (OSError, errors.UnsafeFile, errors.LimitExceeded):
        return None


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
    """Commit the test files that changed on the branch and push it, exactly once.

    The commit goes on the base, and the push has a lease on the branch head initialize saw
    (a branch taken over from an ended session of the context is rebuilt on the new base).
    Test files kept exactly as they were are not committed; when every component kept its
    file there is nothing to commit, the session completes without a commit, and the branch
    it created is deleted again (:func:`ctworkflow.workflow.branch.release`).

    Returns whether this call recorded the step's outcome.
    """
    start = recording.begin(
        fx.transactions,
        scope,
        session_id,
        ParentStep.FINALIZE,
        attempt,
        model.Command(keyword="finalize"),
    )
    if start is None:
        return False
    session = start.session
    with fx.transactions() as uow:
        project = uow.catalog.get_project(scope.account_id, scope.project_id)
        context = uow.catalog.get_component(scope, session.component_id)
        children = uow.sessions.children(scope, session_id)
        components = uow.catalog.components_by_id(scope, [c.component_id for c in children])
        # Only the children that passed land: every one under the ``all`` policy, and under
        # ``passing`` those validation did not fail (see :mod:`ctworkflow.domain.landing`).
        passed = [c for c in children if c.status is SessionStatus.COMPLETE]
        artifacts = uow.sessions.latest_artifacts(scope, [c.id for c in passed])
    entries = [
        commits.Entry(
            name=components[c.component_id].name,
            module_name=components[c.component_id].module_name,
            test_path=artifacts[c.id].test_path,
        )
        for c in passed
        if c.id in artifacts
    ]
    failed = [
        commits.Left(
            name=components[c.component_id].name,
            module_name=components[c.component_id].module_name,
            reason=landing.first_line(c.error or c.status.value),
        )
        for c in children
        if c.status is not SessionStatus.COMPLETE
    ]

    def message_for(paths: Sequence[str]) -> str:
        committed = [e for e in entries if e.test_path in paths]
        return commits.commit_message(context.name, session_id, committed, failed)

    try:
        pushed = _commit_and_push(fx, project, session, list(artifacts.values()), message_for)
    except errors.CtWorkflowError as error:
        permanent = not errors.is_transient(error)
        with fx.transactions() as uow:
            return recording.finish(
                uow, scope, start, model.Outcome.error(str(error)), fail_session=permanent
            )
    metadata = {"branch_name": session.branch_name, "committed_files": pushed.files}
    data: dict[str, Any] = {"commit": pushed.commit, "files": pushed.files, "kept": pushed.kept}
    if failed:
        data["landed"] = [e.module_name for e in entries]
        data["failed"] = [{"module_name": e.module_name, "reason": e.reason} for e in failed]
    if pushed.commit is None:
        data["summary"] = "nothing to commit: every component kept its existing test file"
        command = model.Command(keyword="finalize", metadata=metadata)
    else:
        refspec = f"{pushed.commit}:refs/heads/{session.branch_name}"
        command = model.Command(
            argv=("git", "push", redact(project.code_repo), refspec), metadata=metadata
        )
    with fx.transactions() as uow:
        recorded = recording.finish(uow, scope, start, model.Outcome.ok(data=data), command=command)
        if recorded and pushed.commit is not None:
            uow.sessions.update_session(scope, session_id, pushed_commit=pushed.commit)
        return recorded


@dataclass(frozen=True, slots=True, kw_only=True)
class Pushed:
    """What finalize left on the branch: its commit (None: nothing to commit), the test files
    in it, and the ones kept exactly as they were at the base."""

    commit: str | None
    files: list[str]
    kept: list[str]


def _commit_and_push(
    fx: Effects,
    project: model.Project,
    session: model.Session,
    artifacts: Sequence[model.Artifact],
    message_for: Callable[[Sequence[str]], str],
) -> Pushed:
    name, base = session.branch_name, session.base_commit
    assert name is not None and base is not None, "initialize records branch and base"
    # The head initialize saw (sessions from before takeovers were recorded: the base).
    expected: str | None = session.state.get(branch.HEAD_KEY, base)
    remote = project.code_repo
    head = fx.git.remote_head(remote, name)
    fx.git.mirror(remote, need=base)
    with fx.git.workspace(remote, base) as workspace:
        refused = _apply(workspace, artifacts, fx.settings)
        if refused:
            raise errors.StepFailed("; ".join(r.output_tail for r in refused.values()))
        paths = {a.test_path for a in artifacts}
        files = sorted(paths & set(fx.git.changed_paths(workspace)))
        kept = sorted(paths - set(files))

        def ours(commit: str) -> bool:
            return branch.pushed_by(fx, remote, commit, session.id)

        match commits.landing(head, expected, ours):
            case commits.Landing.ALREADY_PUSHED:  # pushed before a crash
                return Pushed(commit=head, files=files, kept=kept)
            case commits.Landing.MOVED:
                seen = expected[:12] if expected else "absent"
                raise errors.StepFailed(
                    f"branch {name} moved to {str(head)[:12]} on the remote, expected {seen}; "
                    "not overwriting"
                )
        if not files:
            return Pushed(commit=None, files=[], kept=kept)
        for path in files:
            check_relative_path(path, "test path")
        commit = fx.git.commit_all(workspace, files, message_for(files))
        try:
            fx.git.push(workspace, remote, name, commit, expected_head=head)
        except (errors.GitError, errors.GitRefused):
            # A twin delivery of this step may have pushed first: then its commit stands.
            now = fx.git.remote_head(remote, name)
            if now and now != head and branch.pushed_by(fx, remote, now, session.id):
                return Pushed(commit=now, files=files, kept=kept)
            raise
    return Pushed(commit=commit, files=files, kept=kept)
