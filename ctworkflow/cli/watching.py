"""Following a session until it ends: a live view on a terminal, plain lines elsewhere.

On a terminal the view redraws in place. Off a terminal (a pipe, a log file, CI) every change
is printed as it happens, one line each, ending with a line that says how the session ended;
``--json`` prints one JSON document per change instead.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import typer
from rich.live import Live

from ctworkflow import errors
from ctworkflow.cli import render, shapes
from ctworkflow.domain.model import Scope
from ctworkflow.services import session_views
from ctworkflow.services.session_views import SessionDetails


class WatchTimeout(errors.CtWorkflowError):
    """The session did not end within the time given to watch it."""


def watch(
    scope: Scope,
    session_id: uuid.UUID | str,
    *,
    interval_s: float = 1.0,
    timeout_s: float | None = None,
    as_json: bool = False,
    check: Callable[[], None] | None = None,
    transient: bool = False,
) -> SessionDetails:
    """Poll the session until it ends and show it meanwhile; return its final details.

    With ``as_json`` every change is printed as one JSON line (the last one is the end).
    ``check`` runs before every poll and may raise to stop watching (the demo checks that its
    worker still runs). A ``transient`` live view disappears once the session ends.

    Raises:
        WatchTimeout: the session was still active after ``timeout_s`` seconds.
    """
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    if as_json:
        return _watch_json(scope, session_id, interval_s, deadline, check)
    console = render.console()
    if not console.is_terminal:
        return _watch_lines(scope, session_id, interval_s, deadline, check)
    details = session_views.session_details(scope, session_id)
    with Live(
        render.watch_view(details, _now()), console=console, auto_refresh=False, transient=transient
    ) as live:
        while not details.session.terminal:
            _wait(interval_s, deadline, details, check)
            details = session_views.session_details(scope, session_id)
            live.update(render.watch_view(details, _now()), refresh=True)
    return details


def _watch_json(
    scope: Scope,
    session_id: uuid.UUID | str,
    interval_s: float,
    deadline: float | None,
    check: Callable[[], None] | None,
) -> SessionDetails:
    console = render.console()
    last = ""
    while True:
        details = session_views.session_details(scope, session_id)
        snapshot = shapes.watch_json(details, _now())
        # Durations of running children change every poll: compare without them.
        key = json.dumps(
            {**snapshot, "components": [{**c, "duration_s": 0} for c in snapshot["components"]]}
        )
        if key != last or details.session.terminal:
            console.out(json.dumps(snapshot), highlight=False)
            last = key
        if details.session.terminal:
            return details
        _wait(interval_s, deadline, details, check)


def _watch_lines(
    scope: Scope,
    session_id: uuid.UUID | str,
    interval_s: float,
    deadline: float | None,
    check: Callable[[], None] | None,
) -> SessionDetails:
    shown: dict[str, str] = {}
    while True:
        details = session_views.session_details(scope, session_id)
        for key, line in shapes.change_lines(details, _now()):
            if shown.get(key) != line:
                typer.echo(f"{_now():%H:%M:%S} {line}")  # echo flushes: a pipe sees it now
                shown[key] = line
        if details.session.terminal:
            typer.echo(shapes.end_line(details))
            return details
        _wait(interval_s, deadline, details, check)


def _wait(
    interval_s: float,
    deadline: float | None,
    details: SessionDetails,
    check: Callable[[], None] | None,
) -> None:
    if check is not None:
        check()
    if deadline is not None and time.monotonic() >= deadline:
        raise WatchTimeout(
            f"session {details.session.id} is still {details.session.status.value}"
            " after the watch timeout"
        )
    time.sleep(interval_s)


def _now() -> datetime:
    return datetime.now(UTC)
