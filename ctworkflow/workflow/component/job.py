"""What a component run reads once from the database (in its claim, :mod:`.claim`), and its
component's paths at the base."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ctworkflow.domain import model
from ctworkflow.domain.repository.environments import Recipe
from ctworkflow.domain.repository.layout_profile import LayoutProfile
from ctworkflow.effects import repository_layout
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
