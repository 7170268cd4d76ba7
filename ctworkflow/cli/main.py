"""The ``ctw`` program: its command groups, and errors turned into one line, never a traceback.

Help, ``--version`` and shell completion answer from the arguments alone: command modules load
the database, Celery and the workflow inside their commands, never at import
(``tests/integration/test_cli_program.py`` checks which modules ``ctw --help`` imports).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from importlib import metadata
from typing import Annotated

import typer
from typer.exceptions import TyperException

from ctworkflow import errors, logs
from ctworkflow.cli import api_commands, catalog_commands, maintenance_commands, workers
from ctworkflow.cli.session_commands import session_app
from ctworkflow.config import get_settings

app = typer.Typer(
    no_args_is_help=True,
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

#: Arguments answered without running a command (nothing is configured or loaded for them).
ANSWERED_FROM_ARGUMENTS = frozenset({"--help", "--version", "--show-completion"})


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"ctw {metadata.version('ctworkflow')}")
        raise typer.Exit()


@app.callback()
def _program(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Context testing sessions: set up, start, watch and manage them."""


@app.command("worker")
def worker(
    queue: Annotated[
        list[str] | None,
        typer.Option(help="orchestration, components or all (default); repeatable."),
    ] = None,
    concurrency: Annotated[int | None, typer.Option(help="Worker processes.", min=1)] = None,
    pool: Annotated[str | None, typer.Option(help="Celery pool: prefork, threads, solo.")] = None,
    loglevel: Annotated[
        str | None, typer.Option(help="Log level, if more verbose than CTW_LOG_LEVEL.")
    ] = None,
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
    from ctworkflow.cli import demo

    raise typer.Exit(demo.run_demo(timeout_s=timeout))


def _one_line(error: BaseException | str) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _answers_from_arguments(args: Sequence[str]) -> bool:
    completing = any(name.startswith("_CTW_COMPLETE") for name in os.environ)
    return not args or completing or bool(ANSWERED_FROM_ARGUMENTS.intersection(args))


def _usage_error(error: TyperException) -> str:
    """A usage error in one line, naming the help of the command it concerns."""
    message = error.format_message() if hasattr(error, "format_message") else str(error)
    context = getattr(error, "ctx", None)
    command = getattr(context, "command_path", "ctw") or "ctw"
    return f"error: {_one_line(message)} (see: {command} --help)"


def main() -> None:
    """Entry point: run the CLI; every error becomes one line on stderr and a non-zero exit."""
    try:
        if not _answers_from_arguments(sys.argv[1:]):
            logs.configure(get_settings(), default=logs.COMMAND_LEVEL)
        code = app(standalone_mode=False)
    except TyperException as error:  # bad arguments: Click's usage and parameter errors
        if type(error).__name__ != "NoArgsIsHelpError":  # that one printed the help already
            typer.echo(_usage_error(error), err=True)
        sys.exit(getattr(error, "exit_code", 2))
    except (errors.DatabaseError, errors.DatabaseUnavailable) as error:
        typer.echo(_database_failure(error), err=True)
        sys.exit(2)
    except errors.CtWorkflowError as error:
        typer.echo(f"error: {_one_line(error)}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(1)
    except Exception as error:  # the last resort: still one line, never a traceback
        typer.echo(f"error: {type(error).__name__}: {_one_line(error)}", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


def _database_failure(error: errors.CtWorkflowError) -> str:
    """The database's own reason (its driver's, when there is one), and what to check."""
    cause = error.__cause__
    original = getattr(cause, "orig", None) or cause or error
    return f"error: database: {_one_line(original)} (is it set up? run: ctw db upgrade)"
