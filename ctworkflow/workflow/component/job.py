"""What a component run reads once from the database, and its component's paths at the base."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass

from ctworkflow.domain import model
from ctworkflow.domain.repository.environments import Recipe
from ctworkflow.domain.repository.layout_profile import LayoutProfile
from ctworkflow.domain.states import SessionStatus
from ctworkflow.effects import repository_layout
from ctworkflow.workflow import environment
from ctworkflow.workflow.deps import Deps


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    """Everything a round needs, read once from the database."""

    scope: model.Scope
    child: model.Session
    project: model.Project
    component: model.Component
    base_commit: str
    attempt_bases: dict[str, int]
    runner: str | None
    #: The layout profile the session detected at its base commit (None: detect it again).
    profile: LayoutProfile | None = None
    #: The environment recipe the session decided at its base commit (None: decide it again).
    recipe: Recipe | None = None
    #: Set once the commit's tree was read (:func:`with_paths`).
    test_path: str = ""
    source_path: str = ""
    #: Whether the base commit already has the test file (the agent extends it).
    test_exists: bool = False
    #: The folder the agent may add support files to, besides the test file.
    support_dir: str = ""


def load(scope: model.Scope, child_id: uuid.UUID, attempt: int, deps: Deps) -> Job | model.Session:
    """The job of round ``attempt``, or the child as it is when it has nothing to run (it ran
    this round already, or was cancelled; a child whose parent ended is cancelled here)."""
    with deps.transactions() as uow:
        child = uow.sessions.get_session(scope, child_id)
        if child.status is not SessionStatus.ACTIVE or child.attempt > attempt:
            return child  # already ran this round (a redelivery), or cancelled
        assert child.parent_id is not None, "a component testing session has a parent"
        parent = uow.sessions.get_session(scope, child.parent_id)
        if parent.status is not SessionStatus.ACTIVE:
            uow.sessions.set_status(
                scope,
                [child.id],
                expected=SessionStatus.ACTIVE,
                target=SessionStatus.CANCELLED,
                error="parent session is no longer active",
            )
            return uow.sessions.get_session(scope, child_id)
        project = uow.catalog.get_project(scope.account_id, scope.project_id)
        component = uow.catalog.get_component(scope, child.component_id)
    assert parent.base_commit is not None, "initialize records the base commit"
    return Job(
        scope=scope,
        child=child,
        project=project,
        component=component,
        base_commit=parent.base_commit,
        attempt_bases={},
        runner=parent.runner,
        profile=repository_layout.session_profile(parent.state, parent.base_commit),
        recipe=environment.session_recipe(parent.state),
    )


def with_paths(job: Job, deps: Deps) -> Job:
    """The job with its component's paths at the base commit, its existing test file found.

    Raises:
        InvalidInput: the paths cannot be used (a symlink out of the repository, a test path
            that is a folder, a module name the layout refuses).
    """
    paths = repository_layout.component_paths(
        deps.git, job.project, job.base_commit, job.component.module_name, job.profile
    )
    return dataclasses.replace(
        job,
        source_path=paths.source,
        test_path=paths.test,
        test_exists=paths.test_exists,
        support_dir=paths.support_dir,
    )
