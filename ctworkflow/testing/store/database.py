"""The in-memory database: units of work that roll back, and what a test sets up."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ctworkflow import errors, ports
from ctworkflow.domain import model
from ctworkflow.domain.repository.layouts import Layout
from ctworkflow.domain.states import ComponentKind
from ctworkflow.testing.store.catalog import InMemoryCatalog
from ctworkflow.testing.store.records import InMemorySessions
from ctworkflow.testing.store.tables import TABLE_NAMES, Tables


@dataclass(frozen=True, slots=True)
class InMemoryUnitOfWork:
    """One transaction of :class:`InMemoryDatabase` (:class:`~ctworkflow.ports.UnitOfWork`)."""

    sessions: InMemorySessions
    catalog: InMemoryCatalog


class InMemoryDatabase:
    """The database of a unit test: call it to open a unit of work, as ``unit_of_work()``.

    Also what a test sets up (:meth:`add_project`, :meth:`add_component`) and reads back
    (:attr:`tables`).
    """

    def __init__(self, clock: ports.Clock) -> None:
        self.clock = clock
        self.tables = Tables()
        #: How many units of work were opened, and how many rolled back.
        self.opened = 0
        self.rolled_back = 0
        #: While set, the database is down: opening or committing a unit of work raises
        #: :class:`~ctworkflow.errors.DatabaseUnavailable` with this reason, as the SQL one
        #: does when its server cannot be reached.
        self.unavailable: str | None = None

    @contextmanager
    def __call__(self) -> Iterator[InMemoryUnitOfWork]:
        if self.unavailable is not None:
            raise errors.DatabaseUnavailable(self.unavailable)
        saved = {name: copy.copy(getattr(self.tables, name)) for name in TABLE_NAMES}
        self.opened += 1
        try:
            yield InMemoryUnitOfWork(
                sessions=InMemorySessions(self.tables, self.clock),
                catalog=InMemoryCatalog(self.tables, self.clock),
            )
            if self.unavailable is not None:  # went down during the transaction: no commit
                raise errors.DatabaseUnavailable(self.unavailable)
        except BaseException:
            self.rolled_back += 1
            for name, value in saved.items():
                setattr(self.tables, name, value)
            raise

    def add_project(
        self,
        *,
        code_repo: str,
        layout: Layout = Layout.PYTHON,
        default_branch: str = "main",
        settings: Mapping[str, Any] | None = None,
        name: str = "project",
    ) -> model.Project:
        """A project of a new account."""
        with self() as uow:
            account = uow.catalog.add_account(f"account of {name}")
            return uow.catalog.add_project(
                account.id,
                name=name,
                code_repo=code_repo,
                layout=layout,
                default_branch=default_branch,
                settings=dict(settings or {}),
            )

    def add_component(
        self,
        project: model.Project,
        module_name: str,
        *,
        parent: model.Component | None = None,
        priority: int = 0,
    ) -> model.Component:
        """A component of the project (a context when it has none for parent)."""
        scope = model.Scope(account_id=project.account_id, project_id=project.id)
        with self() as uow:
            return uow.catalog.add_component(
                scope,
                name=module_name.rsplit(".", 1)[-1],
                module_name=module_name,
                type=ComponentKind.CONTEXT if parent is None else ComponentKind.MODULE,
                priority=priority,
                parent_id=parent.id if parent else None,
            )

    def session(self, session_id: uuid.UUID) -> model.Session:
        """A session as it is now, whatever its tenant."""
        return self.tables.sessions[session_id]
