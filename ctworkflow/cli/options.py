"""Command-line inputs shared by the commands: the scope options and ``KEY=VALUE`` settings.

The scope: ``--account`` (``CTW_ACCOUNT``) and ``--project`` (``CTW_PROJECT``), each an id or a
name (an account name must be unique to be used), and ``--user`` (``CTW_USER``, default
``cli``), the user recorded on the sessions the command starts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Annotated, Any

import typer

from ctworkflow import catalog, errors
from ctworkflow.domain import model
from ctworkflow.domain.inputs import check_user_id
from ctworkflow.domain.model import Scope
from ctworkflow.persistence.db import unit_of_work

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
    if not account:
        raise errors.InvalidInput("no account: give --account or set CTW_ACCOUNT")
    with unit_of_work() as uow:
        return catalog.find_account(uow, account)


def resolve_scope(account: str | None, project: str | None, user: str = "cli") -> Scope:
    """The scope named by the account, project and user options."""
    user_id = check_user_id(user)
    found_account = resolve_account(account)
    if not project:
        raise errors.InvalidInput("no project: give --project or set CTW_PROJECT")
    with unit_of_work() as uow:
        found_project = catalog.find_project(uow, found_account.id, project)
    return Scope(account_id=found_account.id, project_id=found_project.id, user_id=user_id)


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
