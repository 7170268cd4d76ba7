"""The ports the application holds: built once, when :func:`~ctworkflow.http.app.create_app`
makes the application, and handed to each route that runs a use case."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, FastAPI, Request

from ctworkflow.config import Settings
from ctworkflow.tasks import live
from ctworkflow.workflow.deps import Deps


def hold(app: FastAPI, settings: Settings) -> None:
    """Build the application's ports from ``settings`` (the database, git, the clock and
    Celery's dispatcher) and keep them for its lifetime."""
    app.state.deps = live.deps(settings)


def _held(request: Request) -> Deps:
    return cast(Deps, request.app.state.deps)


#: A route parameter of this type receives the application's ports.
AppDeps = Annotated[Deps, Depends(_held)]
