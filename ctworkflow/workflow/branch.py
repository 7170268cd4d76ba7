"""A context session's branch on the remote: choose it, claim it, take it over, release it.

The decisions are pure (:mod:`ctworkflow.domain.naming`, :mod:`ctworkflow.domain.branches`);
this module reads the database and the remote for them and carries them out.

- **Choose**: the seed's name, or the collision rule's when another context uses it.
- **Claim** (initialize): a missing branch is created at the base; an existing one is taken
  over when every commit it holds beyond the base was made by ctworkflow for an ended session
  of this context, and never otherwise. The head seen is recorded (``branch_head`` in the
  session's state): finalize rebuilds the branch on the base and pushes with a lease on it.
- **Release** (a session that ended without a commit on it): the branch is deleted, with a
  lease, when the session created it and it still points at the base.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, Final

from ctworkflow import errors
from ctworkflow.domain import branches, commits, model, naming
from ctworkflow.domain.states import SessionStatus
from ctworkflow.effects.git import redact
from ctworkflow.workflow.deps import Deps

logger = logging.getLogger(__name__)

#: Keys of a context session's state this module owns.
HEAD_KEY: Final = "branch_head"  # the branch head initialize saw: finalize's lease
CREATED_KEY: Final = "created_branch"  # this session created the branch
DELETED_KEY: Final = "branch_deleted"  # and deleted it again, empty, when it ended


def choose(deps: Deps, scope: model.Scope, session: model.Session, context: model.Component) -> str:
    """The branch of the session's context: the one it recorded, else the naming rule's."""
    if session.branch_name:
        return session.branch_name
    candidates = naming.branch_candidates(context.name, context.module_name)
    with deps.transactions() as uow:
        taken = uow.sessions.branches_in_use(scope, candidates, besides_component=context.id)
    return naming.context_branch(context.name, context.module_name, taken=taken)


def claim(
    deps: Deps, scope: model.Scope, session: model.Session, remote: str, branch: str, base: str
) -> dict[str, Any]:
    """Create the branch at ``base``, or check it may be taken over; the state to record.

    Raises:
        ForeignCommits: the branch holds commits that are not this context's to drop.
    """
    head = deps.git.remote_head(remote, branch)
    if head is None:
        # Recorded before the push: a redelivery that finds the branch at the base knows.
        record_state(deps, scope, session, {CREATED_KEY: True})
        try:
            deps.git.create_branch(remote, branch, base)
            return {HEAD_KEY: base, CREATED_KEY: True}
        except errors.BranchExists:
            head = deps.git.remote_head(remote, branch)
            record_state(deps, scope, session, {CREATED_KEY: False})
    if head is None or head == base:
        return {HEAD_KEY: head}
    dropped = [
        branches.BranchCommit.parse(sha, message)
        for sha, message in deps.git.commits_between(remote, head, base)
    ]
    foreign = branches.foreign(dropped, _owned(deps, scope, session, dropped))
    if foreign:
        raise errors.ForeignCommits(branches.refusal(branch, redact(remote), foreign))
    return {HEAD_KEY: head}


def _owned(
    deps: Deps, scope: model.Scope, session: model.Session, dropped: list[branches.BranchCommit]
) -> set[uuid.UUID]:
    """The sessions named by ``dropped`` whose commits this session may drop."""
    named = {c.session_id for c in dropped if c.session_id is not None}
    owned: set[uuid.UUID] = set()
    with deps.transactions() as uow:
        for session_id in named:
            try:
                found: model.Session | None = uow.sessions.get_session(scope, session_id)
            except errors.SessionNotFound:
                found = None
            if branches.may_take_over(
                found, context_id=session.component_id, current_id=session.id
            ):
                owned.add(session_id)
    return owned


def record_state(
    deps: Deps, scope: model.Scope, session: model.Session, values: dict[str, Any]
) -> None:
    """Merge ``values`` into the state of an active session, as it is now in the database."""
    with deps.transactions() as uow:
        current = uow.sessions.get_session(scope, session.id)
        uow.sessions.update_session(
            scope, session.id, only_if=SessionStatus.ACTIVE, state={**current.state, **values}
        )


def pushed_by(deps: Deps, remote: str, commit: str, session_id: uuid.UUID) -> bool:
    """Tell whether ``commit`` is the finalize commit of the session ``session_id``."""
    return commits.session_of(deps.git.commit_message(remote, commit)) == session_id


def release(deps: Deps, scope: model.Scope, session_id: uuid.UUID) -> bool:
    """Delete the branch of an ended session that created it and left nothing on it.

    Best effort and idempotent: returns whether it deleted the branch; a branch that moved,
    or a remote that cannot be reached, is left alone (and logged).
    """
    with deps.transactions() as uow:
        session = uow.sessions.get_session(scope, session_id)
        project = uow.catalog.get_project(scope.account_id, scope.project_id)
    branch, base = session.branch_name, session.base_commit
    created = bool(session.state.get(CREATED_KEY))
    if session.status is SessionStatus.ACTIVE or not created or branch is None:
        return False
    try:
        head = deps.git.remote_head(project.code_repo, branch)
        if not branches.may_delete(session.status, created=created, head=head, base=base):
            return False
        assert head is not None
        deps.git.delete_branch(project.code_repo, branch, expected_head=head)
    except errors.RemoteMoved:
        return False
    except errors.CtWorkflowError as error:
        logger.warning("could not delete the empty branch %s: %s", branch, error)
        return False
    with deps.transactions() as uow:
        uow.sessions.update_session(
            scope,
            session_id,
            state={**session.state, CREATED_KEY: False, DELETED_KEY: True},
        )
    logger.info(
        "deleted the empty branch %s of session %s",
        branch,
        session_id,
        extra={"action": "release_branch", "session_id": str(session_id)},
    )
    return True
