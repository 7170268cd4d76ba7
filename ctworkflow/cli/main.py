"""The ``ctw`` program: its command groups, and errors turned into one line, never a traceback."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
from sqlalchemy import exc as sa_exc

from ctworkflow import errors
from ctworkflow.cli import api_commands, catalog_commands, demo, maintenance_commands, workers
from ctworkflow.cli.session_commands import session_app

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Context testing sessions: set up, start, watch and manage them.",
)
app.add_typer(catalog_commands.db_app, name="db")
app.add_typer(catalog_commands.account_app, name="account")
app.add_typer(catalog_commands.project_app, name="project")
app.add_typer(catalog_commands.component_app, name="component")
app.add_typer(session_app, name="session")
maintenance_commands.register(app)
api_commands.register(app)


@app.command("worker")
def worker(
    queue: Annotated[
        list[str] | None,
        typer.Option(help="orchestration, components or all (default); repeatable."),
    ] = None,
    concurrency: Annotated[int | None, typer.Option(help="Worker processes.", min=1)] = None,
    pool: Annotated[str | None, typer.Option(help="Celery pool: prefork, threads, solo.")] = None,
    loglevel: Annotated[str, typer.Option(help="Log level.")] = "INFO",
    hostname: Annotated[str | None, typer.Option(help="Worker node name.")] = None,
) -> None:
    """Run a Celery worker for one or both queues (replaces this process)."""
    argv = workers.worker_argv(
        workers.parse_queues(queue or []),
        concurrency=concurrency,
        pool=pool,
        loglevel=loglevel,
        hostname=hostname,
    )
    sys.stdout.flush()
    os.execv(argv[0], argv)


@app.command("demo")
def run_demo(
    timeout: Annotated[float, typer.Option(help="Give up after this many seconds.")] = 600.0,
) -> None:
    """Run a whole session on a sample repository, embedded: no server needed."""
    raise typer.Exit(demo.run_demo(timeout_s=timeout))


def _one_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def main() -> None:
    """Entry point: run the CLI; every error becomes one line on stderr and a non-zero exit."""
    try:
        app()
    except errors.CtWorkflowError as error:
        typer.echo(f"error: {_one_line(error)}", err=True)
        sys.exit(2)
    except sa_exc.SQLAlchemyError as error:
        original = getattr(error, "orig", None) or error
        typer.echo(
            f"error: database: {_one_line(original)} (is it set up? run: ctw db upgrade)",
            err=True,
        )
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as error:  # the last resort: still one line, never a traceback
        typer.echo(f"error: {type(error).__name__}: {_one_line(error)}", err=True)
        sys.exit(1)
