"""The first step of a context testing session: record the base commit and the branch name,
decide the layout and the environment at the base, and create the branch on the remote."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from ctworkflow import errors
from ctworkflow.domain import branches, model
from ctworkflow.domain.repository.layout_profile import LayoutProfile
from ctworkflow.domain.session_state import BranchHead, StatePatch
from ctworkflow.domain.states import ParentStep, SessionStatus
from ctworkflow.effects import repository_layout
from ctworkflow.effects.git import redact
from ctworkflow.workflow import branch, environment, recording
from ctworkflow.workflow.deps import Deps


@dataclass(frozen=True, slots=True, kw_only=True)
class Created:
    """The branch initialize created (or took over) and what it decided at its base."""

    branch_name: str
    base: str
    #: The branch head it found on the remote (None: it created the branch).
    head: str | None
    profile: LayoutProfile
    #: The environment built at the base, as recorded.
    build: Any


def initialize(scope: model.Scope, session_id: uuid.UUID, attempt: int, deps: Deps) -> bool:
    """Record the base commit and the branch name, and create the branch on the remote.

    Returns whether this call recorded the step's outcome (and so should move the session on).
    """
    start = recording.begin(
        deps.transactions,
        scope,
        session_id,
        ParentStep.INITIALIZE,
        attempt,
        model.Command(keyword="initialize"),
    )
    if start is None:
        return False
    with deps.transactions() as uow:
        project = uow.catalog.get_project(scope.account_id, scope.project_id)
        context = uow.catalog.get_component(scope, start.session.component_id)
    try:
        created = _create_branch(deps, scope, start.session, project, context)
    except errors.CtWorkflowError as error:
        permanent = not errors.is_transient(error)
        with deps.transactions() as uow:
            return recording.finish(
                uow, scope, start, model.Outcome.error(str(error)), fail_session=permanent
            )
    command, data = _record_of(created, redact(project.code_repo))
    with deps.transactions() as uow:
        return recording.finish(uow, scope, start, model.Outcome.ok(data=data), command=command)


def _create_branch(
    deps: Deps,
    scope: model.Scope,
    session: model.Session,
    project: model.Project,
    context: model.Component,
) -> Created:
    """Choose the branch, record it with the base and what was decided there, then claim it.

    Raises:
        CtWorkflowError: the step failed (permanent unless transient).
    """
    remote = redact(project.code_repo)
    branch_name = branch.choose(deps, scope, session, context)
    with deps.transactions() as uow:
        holders = uow.sessions.branch_holders(scope, branch_name, besides=session.id)
    clash = [h for h in holders if h.component_id != session.component_id]
    if clash:  # two first sessions of colliding contexts, at the same time
        raise errors.StepFailed(
            f"branch {branch_name} is already used by session {clash[0].id} of another context"
        )
    base = session.base_commit or deps.git.remote_head(project.code_repo, project.default_branch)
    if base is None:
        raise errors.StepFailed(
            f"the remote {remote} has no branch {project.default_branch} to start from"
        )
    # The paths every component of this session uses follow its base commit.
    profile = repository_layout.session_profile(session.state, base)
    if profile is None:
        profile, _tree = repository_layout.detect(deps.git, project, base)
    layout = repository_layout.session_state(profile, base)
    built = _environment_at_base(deps, project, base, profile)
    state = StatePatch(layout=layout, environment=built)
    with deps.transactions() as uow:  # recorded before the push: a redelivery knows it is ours
        recorded = uow.sessions.update_session(
            scope,
            session.id,
            only_if=SessionStatus.ACTIVE,
            branch_name=branch_name,
            base_commit=base,
            state=state,
        )
    if not recorded:  # cancelled meanwhile: no branch, and a retry runs this step again
        raise errors.StepFailed(f"session {session.id} ended while it was being initialized")
    claimed = branch.claim(deps, scope, session, project.code_repo, branch_name, base)
    branch.record_state(deps, scope, session, claimed)
    head = claimed.branch_head.commit if isinstance(claimed.branch_head, BranchHead) else None
    return Created(
        branch_name=branch_name, base=base, head=head, profile=profile, build=built["build"]
    )


def _record_of(created: Created, remote: str) -> tuple[model.Command, dict[str, Any]]:
    """The command and the outcome's data initialize records (``remote`` redacted)."""
    name, base, head = created.branch_name, created.base, created.head
    command = model.Command(
        argv=("git", "push", remote, f"{base}:refs/heads/{name}"),
        metadata={"branch_name": name, "base_commit": base, "branch_head": head},
    )
    data = {
        "branch_name": name,
        "base_commit": base,
        "branch_head": head,
        "layout": created.profile.describe(),
        "environment": created.build,
    }
    if branches.taken_over(head, base):
        data["taken_over"] = True
        command = model.Command(keyword="take_over_branch", metadata=command.metadata)
    return command, data


def _environment_at_base(
    deps: Deps, project: model.Project, base: str, profile: LayoutProfile
) -> dict[str, Any]:
    """Decide the session's environment recipe at the base commit and build it on this host
    (so a recipe that cannot build fails the session now, with the installer's reason).

    Raises:
        EnvironmentUnavailable: it cannot be built.
        InvalidLayout, InvalidInput: a configuration file or the project's setting is wrong.
    """
    deps.git.mirror(project.code_repo, need=base)
    with deps.git.workspace(project.code_repo, base) as workspace:
        recipe = environment.recipe_for(project, workspace)
        with environment.prepared(deps, project, recipe, profile, workspace) as ready:
            return {"recipe": recipe.to_json(), "build": ready.record}
