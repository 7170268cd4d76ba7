"""Component discovery, the use case: read a project's repository and register what it holds.

The repository is read at the head of the remote's default branch, from the worker's mirror
(:class:`ctworkflow.effects.git.Git`); nothing is checked out. Running it again after the code
changed adds new modules, follows renamed files (git's rename detection against the commit read
last time), and marks vanished modules removed. Removed components keep their rows, so sessions
that ran on them keep their history; a module that comes back gets its old row again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from ctworkflow import errors
from ctworkflow.config import get_settings
from ctworkflow.domain import model
from ctworkflow.domain.repository import discovery, elixir_layout, python_scan
from ctworkflow.domain.repository.layout_profile import LayoutProfile
from ctworkflow.domain.repository.layouts import Layout
from ctworkflow.effects import repository_layout
from ctworkflow.effects.git import Git
from ctworkflow.persistence.db import UnitOfWork, unit_of_work
from ctworkflow.services import catalog

logger = logging.getLogger(__name__)

#: Extended regex of the lines discovery reads of an Elixir file: those that open a module, and
#: those that define a public function (a library's main module with them is a component too).
DEFMODULE_LINE = r"^[[:space:]]*(defmodule|def)[[:space:]]"


@dataclass(frozen=True, slots=True, kw_only=True)
class Renamed:
    """A component that moved to another module; it kept its id and its sessions."""

    old_module: str
    new_module: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DiscoveryReport:
    """What one discovery run changed in a project's components (module names, sorted)."""

    commit: str
    added: tuple[str, ...]
    renamed: tuple[Renamed, ...]
    removed: tuple[str, ...]
    unchanged: tuple[str, ...]
    skipped: tuple[discovery.Skipped, ...]
    #: The layout profile of the commit read (where packages are, where tests go).
    profile: LayoutProfile | None = None
    #: Every component found, with its test file: (module, test path, whether it exists).
    tests: tuple[tuple[str, str, bool], ...] = ()

    def to_json(self) -> dict[str, object]:
        """The report as JSON-safe data (for ``--json`` output)."""
        return {
            "commit": self.commit,
            "added": list(self.added),
            "renamed": [{"from": r.old_module, "to": r.new_module} for r in self.renamed],
            "removed": list(self.removed),
            "unchanged": list(self.unchanged),
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "layout": self.profile.to_json() if self.profile else None,
            "tests": [
                {"module": module, "test_path": path, "exists": exists}
                for module, path, exists in self.tests
            ],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RepositoryScan:
    """A scan of one commit, with the renames since the commit read last time."""

    commit: str
    scan: discovery.Scan
    renamed_paths: dict[str, str]
    profile: LayoutProfile


def discover_components(scope: model.Scope) -> DiscoveryReport:
    """Register the contexts and components found at the head of the project's default branch.

    Run again after the code changed, it adds new modules, renames the components whose files
    git sees as renamed, and marks vanished ones removed; sessions are never touched.

    Raises:
        ProjectNotFound: the scope's project does not exist.
        InvalidInput: the remote has no default branch.
        NothingDiscovered: no context was found (the message says why); nothing is written.
        InvalidLayout: the repository's configuration cannot be used (a package path outside
            it, a symlinked source or test file pointing out of it, a test path that is a
            folder); nothing is written.
        GitError: the remote cannot be read.
    """
    with unit_of_work() as uow:
        project = catalog.get_project(uow, scope)
    read = read_repository(Git(get_settings().workspaces), project)
    with unit_of_work() as uow:
        return apply_scan(uow, scope, read)


def read_repository(git: Git, project: model.Project) -> RepositoryScan:
    """Scan the head of the project's default branch on its remote, under its layout profile.

    Raises:
        InvalidInput: the remote has no such branch.
        NothingDiscovered: no context was found; the message says why.
        InvalidLayout: the configuration does not parse or leads out of the repository, a
            component's source or test file is a symlink out of it, or a test path is a folder.
        GitError: the remote cannot be read.
    """
    commit = git.remote_head(project.code_repo, project.default_branch)
    if commit is None:
        raise errors.InvalidInput(
            f"the remote of project {project.name!r} has no branch {project.default_branch!r}"
        )
    profile, tree = repository_layout.detect(git, project, commit)
    sources: dict[str, str] = {}
    if project.layout is Layout.PHOENIX:
        candidates = elixir_layout.candidates(profile, tree)
        lines = git.matching_lines(project.code_repo, commit, DEFMODULE_LINE, candidates)
        sources = {path: "\n".join(found) for path, found in lines.items()}
    else:
        inits = python_scan.own_code_candidates(profile, tree)
        lines = git.matching_lines(project.code_repo, commit, python_scan.OWN_CODE_LINE, inits)
        sources = {path: "\n".join(found) for path, found in lines.items()}
    scan = discovery.scan(profile, tree, sources)
    if scan.nothing_found is not None:
        raise errors.NothingDiscovered(f"nothing to test at {commit[:12]}: {scan.nothing_found}")
    renamed: dict[str, str] = {}
    if project.discovered_commit and project.discovered_commit != commit:
        renamed = git.renamed_paths(project.code_repo, project.discovered_commit, commit)
    return RepositoryScan(commit=commit, scan=scan, renamed_paths=renamed, profile=profile)


def apply_scan(uow: UnitOfWork, scope: model.Scope, read: RepositoryScan) -> DiscoveryReport:
    """Bring the project's components in line with a scan; contexts before their modules.

    Its first statement writes the project's row, which holds that row's lock (SQLite: the
    database's write lock) to the end of the transaction: discoveries of one project apply one
    after the other, each planning from what the one before registered.
    """
    uow.catalog.set_discovered_commit(scope, read.commit)
    catalog.get_project(uow, scope)  # in scope, or ProjectNotFound
    registered = uow.catalog.list_components(scope, include_removed=True)
    plan = discovery.plan(read.profile, read.scan, registered, read.renamed_paths)
    now = datetime.now(UTC)
    for component in plan.removed:
        uow.catalog.update_component(scope, component.id, removed_at=now)
    ids: dict[str, model.Component] = {c.module_name: c for c, _ in plan.unchanged}
    for rename in plan.renamed:
        ids[rename.to.module_name] = uow.catalog.update_component(
            scope,
            rename.component.id,
            module_name=rename.to.module_name,
            name=rename.to.name,
        )
    for found in read.scan.found:  # contexts come first, so a module's parent is known
        parent = ids[found.parent_module].id if found.parent_module else None
        current = ids.get(found.module_name)
        if current is None:
            ids[found.module_name] = catalog.add_component(
                uow,
                scope,
                name=found.name,
                module_name=found.module_name,
                type=found.type,
                parent_id=parent,
            )
        elif current.parent_id != parent or _kind(current.type) != _kind(found.type):
            kind = current.type if _kind(current.type) == _kind(found.type) else found.type
            uow.catalog.update_component(scope, current.id, parent_id=parent, type=kind)
    report = DiscoveryReport(
        commit=read.commit,
        added=tuple(sorted(f.module_name for f in plan.added)),
        renamed=tuple(
            sorted(
                (
                    Renamed(old_module=r.component.module_name, new_module=r.to.module_name)
                    for r in plan.renamed
                ),
                key=lambda r: r.old_module,
            )
        ),
        removed=tuple(sorted(c.module_name for c in plan.removed)),
        unchanged=tuple(sorted(c.module_name for c, _ in plan.unchanged)),
        skipped=read.scan.skipped,
        profile=read.profile,
        tests=tuple(
            (f.module_name, f.test_path, f.test_exists) for f in read.scan.found if f.test_path
        ),
    )
    logger.info(
        "discovered components",
        extra={"action": "discover", "project_id": str(scope.project_id), "commit": read.commit},
    )
    return report


def _kind(component_type: str) -> str:
    """``context`` for every context type, else ``module``."""
    return discovery.CONTEXT if component_type in catalog.CONTEXT_TYPES else discovery.MODULE
