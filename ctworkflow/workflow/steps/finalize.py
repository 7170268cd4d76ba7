"""The last step of a context testing session: commit the test files that changed on the
branch and push it, exactly once."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ctworkflow import errors, ports
from ctworkflow.domain import changes, commits, model
from ctworkflow.domain.inputs import check_relative_path
from ctworkflow.domain.states import ParentStep, SessionStatus
from ctworkflow.effects.git import redact
from ctworkflow.workflow import branch, recording, test_files
from ctworkflow.workflow.deps import Deps


def finalize(scope: model.Scope, session_id: uuid.UUID, attempt: int, deps: Deps) -> bool:
    """Commit the test files that changed on the branch and push it, exactly once.

    The commit goes on the base, and the push has a lease on the branch head initialize saw
    (a branch taken over from an ended session of the context is rebuilt on the new base).
    Test files kept exactly as they were are not committed; when every component kept its
    file there is nothing to commit, the session completes without a commit, and the branch
    it created is deleted again (:func:`ctworkflow.workflow.branch.release`).

    Returns whether this call recorded the step's outcome.
    """
    start = recording.begin(
        deps.transactions,
        scope,
        session_id,
        ParentStep.FINALIZE,
        attempt,
        model.Command(keyword="finalize"),
    )
    if start is None:
        return False
    session = start.session
    with deps.transactions() as uow:
        project = uow.catalog.get_project(scope.account_id, scope.project_id)
        context = uow.catalog.get_component(scope, session.component_id)
        children = uow.sessions.round_children(scope, session_id)
        components = _components_of(uow, scope, session.component_id, children)
        # Only the children that passed land: every one under the ``all`` policy, and under
        # ``passing`` those validation did not fail (see :mod:`ctworkflow.domain.landing`).
        passed = [c for c in children if c.status is SessionStatus.COMPLETE]
        # Heads only: the test files are read a page at a time as they are written.
        newest = uow.sessions.round_artifact_heads(scope, session_id)
        artifacts = {c.id: newest[c.id] for c in passed if c.id in newest}
    entries = commits.landed(passed, components, artifacts)
    failed = commits.left_out(children, components)

    def message_for(paths: Sequence[str]) -> str:
        wanted = set(paths)
        committed = [e for e in entries if e.test_path in wanted]
        return commits.commit_message(context.name, session_id, committed, failed)

    try:
        heads = list(artifacts.values())
        pushed = _commit_and_push(deps, scope, project, session, heads, message_for)
    except errors.CtWorkflowError as error:
        permanent = not errors.is_transient(error)
        with deps.transactions() as uow:
            return recording.finish(
                uow, scope, start, model.Outcome.error(str(error)), fail_session=permanent
            )
    command, data = _record_of(pushed, project, session, entries, failed)
    with deps.transactions() as uow:
        recorded = recording.finish(uow, scope, start, model.Outcome.ok(data=data), command=command)
        if recorded and pushed.commit is not None:
            uow.sessions.update_session(scope, session_id, pushed_commit=pushed.commit)
        return recorded


def _components_of(
    uow: ports.UnitOfWork,
    scope: model.Scope,
    context_id: uuid.UUID,
    children: Sequence[model.RoundChild],
) -> dict[uuid.UUID, model.Component]:
    """The components of the children, by id: the context's, read by their parent (not by a
    list of every child's), and any a child has that the context no longer lists."""
    components = {c.id: c for c in uow.catalog.child_components(scope, context_id)}
    missing = [c.component_id for c in children if c.component_id not in components]
    if missing:
        components |= uow.catalog.components_by_id(scope, missing)
    return components


@dataclass(frozen=True, slots=True, kw_only=True)
class Pushed:
    """What finalize left on the branch: its commit (None: nothing to commit), the test files
    in it, and the ones kept exactly as they were at the base."""

    commit: str | None
    files: list[str]
    kept: list[str]


def _record_of(
    pushed: Pushed,
    project: model.Project,
    session: model.Session,
    entries: Sequence[commits.Entry],
    failed: Sequence[commits.Left],
) -> tuple[model.Command, dict[str, Any]]:
    """The command and the outcome's data finalize records."""
    metadata = {"branch_name": session.branch_name, "committed_files": pushed.files}
    data: dict[str, Any] = {"commit": pushed.commit, "files": pushed.files, "kept": pushed.kept}
    if failed:
        data["landed"] = [e.module_name for e in entries]
        data["failed"] = [{"module_name": e.module_name, "reason": e.reason} for e in failed]
    if pushed.commit is None:
        data["summary"] = "nothing to commit: every component kept its existing test file"
        return model.Command(keyword="finalize", metadata=metadata), data
    refspec = f"{pushed.commit}:refs/heads/{session.branch_name}"
    command = model.Command(
        argv=("git", "push", redact(project.code_repo), refspec), metadata=metadata
    )
    return command, data


def _commit_and_push(
    deps: Deps,
    scope: model.Scope,
    project: model.Project,
    session: model.Session,
    artifacts: Sequence[model.ArtifactHead],
    message_for: Callable[[Sequence[str]], str],
) -> Pushed:
    """Commit the changed test files on the base and push them with a lease on the head
    initialize saw; a push a twin delivery of this step made first stands.

    Raises:
        StepFailed: a test file is refused, or the branch moved under the session.
        GitError, GitRefused: the push failed.
    """
    name, base = session.branch_name, session.base_commit
    assert name is not None and base is not None, "initialize records branch and base"
    # The head initialize saw (sessions from before takeovers were recorded: the base).
    expected: str | None = session.state.expected_head(base)
    remote = project.code_repo
    head = deps.git.remote_head(remote, name)
    deps.git.mirror(remote, need=base)
    with deps.git.workspace(remote, base) as workspace:
        written = test_files.stored(deps.transactions, scope, artifacts)
        refused = test_files.write_artifacts(workspace, written, deps.settings)
        if refused:
            raise errors.StepFailed("; ".join(r.output_tail for r in refused.values()))
        paths = {a.test_path for a in artifacts}
        files, kept = changes.committed_and_kept(paths, deps.git.changed_paths(workspace))

        def ours(commit: str) -> bool:
            return branch.pushed_by(deps, remote, commit, session.id)

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
        commit = deps.git.commit_all(workspace, files, message_for(files))
        try:
            deps.git.push(workspace, remote, name, commit, expected_head=head)
        except (errors.GitError, errors.GitRefused):
            # A twin delivery of this step may have pushed first: then its commit stands.
            now = deps.git.remote_head(remote, name)
            if now and now != head and branch.pushed_by(deps, remote, now, session.id):
                return Pushed(commit=now, files=files, kept=kept)
            raise
    return Pushed(commit=commit, files=files, kept=kept)
