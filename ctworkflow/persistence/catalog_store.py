"""Queries on accounts, projects and components."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from ctworkflow import errors
from ctworkflow.domain import model
from ctworkflow.domain.repository.layouts import Layout
from ctworkflow.persistence import rows
from ctworkflow.persistence.failures import savepoint
from ctworkflow.persistence.tables import AccountRow, ComponentRow, ProjectRow, utcnow


class CatalogStore:
    """Accounts, projects and components of one unit of work."""

    def __init__(self, db: orm.Session) -> None:
        self.db = db

    def add_account(self, name: str) -> model.Account:
        row = AccountRow(name=name)
        self.db.add(row)
        self.db.flush()
        return rows.account(row)

    def get_account(self, account_id: uuid.UUID) -> model.Account:
        row = self.db.get(AccountRow, account_id)
        if row is None:
            raise errors.AccountNotFound(account_id)
        return rows.account(row)

    def list_accounts(self) -> list[model.Account]:
        """Every account, by name (an operator's view: accounts are the tenants)."""
        found = self.db.scalars(sa.select(AccountRow).order_by(AccountRow.name, AccountRow.id))
        return [rows.account(r) for r in found]

    def account_ids_between(self, low: uuid.UUID, high: uuid.UUID) -> list[uuid.UUID]:
        """Up to two account ids in ``[low, high]`` (an id prefix's range)."""
        return list(
            self.db.scalars(
                sa.select(AccountRow.id).where(AccountRow.id.between(low, high)).limit(2)
            )
        )

    def project_ids_between(
        self, account_id: uuid.UUID, low: uuid.UUID, high: uuid.UUID
    ) -> list[uuid.UUID]:
        """Up to two ids of the account's projects in ``[low, high]``."""
        query = sa.select(ProjectRow.id).where(
            ProjectRow.account_id == account_id, ProjectRow.id.between(low, high)
        )
        return list(self.db.scalars(query.limit(2)))

    def component_ids_between(
        self, scope: model.Scope, low: uuid.UUID, high: uuid.UUID
    ) -> list[uuid.UUID]:
        """Up to two ids of the project's components in ``[low, high]``."""
        query = sa.select(ComponentRow.id).where(
            rows.in_scope(ComponentRow, scope), ComponentRow.id.between(low, high)
        )
        return list(self.db.scalars(query.limit(2)))

    def find_accounts(self, name: str) -> list[model.Account]:
        """Accounts of that name (names are not unique), oldest first."""
        found = self.db.scalars(
            sa.select(AccountRow)
            .where(AccountRow.name == name)
            .order_by(AccountRow.created_at, AccountRow.id)
        )
        return [rows.account(r) for r in found]

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
        row = ProjectRow(
            account_id=account_id,
            name=name,
            code_repo=code_repo,
            layout=layout.value,
            default_branch=default_branch,
            settings=dict(settings),
        )
        self.db.add(row)
        self.db.flush()
        return rows.project(row)

    def find_project(self, account_id: uuid.UUID, name: str) -> model.Project | None:
        row = self.db.scalar(
            sa.select(ProjectRow).where(
                ProjectRow.account_id == account_id, ProjectRow.name == name
            )
        )
        return rows.project(row) if row else None

    def get_project(self, account_id: uuid.UUID, project_id: uuid.UUID) -> model.Project:
        row = self.db.scalar(
            sa.select(ProjectRow).where(
                ProjectRow.id == project_id, ProjectRow.account_id == account_id
            )
        )
        if row is None:
            raise errors.ProjectNotFound(project_id)
        return rows.project(row)

    def list_projects(self, account_id: uuid.UUID) -> list[model.Project]:
        found = self.db.scalars(
            sa.select(ProjectRow)
            .where(ProjectRow.account_id == account_id)
            .order_by(ProjectRow.name)
        )
        return [rows.project(r) for r in found]

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
        """Insert a component; raise Conflict if an identical one was inserted meanwhile."""
        row = ComponentRow(
            account_id=scope.account_id,
            project_id=scope.project_id,
            parent_id=parent_id,
            name=name,
            module_name=module_name,
            type=type,
            priority=priority,
        )
        with savepoint(self.db):  # a twin insert that won the race: Conflict
            self.db.add(row)
            self.db.flush()
        return rows.component(row)

    def add_components(
        self, scope: model.Scope, parent_id: uuid.UUID, components: Sequence[Mapping[str, Any]]
    ) -> int:
        """Insert many checked children of one parent in one statement (``name``,
        ``module_name``, ``type``, ``priority`` each); return how many were inserted."""
        if not components:
            return 0
        now = utcnow()
        records = [
            {
                "id": uuid.uuid4(),
                "account_id": scope.account_id,
                "project_id": scope.project_id,
                "parent_id": parent_id,
                "created_at": now,
                **{key: c[key] for key in ("name", "module_name", "type", "priority")},
            }
            for c in components
        ]
        self.db.execute(sa.insert(ComponentRow), records)
        return len(records)

    def get_component(self, scope: model.Scope, component_id: uuid.UUID) -> model.Component:
        row = self.db.scalar(
            sa.select(ComponentRow).where(
                ComponentRow.id == component_id, rows.in_scope(ComponentRow, scope)
            )
        )
        if row is None:
            raise errors.ComponentNotFound(component_id)
        return rows.component(row)

    def set_parent(
        self, scope: model.Scope, component_id: uuid.UUID, parent_id: uuid.UUID | None
    ) -> model.Component:
        row = self.db.scalar(
            sa.update(ComponentRow)
            .where(ComponentRow.id == component_id, rows.in_scope(ComponentRow, scope))
            .values(parent_id=parent_id)
            .returning(ComponentRow)
        )
        if row is None:
            raise errors.ComponentNotFound(component_id)
        return rows.component(row)

    def find_component(
        self, scope: model.Scope, module_name: str, *, include_removed: bool = False
    ) -> model.Component | None:
        query = sa.select(ComponentRow).where(
            ComponentRow.module_name == module_name, rows.in_scope(ComponentRow, scope)
        )
        if not include_removed:
            query = query.where(ComponentRow.removed_at.is_(None))
        row = self.db.scalar(query)
        return rows.component(row) if row else None

    def list_components(
        self, scope: model.Scope, *, include_removed: bool = False
    ) -> list[model.Component]:
        query = sa.select(ComponentRow).where(rows.in_scope(ComponentRow, scope))
        if not include_removed:
            query = query.where(ComponentRow.removed_at.is_(None))
        found = self.db.scalars(query.order_by(ComponentRow.module_name))
        return [rows.component(r) for r in found]

    def child_components(self, scope: model.Scope, parent_id: uuid.UUID) -> list[model.Component]:
        """Direct children of a component still in the code, by priority then name.

        A context may have 10,000 of them: they are built from plain rows, without an ORM
        object each, and share one account, project and parent id object.
        """
        columns = (
            ComponentRow.id,
            ComponentRow.name,
            ComponentRow.module_name,
            ComponentRow.type,
            ComponentRow.priority,
            ComponentRow.created_at,
        )
        query = (
            sa.select(*columns)
            .where(
                ComponentRow.parent_id == parent_id,
                ComponentRow.removed_at.is_(None),
                rows.in_scope(ComponentRow, scope),
            )
            .order_by(ComponentRow.priority.desc(), ComponentRow.name, ComponentRow.module_name)
        )
        return [
            model.Component(
                id=r.id,
                account_id=scope.account_id,
                project_id=scope.project_id,
                parent_id=parent_id,
                name=r.name,
                module_name=r.module_name,
                type=r.type,
                priority=r.priority,
                created_at=r.created_at,
            )
            for r in self.db.execute(rows.streamed(query))
        ]

    def update_component(
        self, scope: model.Scope, component_id: uuid.UUID, **values: Any
    ) -> model.Component:
        """Change columns of a component (name, module_name, type, parent_id, removed_at)."""
        row = self.db.scalar(
            sa.update(ComponentRow)
            .where(ComponentRow.id == component_id, rows.in_scope(ComponentRow, scope))
            .values(**values)
            .returning(ComponentRow)
        )
        if row is None:
            raise errors.ComponentNotFound(component_id)
        return rows.component(row)

    def set_discovered_commit(self, scope: model.Scope, commit: str) -> None:
        """Remember the commit component discovery read last."""
        self.db.execute(
            sa.update(ProjectRow)
            .where(ProjectRow.id == scope.project_id, ProjectRow.account_id == scope.account_id)
            .values(discovered_commit=commit)
        )

    def components_by_id(
        self, scope: model.Scope, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, model.Component]:
        if not ids:
            return {}
        found = self.db.scalars(
            sa.select(ComponentRow).where(
                ComponentRow.id.in_(ids), rows.in_scope(ComponentRow, scope)
            )
        )
        return {r.id: rows.component(r) for r in found}
