"""Factories of test data: tenants with the seed's Accounts context."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from ctworkflow.domain.model import Component, Scope
from ctworkflow.persistence.db import UnitOfWork, unit_of_work
from ctworkflow.services import catalog

#: The settings that turn off the test-quality work a session does on each component once its
#: tests pass: the check for flaky tests (``flaky_runs`` runs in random order, and each test
#: alone) and the mutants. Each costs a component several runs of its tests, and the tests of
#: the workflow's mechanics (rounds, retries, recovery, HTTP, CLI) check none of it; the tests
#: of that work create their projects with ``quality_checks=True`` (the product's defaults).
WITHOUT_QUALITY_CHECKS: Final[Mapping[str, object]] = {"flaky_runs": 0, "max_mutants": 0}


@dataclass(frozen=True)
class Tenant:
    """An account with one Phoenix project holding the ``MyApp.Accounts`` context."""

    scope: Scope
    context: Component
    children: list[Component]


def new_project(
    uow: UnitOfWork,
    code_repo: str,
    layout: str,
    settings: Mapping[str, object] | None = None,
    *,
    name: str = "app",
    quality_checks: bool = False,
) -> Scope:
    """A project on ``code_repo`` in a new account; its agent is the scaffold unless
    ``settings`` say else. The scope a tester's calls use.

    Its sessions skip the check for flaky tests and the mutants (:data:`WITHOUT_QUALITY_CHECKS`)
    unless ``settings`` name them or ``quality_checks`` keeps the product's defaults."""
    account = catalog.create_account(uow, f"acme-{uuid.uuid4().hex[:6]}")
    project = catalog.create_project(
        uow,
        account.id,
        name=name,
        code_repo=code_repo,
        layout=layout,
        settings={
            **({} if quality_checks else WITHOUT_QUALITY_CHECKS),
            **(settings if settings is not None else {"agent": "scaffold"}),
        },
    )
    return Scope(account_id=account.id, project_id=project.id, user_id="tester")


def make_tenant(
    database_url: str, code_repo: str = "https://git.example.com/acme/my_app.git"
) -> Tenant:
    """Create an account, a project and the seed's context with its three components."""
    with unit_of_work(database_url) as uow:
        account = catalog.create_account(uow, f"account-{uuid.uuid4().hex[:6]}")
        project = catalog.create_project(
            uow, account.id, name="my_app", code_repo=code_repo, layout="phoenix"
        )
        scope = Scope(account_id=account.id, project_id=project.id, user_id="user-1")
        context = catalog.add_component(
            uow, scope, name="Accounts", module_name="MyApp.Accounts", type="context"
        )
        children = [
            catalog.add_component(
                uow,
                scope,
                name=name,
                module_name=module,
                type=kind,
                priority=priority,
                parent_id=context.id,
            )
            for name, module, kind, priority in [
                ("User", "MyApp.Accounts.User", "schema", 10),
                ("UserRepository", "MyApp.Accounts.UserRepository", "repository", 5),
                ("AccountsLive", "MyApp.AccountsLive", "other", 1),
            ]
        ]
    return Tenant(scope=scope, context=context, children=children)
