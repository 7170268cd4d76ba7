"""``ctw db``, ``ctw account``, ``ctw project`` and ``ctw component``: set up what gets tested."""

from __future__ import annotations

from typing import Annotated

import typer

from ctworkflow.cli import options

# The database, its migrations and rich load inside the commands: ``--help`` needs none of them.

db_app = typer.Typer(no_args_is_help=True, help="Set up and migrate the database.")
account_app = typer.Typer(no_args_is_help=True, help="Accounts (tenants).")
project_app = typer.Typer(no_args_is_help=True, help="Projects: a repository of an account.")
component_app = typer.Typer(no_args_is_help=True, help="Components of a project.")


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Create or migrate the database schema up to REVISION (the newest by default)."""
    from ctworkflow.persistence import db as database

    database.migrate(revision=revision)
    typer.echo(f"database at {revision}")


@account_app.command("create")
def account_create(name: str, as_json: options.Json = False) -> None:
    """Create an account; print its id."""
    from ctworkflow.cli import render, shapes
    from ctworkflow.persistence.db import unit_of_work
    from ctworkflow.services import catalog

    with unit_of_work() as uow:
        account = catalog.create_account(uow, name)
    render.emit(as_json, shapes.account_json(account), str(account.id))


@account_app.command("list")
def account_list(as_json: options.Json = False) -> None:
    """List every account (the tenants), by name."""
    from ctworkflow.cli import render, shapes
    from ctworkflow.persistence.db import unit_of_work
    from ctworkflow.services import catalog

    with unit_of_work() as uow:
        accounts = catalog.list_accounts(uow)
    render.emit(
        as_json, [shapes.account_json(a) for a in accounts], render.accounts_table(accounts)
    )


@project_app.command("create")
def project_create(
    name: str,
    repo: Annotated[str, typer.Option("--repo", help="The git remote to clone and push to.")],
    layout: Annotated[str, typer.Option(help="python or phoenix.")] = "python",
    default_branch: Annotated[str, typer.Option(help="Branch the tests start from.")] = "main",
    setting: Annotated[
        list[str] | None,
        typer.Option(help="KEY=VALUE project setting (VALUE is JSON or text); repeatable."),
    ] = None,
    account: options.Account = None,
    as_json: options.Json = False,
) -> None:
    """Register a repository as a project of the account; print its id."""
    from ctworkflow.cli import render, shapes
    from ctworkflow.persistence.db import unit_of_work
    from ctworkflow.services import catalog

    settings = options.parse_settings(setting or [])
    owner = options.resolve_account(account)
    with unit_of_work() as uow:
        project = catalog.create_project(
            uow,
            owner.id,
            name=name,
            code_repo=repo,
            layout=layout,
            default_branch=default_branch,
            settings=settings,
        )
    render.emit(as_json, shapes.project_json(project), str(project.id))


@project_app.command("list")
def project_list(account: options.Account = None, as_json: options.Json = False) -> None:
    """List the projects of the account, by name."""
    from ctworkflow.cli import render, shapes
    from ctworkflow.persistence.db import unit_of_work
    from ctworkflow.services import catalog

    owner = options.resolve_account(account)
    with unit_of_work() as uow:
        projects = catalog.list_projects(uow, owner.id)
    render.emit(
        as_json, [shapes.project_json(p) for p in projects], render.projects_table(projects)
    )


@project_app.command("show")
def project_show(
    project: Annotated[
        str | None, typer.Argument(help="Project id, name or id prefix (default: --project).")
    ] = None,
    account: options.Account = None,
    default_project: options.Project = None,
    as_json: options.Json = False,
) -> None:
    """Show a project: its repository, layout, settings and contexts."""
    from ctworkflow.cli import render, shapes
    from ctworkflow.persistence.db import unit_of_work
    from ctworkflow.services import catalog

    found = options.resolve_project(account, project or default_project)
    scope = options.scope_of(found)
    with unit_of_work() as uow:
        components = catalog.list_components(uow, scope)
    render.emit(
        as_json,
        shapes.project_details_json(found, components),
        render.project_view(found, components),
    )


@component_app.command("add")
def component_add(
    module: Annotated[str, typer.Argument(help="Module name, e.g. shop.accounts.user.")],
    name: Annotated[str | None, typer.Option(help="Display name (default: the module).")] = None,
    type: Annotated[str, typer.Option("--type", help="Component type.")] = "module",
    context: Annotated[bool, typer.Option("--context", help="Register it as a context.")] = False,
    parent: Annotated[
        str | None, typer.Option(help="The context it belongs to (module name or id).")
    ] = None,
    priority: Annotated[int, typer.Option(help="Higher runs first.")] = 0,
    account: options.Account = None,
    project: options.Project = None,
    user: options.User = "cli",
    as_json: options.Json = False,
) -> None:
    """Register a component of the project, optionally under its context; print its id."""
    from ctworkflow.cli import render, shapes
    from ctworkflow.persistence.db import unit_of_work
    from ctworkflow.services import catalog

    scope = options.resolve_scope(account, project, user)
    with unit_of_work() as uow:
        parent_id = catalog.find_component(uow, scope, parent).id if parent else None
        component = catalog.add_component(
            uow,
            scope,
            name=name or module,
            module_name=module,
            type="context" if context else type,
            priority=priority,
            parent_id=parent_id,
        )
    render.emit(as_json, shapes.component_json(component), str(component.id))


@component_app.command("list")
def component_list(
    account: options.Account = None,
    project: options.Project = None,
    as_json: options.Json = False,
) -> None:
    """List the components of the project."""
    from ctworkflow.cli import render, shapes
    from ctworkflow.persistence.db import unit_of_work
    from ctworkflow.services import catalog

    scope = options.resolve_scope(account, project)
    with unit_of_work() as uow:
        components = catalog.list_components(uow, scope)
    render.emit(
        as_json, [shapes.component_json(c) for c in components], render.catalog_table(components)
    )
