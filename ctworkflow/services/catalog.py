"""Use cases on tenants and their code: accounts, projects, components.

Every value is checked before anything is written; a bad one raises an ``InvalidInput`` whose
message names it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final, TypeVar

from ctworkflow import errors, ports
from ctworkflow.agents.pynguin import SEARCH_TIME_SETTING, search_time_setting
from ctworkflow.agents.registry import get_agent
from ctworkflow.config import get_settings
from ctworkflow.domain import (
    budgets,
    flakiness,
    id_prefix,
    landing,
    model,
    network,
    quality,
    repositories,
    reuse,
    states,
)
from ctworkflow.domain.inputs import (
    check_branch,
    check_context_name,
    check_name,
    check_priority,
)
from ctworkflow.domain.repository import (
    environment_settings,
    layout_settings,
    layouts,
)
from ctworkflow.effects import sandbox_network
from ctworkflow.persistence.db import UnitOfWork
from ctworkflow.runners.registry import check_runner

T = TypeVar("T")

#: Component types that can be tested as a context.
CONTEXT_TYPES: Final = states.CONTEXT_KINDS


def create_account(uow: UnitOfWork, name: str) -> model.Account:
    """Create a tenant."""
    return uow.catalog.add_account(check_name(name, "account name"))


def account_named(uow: UnitOfWork, name: str) -> model.Account:
    """The oldest account named ``name``, created if there is none."""
    existing = uow.catalog.find_accounts(check_name(name, "account name"))
    return existing[0] if existing else create_account(uow, name)


def list_accounts(uow: UnitOfWork) -> list[model.Account]:
    """Every account (an operator's command: accounts are the tenants themselves)."""
    return uow.catalog.list_accounts()


def find_account(uow: UnitOfWork, account: str) -> model.Account:
    """An account given by id, by name when exactly one account bears it, or by id prefix."""
    text = check_name(account, "account")
    try:
        return uow.catalog.get_account(uuid.UUID(text))
    except ValueError:
        pass
    found = uow.catalog.find_accounts(text)
    if len(found) > 1:
        raise errors.InvalidInput(
            f"{len(found)} accounts are named {text!r}: give the account id instead"
        )
    if found:
        return found[0]
    prefix = id_prefix.parse(text)
    if isinstance(prefix, id_prefix.IdRange):
        matches = uow.catalog.account_ids_between(prefix.low, prefix.high)
        if (account_id := id_prefix.pick(prefix, matches, "account")) is not None:
            return uow.catalog.get_account(account_id)
    raise errors.AccountNotFound(text)


def find_project(uow: UnitOfWork, account_id: uuid.UUID, project: str) -> model.Project:
    """A project of an account, given by id, by name, or by id prefix."""
    return _by_id_or_name(
        check_name(project, "project"),
        lambda project_id: uow.catalog.get_project(account_id, project_id),
        lambda name: uow.catalog.find_project(account_id, name),
        lambda low, high: uow.catalog.project_ids_between(account_id, low, high),
        errors.ProjectNotFound,
    )


def find_component(
    uow: ports.UnitOfWork, scope: model.Scope, component: str, what: str = "component"
) -> model.Component:
    """A component of the scope's project, given by id, by module name, or by id prefix."""
    return _by_id_or_name(
        check_name(component, what),
        lambda component_id: uow.catalog.get_component(scope, component_id),
        lambda module_name: uow.catalog.find_component(scope, module_name),
        lambda low, high: uow.catalog.component_ids_between(scope, low, high),
        errors.ComponentNotFound,
    )


def _by_id_or_name(
    text: str,
    by_id: Callable[[uuid.UUID], T],
    by_name: Callable[[str], T | None],
    ids_between: Callable[[uuid.UUID, uuid.UUID], list[uuid.UUID]],
    missing: Callable[[str], errors.NotFound],
) -> T:
    try:
        key = uuid.UUID(text)
    except ValueError:
        found = by_name(text)
        if found is not None:
            return found
        prefix = id_prefix.parse(text)
        if isinstance(prefix, id_prefix.IdRange):
            kind = missing(text).kind
            matched = id_prefix.pick(prefix, ids_between(prefix.low, prefix.high), kind)
            if matched is not None:
                return by_id(matched)
        raise missing(text) from None
    return by_id(key)


def create_project(
    uow: UnitOfWork,
    account_id: uuid.UUID,
    *,
    name: str,
    code_repo: str,
    layout: str,
    default_branch: str = "main",
    settings: Mapping[str, Any] | None = None,
) -> model.Project:
    """Register a code base of an account: its git remote and layout."""
    checked_name = check_name(name, "project name")
    checked_repo = repositories.check_repository(code_repo)
    _check_local_repository(checked_repo)
    checked_layout = layouts.parse_layout(layout)
    checked_branch = check_branch(default_branch)
    checked_settings = check_project_settings(settings or {})
    uow.catalog.get_account(account_id)
    if uow.catalog.find_project(account_id, checked_name) is not None:
        raise errors.InvalidName(f"project name {checked_name!r} is already taken in this account")
    return uow.catalog.add_project(
        account_id,
        name=checked_name,
        code_repo=checked_repo,
        layout=checked_layout,
        default_branch=checked_branch,
        settings=checked_settings,
    )


def check_project_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Project settings whose agent can be built as configured and whose runner exists, or
    raise InvalidInput."""
    if not isinstance(settings, Mapping):
        raise errors.InvalidInput("project settings must be a mapping")
    checked = dict(settings)
    layout_settings.check_settings(checked)  # source_root, tests_root, test_style, ...
    budgets.check_settings(checked)
    agent = checked.get("agent")
    if agent is not None:
        get_agent(check_name(agent, "agent", max_length=64), checked)
    elif "agent_argv" in checked:
        get_agent("command", checked)
    if SEARCH_TIME_SETTING in checked:
        search_time_setting(checked)  # set for a session that names the agent later
    if "runner" in checked:
        check_runner(checked["runner"])
    if network.SETTING in checked:
        allow = network.check_allow_list(checked[network.SETTING])
        network.refuse_services(allow, sandbox_network.worker_services(get_settings()))
        checked[network.SETTING] = allow
    if "environment" in checked:
        checked["environment"] = environment_settings.check_setting(checked["environment"])
    quality.settings(checked)  # min_coverage, max_mutants, ...
    if landing.SETTING in checked:
        checked[landing.SETTING] = landing.check_setting(checked[landing.SETTING]).value
    if reuse.SETTING in checked:
        reuse.check_setting(checked[reuse.SETTING])
    if flakiness.SETTING in checked:
        flakiness.check_runs(checked[flakiness.SETTING])
    return checked


def _check_local_repository(address: str) -> None:
    """A repository on this host's disk must be there (no network is asked at this point)."""
    folder = repositories.local_path(address)
    if folder is None:
        return
    path = Path(folder)
    if not ((path / "HEAD").is_file() or (path / ".git").exists()):
        raise errors.InvalidRepository(f"no git repository at {folder}")


def list_projects(uow: UnitOfWork, account_id: uuid.UUID) -> list[model.Project]:
    """The projects of an account, by name."""
    uow.catalog.get_account(account_id)
    return uow.catalog.list_projects(account_id)


def get_project(uow: ports.UnitOfWork, scope: model.Scope) -> model.Project:
    """The project of a scope."""
    return uow.catalog.get_project(scope.account_id, scope.project_id)


def add_component(
    uow: UnitOfWork,
    scope: model.Scope,
    *,
    name: str,
    module_name: str,
    type: str = "module",
    priority: int = 0,
    parent_id: uuid.UUID | None = None,
) -> model.Component:
    """Register a component of the scope's project, optionally under a parent (its context)."""
    project = get_project(uow, scope)
    checked_name = check_name(name, "component name", multiline=True)
    checked_module = layouts.validate_module_name(project.layout, module_name)
    checked_type = check_name(type, "component type", max_length=64)
    check_priority(priority)
    if checked_type in CONTEXT_TYPES:  # its branch name is built from its name
        check_context_name(checked_name)
    if parent_id is not None:
        _check_parent(uow, scope, parent_id, checked_module)
    existing = uow.catalog.find_component(scope, checked_module, include_removed=True)
    if existing is not None and existing.removed:
        # The module came back: the same row, so its past sessions stay attached to it.
        return uow.catalog.update_component(
            scope,
            existing.id,
            name=checked_name,
            type=checked_type,
            priority=priority,
            parent_id=parent_id,
            removed_at=None,
        )
    if existing is not None:
        raise errors.DuplicateComponent(
            f"module {checked_module} is already a component of project {project.name!r}"
        )
    try:
        return uow.catalog.add_component(
            scope,
            name=checked_name,
            module_name=checked_module,
            type=checked_type,
            priority=priority,
            parent_id=parent_id,
        )
    except errors.Conflict as error:  # lost a race with an identical insert
        raise errors.DuplicateComponent(
            f"module {checked_module} is already a component of project {project.name!r}"
        ) from error


def _check_parent(
    uow: UnitOfWork, scope: model.Scope, parent_id: uuid.UUID, module_name: str
) -> None:
    try:
        parent = uow.catalog.get_component(scope, parent_id)
    except errors.ComponentNotFound:
        raise errors.InvalidParent(
            f"parent component {parent_id} is not a component of this project"
        ) from None
    if parent.module_name == module_name:
        raise errors.InvalidParent(f"component {module_name} cannot be its own parent")
    if parent.removed:
        raise errors.InvalidParent(
            f"parent component {parent.module_name} was removed from the repository"
        )


def set_parent(
    uow: UnitOfWork, scope: model.Scope, component_id: uuid.UUID, parent_id: uuid.UUID | None
) -> model.Component:
    """Move a component under another (or to the top with ``None``), refusing cycles."""
    component = uow.catalog.get_component(scope, component_id)
    ancestor_id = parent_id
    while ancestor_id is not None:
        if ancestor_id == component.id:
            raise errors.InvalidParent(
                f"component {component.module_name} cannot be its own parent or ancestor"
            )
        try:
            ancestor_id = uow.catalog.get_component(scope, ancestor_id).parent_id
        except errors.ComponentNotFound:
            raise errors.InvalidParent(
                f"parent component {parent_id} is not a component of this project"
            ) from None
    return uow.catalog.set_parent(scope, component_id, parent_id)


def list_components(uow: UnitOfWork, scope: model.Scope) -> list[model.Component]:
    """Every component of the scope's project, by module name."""
    get_project(uow, scope)
    return uow.catalog.list_components(scope)


def list_contexts(uow: UnitOfWork, scope: model.Scope) -> list[model.Component]:
    """The components of the project that can be tested as contexts (not removed ones)."""
    return [c for c in list_components(uow, scope) if c.type in CONTEXT_TYPES and not c.removed]


def get_context(
    uow: ports.UnitOfWork, scope: model.Scope, component_id: uuid.UUID
) -> model.Component:
    """A component that can be tested as a context, or a typed error saying why not."""
    component = uow.catalog.get_component(scope, component_id)
    if component.removed:
        raise errors.InvalidInput(
            f"component {component.module_name} was removed from the repository"
        )
    if component.type not in CONTEXT_TYPES:
        raise errors.InvalidInput(
            f"component {component.module_name} is a {component.type!r}, not a context"
        )
    return component
