"""Command-line inputs shared by the commands: the scope options and ``KEY=VALUE`` settings.

The scope: ``--account`` (``CTW_ACCOUNT``) and ``--project`` (``CTW_PROJECT``), each an id or a
name (an account name must be unique to be used), and ``--user`` (``CTW_USER``, default
``cli``), the user recorded on the sessions the command starts.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ctworkflow import errors
from ctworkflow.domain.inputs import check_user_id

if TYPE_CHECKING:
    from ctworkflow.domain import model
    from ctworkflow.domain.model import Scope

Account = Annotated[
    str | None,
    typer.Option("--account", "-a", envvar="CTW_ACCOUNT", help="Account id or name."),
]
Project = Annotated[
    str | None,
    typer.Option("--project", "-p", envvar="CTW_PROJECT", help="Project id or name."),
]
User = Annotated[
    str, typer.Option("--user", envvar="CTW_USER", help="User recorded on started sessions.")
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def resolve_account(account: str | None) -> model.Account:
    """The account named by ``--account``/``CTW_ACCOUNT``."""
    from ctworkflow.persistence.db import unit_of_work
    from ctworkflow.services import (
        catalog,  # the database is loaded when a command runs, not for --help
    )

    if not account:
        raise errors.InvalidInput("no account: give --account or set CTW_ACCOUNT")
    with unit_of_work() as uow:
        return catalog.find_account(uow, account)


def resolve_scope(account: str | None, project: str | None, user: str = "cli") -> Scope:
    """The scope named by the account, project and user options."""
    user_id = check_user_id(user)  # checked before anything is looked up
    return scope_of(resolve_project(account, project), user_id)


def resolve_project(account: str | None, project: str | None) -> model.Project:
    """The project named by ``--project``/``CTW_PROJECT`` in the account of ``--account``."""
    from ctworkflow.persistence.db import unit_of_work
    from ctworkflow.services import catalog

    found_account = resolve_account(account)
    if not project:
        raise errors.InvalidInput("no project: give --project or set CTW_PROJECT")
    with unit_of_work() as uow:
        return catalog.find_project(uow, found_account.id, project)


def scope_of(project: model.Project, user: str = "cli") -> Scope:
    """The scope of a project."""
    from ctworkflow.domain.model import Scope

    return Scope(account_id=project.account_id, project_id=project.id, user_id=user)


def resolve_session_id(scope: Scope, session: str) -> uuid.UUID:
    """A session id given whole or by a unique prefix (as copied from a table)."""
    from ctworkflow.persistence.db import unit_of_work
    from ctworkflow.services import sessions

    with unit_of_work() as uow:
        return sessions.resolve_session_id(uow, scope, session)


def parse_setting(item: str) -> tuple[str, Any]:
    """``KEY=VALUE`` of ``--setting``: the value as JSON when it parses, else as text."""
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise errors.InvalidInput(f"setting {item!r} must look like KEY=VALUE")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return key.strip(), value


def parse_settings(items: Iterable[str]) -> dict[str, Any]:
    """Project settings from repeated ``--setting KEY=VALUE`` options."""
    return dict(parse_setting(item) for item in items)
