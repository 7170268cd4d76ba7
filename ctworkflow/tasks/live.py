"""The live ports the composition roots (the CLI, the HTTP app, the tasks, the Python API) hand
the use cases of :mod:`ctworkflow.services.lifecycle`: the configured database, git and clock,
and Celery's dispatcher (:mod:`ctworkflow.tasks.dispatch`)."""

from __future__ import annotations

from ctworkflow.config import Settings
from ctworkflow.ports import Dispatcher
from ctworkflow.tasks.dispatch import dispatcher as celery_dispatcher
from ctworkflow.workflow.deps import Deps, live_deps


def deps(settings: Settings | None = None, *, dispatcher: Dispatcher | None = None) -> Deps:
    """The live ports of the settings (the configured ones by default), sending through
    ``dispatcher`` (Celery's by default)."""
    return live_deps(settings, dispatcher=dispatcher or celery_dispatcher)
