"""Projects and components of the in-memory database."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from ctworkflow import errors, ports
from ctworkflow.domain import model
from ctworkflow.domain.repository.layouts import Layout
from ctworkflow.testing.store.tables import Tables, in_scope


class InMemoryCatalog:
    """Projects and components (:class:`~ctworkflow.ports.CatalogRecords`)."""

    def __init__(self, tables: Tables, clock: ports.Clock) -> None:
        self._t = tables
        self._clock = clock

    def add_account(self, name: str) -> model.Account:
        account = model.Account(id=uuid.uuid4(), name=name, created_at=self._clock.now())
        self._t.accounts[account.id] = account
        return account

    def add_project(
        self,
        account_id: uuid.UUID,
        *,
        name: str,
        code_repo: str,
        layout: Layout,
        default_branch: str,
        settings: Mapping[str, Any],
    ) -> model.Project:
        project = model.Project(
            id=uuid.uuid4(),
            account_id=account_id,
            name=name,
            code_repo=code_repo,
            layout=layout,
            default_branch=default_branch,
            settings=dict(settings),
            created_at=self._clock.now(),
        )
        self._t.projects[project.id] = project
        return project

    def add_component(
        self,
        scope: model.Scope,
        *,
        name: str,
        module_name: str,
        type: str,
        priority: int,
        parent_id: uuid.UUID | None,
    ) -> model.Component:
        component = model.Component(
            id=uuid.uuid4(),
            account_id=scope.account_id,
            project_id=scope.project_id,
            parent_id=parent_id,
            name=name,
            module_name=module_name,
            type=type,
            priority=priority,
            created_at=self._clock.now(),
        )
        self._t.components[component.id] = component
        return component

    def get_project(self, account_id: uuid.UUID, project_id: uuid.UUID) -> model.Project:
        found = self._t.projects.get(project_id)
        if found is None or found.account_id != account_id:
            raise errors.ProjectNotFound(project_id)
        return found

    def get_component(self, scope: model.Scope, component_id: uuid.UUID) -> model.Component:
        found = self._t.components.get(component_id)
        if found is None or not in_scope(scope, found):
            raise errors.ComponentNotFound(component_id)
        return found

    def update_component(
        self, scope: model.Scope, component_id: uuid.UUID, **values: Any
    ) -> model.Component:
        """Change fields of a component (name, module_name, type, parent_id, removed_at)."""
        changed = dataclasses.replace(self.get_component(scope, component_id), **values)
        self._t.components[component_id] = changed
        return changed

    def child_components(self, scope: model.Scope, parent_id: uuid.UUID) -> list[model.Component]:
        found = [
            c
            for c in self._t.components.values()
            if in_scope(scope, c) and c.parent_id == parent_id and not c.removed
        ]
        return sorted(found, key=lambda c: (-c.priority, c.name, c.module_name))

    def find_component(
        self, scope: model.Scope, module_name: str, *, include_removed: bool = False
    ) -> model.Component | None:
        for found in self._t.components.values():
            named = in_scope(scope, found) and found.module_name == module_name
            if named and (include_removed or not found.removed):
                return found
        return None

    def component_ids_between(
        self, scope: model.Scope, low: uuid.UUID, high: uuid.UUID
    ) -> list[uuid.UUID]:
        """Up to two ids of the project's components in ``[low, high]``."""
        found = [c.id for c in self._t.components.values() if in_scope(scope, c)]
        return sorted(i for i in found if low <= i <= high)[:2]

    def components_by_id(
        self, scope: model.Scope, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, model.Component]:
        return {
            i: c for i in ids if (c := self._t.components.get(i)) is not None and in_scope(scope, c)
        }
