"""``ctw session``: start, show, list, watch, cancel and retry context testing sessions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from ctworkflow import errors
from ctworkflow.cli import options
from ctworkflow.domain.states import SessionStatus, SessionType

if TYPE_CHECKING:
    from ctworkflow.domain.model import Scope, Session

# The workflow, the database and rich load inside the commands: ``--help`` needs none of them.

session_app = typer.Typer(no_args_is_help=True, help="Context testing sessions.")

SessionId = Annotated[str, typer.Argument(help="Session id, or a unique prefix of it.")]
Interval = Annotated[float, typer.Option("--interval", help="Seconds between polls.", min=0.1)]
Timeout = Annotated[
    float | None, typer.Option("--timeout", help="Give up watching after this many seconds.")
]
Watch = Annotated[bool, typer.Option("--watch", help="Watch the session until it ends.")]

TYPES = {
    "context": SessionType.CONTEXT_TESTING,
    "component": SessionType.COMPONENT_TESTING,
    "all": None,
}


def exit_code(session: Session) -> int:
    """0 for a complete session, 1 for any other end."""
    return 0 if session.status is SessionStatus.COMPLETE else 1


def _watch_and_exit(
    scope: Scope,
    session_id: str,
    *,
    interval: float,
    timeout: float | None,
    as_json: bool,
) -> None:
    from ctworkflow.cli import watching

    final = watching.watch(
        scope, session_id, interval_s=interval, timeout_s=timeout, as_json=as_json
    )
    raise typer.Exit(exit_code(final.session))


@session_app.command("start")
def session_start(
    context: Annotated[str, typer.Argument(help="The context: module name or component id.")],
    agent: Annotated[str | None, typer.Option(help="Agent (default: project/settings).")] = None,
    max_attempts: Annotated[int | None, typer.Option(help="Fan-out rounds at most.")] = None,
    idempotency_key: Annotated[
        str | None, typer.Option(help="Starting twice with one key starts once.")
    ] = None,
    watch: Watch = False,
    interval: Interval = 1.0,
    timeout: Timeout = None,
    account: options.Account = None,
    project: options.Project = None,
    user: options.User = "cli",
    as_json: options.Json = False,
    plan: Annotated[
        bool,
        typer.Option("--plan", help="Show what would run and what would be reused; start nothing."),
    ] = False,
) -> None:
    """Start testing a context (or find its active session); print the session id."""
    from ctworkflow.services import lifecycle
    from ctworkflow.tasks import live

    scope = options.resolve_scope(account, project, user)
    if plan:
        from ctworkflow.cli.plan_output import print_plan

        print_plan(scope, context, as_json=as_json)
        return
    session = lifecycle.start_context_testing(
        scope,
        context,
        agent=agent,
        max_attempts=max_attempts,
        idempotency_key=idempotency_key,
        deps=live.deps(),
    )
    _print_then_watch(scope, session, str(session.id), watch, interval, timeout, as_json)


def _print_then_watch(
    scope: Scope,
    session: Session,
    text: str,
    watch: bool,
    interval: float,
    timeout: float | None,
    as_json: bool,
) -> None:
    """Print the session (``text``, or JSON unless watching), then follow it with ``watch``."""
    from ctworkflow.cli import render, shapes
    from ctworkflow.services import lifecycle

    if as_json and not watch:
        render.print_json(shapes.session_json(session))
    elif not as_json:
        typer.echo(text)
    reason = lifecycle.queued_reason(session)
    if reason:  # committed, not lost: the reconciler sends it once the broker is back
        typer.echo(f"queued: {reason}; the reconciler sends it when the broker is back", err=True)
    if watch:
        _watch_and_exit(scope, str(session.id), interval=interval, timeout=timeout, as_json=as_json)


@session_app.command("show")
def session_show(
    session_id: SessionId,
    account: options.Account = None,
    project: options.Project = None,
    as_json: options.Json = False,
) -> None:
    """Show a session with its steps and its components."""
    from ctworkflow.cli import render, shapes
    from ctworkflow.domain.agent_usage import Usage
    from ctworkflow.services import session_views

    scope = options.resolve_scope(account, project)
    full = session_views.full_session(scope, options.resolve_session_id(scope, session_id))
    details = full.details
    document = shapes.details_json(details, full.child_steps)
    usage = Usage.from_json(document["usage"])
    render.emit(as_json, document, render.session_view(details, datetime.now(UTC), usage))


@session_app.command("list")
def session_list(
    status: Annotated[
        list[SessionStatus] | None, typer.Option(help="Only these statuses; repeatable.")
    ] = None,
    type: Annotated[str, typer.Option("--type", help="context, component or all.")] = "context",
    limit: Annotated[int, typer.Option(help="At most this many, newest first.", min=1)] = 50,
    account: options.Account = None,
    project: options.Project = None,
    as_json: options.Json = False,
) -> None:
    """List the project's sessions, newest first."""
    from ctworkflow.cli import render, shapes
    from ctworkflow.services import session_views

    scope = options.resolve_scope(account, project)
    if type not in TYPES:
        raise errors.InvalidInput(f"unknown type {type!r}: expected context, component or all")
    sessions = session_views.list_sessions(
        scope, statuses=status or (), type=TYPES[type], limit=limit
    )
    render.emit(
        as_json, [shapes.session_json(s) for s in sessions], render.sessions_table(sessions)
    )


@session_app.command("watch")
def session_watch(
    session_id: SessionId,
    interval: Interval = 1.0,
    timeout: Timeout = None,
    account: options.Account = None,
    project: options.Project = None,
    as_json: options.Json = False,
) -> None:
    """Follow a session live until it ends; exit 0 if it completed, 1 otherwise."""
    scope = options.resolve_scope(account, project)
    sid = str(options.resolve_session_id(scope, session_id))
    _watch_and_exit(scope, sid, interval=interval, timeout=timeout, as_json=as_json)


@session_app.command("cancel")
def session_cancel(
    session_id: SessionId,
    account: options.Account = None,
    project: options.Project = None,
    as_json: options.Json = False,
) -> None:
    """Cancel a session and its running components."""
    from ctworkflow.cli import render, shapes
    from ctworkflow.services import lifecycle
    from ctworkflow.tasks import live

    scope = options.resolve_scope(account, project)
    sid = options.resolve_session_id(scope, session_id)
    session = lifecycle.cancel_session(scope, sid, deps=live.deps())
    render.emit(as_json, shapes.session_json(session), f"{session.id} {session.status.value}")


@session_app.command("retry")
def session_retry(
    session_id: SessionId,
    watch: Watch = False,
    interval: Interval = 1.0,
    timeout: Timeout = None,
    account: options.Account = None,
    project: options.Project = None,
    as_json: options.Json = False,
) -> None:
    """Run a failed or cancelled session again, with a fresh budget of attempts."""
    from ctworkflow.services import lifecycle
    from ctworkflow.tasks import live

    scope = options.resolve_scope(account, project)
    sid = options.resolve_session_id(scope, session_id)
    session = lifecycle.retry_session(scope, sid, deps=live.deps())
    text = f"{session.id} {session.status.value}"
    _print_then_watch(scope, session, text, watch, interval, timeout, as_json)
