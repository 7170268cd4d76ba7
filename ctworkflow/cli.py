"""``ctw``: the command-line program. Errors print one line and exit non-zero, never a traceback."""

from __future__ import annotations

import sys

import typer

from ctworkflow import errors
from ctworkflow.persistence import db as database

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
db_app = typer.Typer(no_args_is_help=True, help="Set up and migrate the database.")
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Bring the database schema up to REVISION (the newest by default)."""
    database.migrate(revision=revision)
    typer.echo(f"database at {revision}")


def main() -> None:
    """Entry point: run the CLI, turning our errors into one clear line."""
    try:
        app()
    except errors.CtWorkflowError as error:
        typer.echo(f"error: {error}", err=True)
        sys.exit(2)
