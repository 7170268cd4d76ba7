"""Accounts, projects and components: bad input gets a typed error and writes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from ctworkflow import errors
from ctworkflow.domain.model import Scope
from ctworkflow.persistence.db import UnitOfWork, get_engine, unit_of_work
from ctworkflow.services import catalog
from tests.factories import Tenant


def table_counts(url: str) -> dict[str, int]:
    with get_engine(url).connect() as connection:
        return {
            table: int(connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in ("accounts", "projects", "components", "sessions")
        }


def test_components_are_listed_in_the_project_and_children_by_priority(
    tenant: Tenant, database_url: str
) -> None:
    with unit_of_work(database_url) as uow:
        listed = catalog.list_components(uow, tenant.scope)
        children = uow.catalog.child_components(tenant.scope, tenant.context.id)

    assert len(listed) == 4
    assert [c.name for c in children] == ["User", "UserRepository", "AccountsLive"]


Action = Callable[[UnitOfWork, Tenant, Tenant], object]

BAD_INPUT: list[tuple[str, Action, type[errors.CtWorkflowError], str | None]] = [
    (
        "unknown account",
        lambda uow, t, o: catalog.create_project(
            uow, uuid.uuid4(), name="p", code_repo="https://git.example.com/r.git", layout="phoenix"
        ),
        errors.AccountNotFound,
        "account",
    ),
    (
        "unknown project",
        lambda uow, t, o: catalog.add_component(
            uow,
            Scope(account_id=t.scope.account_id, project_id=uuid.uuid4()),
            name="X",
            module_name="MyApp.X",
        ),
        errors.ProjectNotFound,
        "project",
    ),
    (
        "empty account name",
        lambda uow, t, o: catalog.create_account(uow, "  "),
        errors.InvalidName,
        "empty",
    ),
    (
        "over-long account name",
        lambda uow, t, o: catalog.create_account(uow, "a" * 10_000),
        errors.InvalidName,
        "10000 characters",
    ),
    (
        "control characters in a name",
        lambda uow, t, o: catalog.create_account(uow, "bad\x00name"),
        errors.InvalidName,
        "control characters",
    ),
    (
        "unknown layout",
        lambda uow, t, o: catalog.create_project(
            uow,
            t.scope.account_id,
            name="p2",
            code_repo="https://git.example.com/r.git",
            layout="rails",
        ),
        errors.UnknownLayout,
        "'rails'",
    ),
    (
        "taken project name",
        lambda uow, t, o: catalog.create_project(
            uow,
            t.scope.account_id,
            name="my_app",
            code_repo="https://git.example.com/r.git",
            layout="phoenix",
        ),
        errors.InvalidName,
        "'my_app'",
    ),
    (
        "invalid module name",
        lambda uow, t, o: catalog.add_component(uow, t.scope, name="X", module_name="my_app.x"),
        errors.InvalidModuleName,
        "'my_app.x'",
    ),
    (
        "path traversal in a module name",
        lambda uow, t, o: catalog.add_component(uow, t.scope, name="X", module_name="../../etc"),
        errors.InvalidModuleName,
        "'../../etc'",
    ),
    (
        "duplicate module name",
        lambda uow, t, o: catalog.add_component(
            uow, t.scope, name="Again", module_name="MyApp.Accounts.User"
        ),
        errors.DuplicateComponent,
        "MyApp.Accounts.User",
    ),
    (
        "component made its own parent",
        lambda uow, t, o: catalog.set_parent(uow, t.scope, t.context.id, t.context.id),
        errors.InvalidParent,
        "own parent",
    ),
    (
        "component made the parent of its own parent",
        lambda uow, t, o: catalog.set_parent(uow, t.scope, t.context.id, t.children[0].id),
        errors.InvalidParent,
        "ancestor",
    ),
    (
        "parent from another project",
        lambda uow, t, o: catalog.add_component(
            uow, t.scope, name="X", module_name="MyApp.X", parent_id=o.context.id
        ),
        errors.InvalidParent,
        None,
    ),
    (
        "non-integer priority",
        lambda uow, t, o: catalog.add_component(
            uow,
            t.scope,
            name="X",
            module_name="MyApp.X",
            priority="high",  # type: ignore[arg-type]
        ),
        errors.InvalidInput,
        "priority",
    ),
    (
        "a component that is not a context",
        lambda uow, t, o: catalog.get_context(uow, t.scope, t.children[0].id),
        errors.InvalidInput,
        "not a context",
    ),
    (
        "another account's component",
        lambda uow, t, o: catalog.get_context(uow, t.scope, o.context.id),
        errors.ComponentNotFound,
        "component",
    ),
]


@pytest.mark.parametrize(
    ("action", "error", "says"),
    [pytest.param(a, e, s, id=name) for name, a, e, s in BAD_INPUT],
)
def test_bad_input_gets_a_typed_error_that_names_the_problem_and_writes_nothing(
    tenant: Tenant,
    other_tenant: Tenant,
    database_url: str,
    action: Action,
    error: type[errors.CtWorkflowError],
    says: str | None,
) -> None:
    before = table_counts(database_url)

    with pytest.raises(error) as raised, unit_of_work(database_url) as uow:
        action(uow, tenant, other_tenant)

    message = str(raised.value)
    assert "\n" not in message
    if says is not None:
        assert says in message
    assert table_counts(database_url) == before
