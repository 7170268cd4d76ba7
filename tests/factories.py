"""Factories of test data: tenants with the seed's Accounts context."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from ctworkflow.domain.model import Component, Scope
from ctworkflow.persistence.db import UnitOfWork, unit_of_work
from ctworkflow.services import catalog


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
) -> Scope:
    """A project on ``code_repo`` in a new account; its agent is the scaffold unless
    ``settings`` say else. The scope a tester's calls use."""
    account = catalog.create_account(uow, f"acme-{uuid.uuid4().hex[:6]}")
    project = catalog.create_project(
        uow,
        account.id,
        name=name,
        code_repo=code_repo,
        layout=layout,
        settings=dict(settings if settings is not None else {"agent": "scaffold"}),
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
