"""The plan of an incremental session: before anything runs, which components of a context
would keep an earlier verified test file and which would run their agent, and why.

Reads only (the store and the mirror); the decision is :mod:`ctworkflow.domain.reuse`.
"""

from __future__ import annotations

import uuid
from typing import Any

from ctworkflow import errors
from ctworkflow.domain import model, reuse
from ctworkflow.services import catalog
from ctworkflow.workflow import reuse as reuse_step
from ctworkflow.workflow.deps import Deps


def plan_context_testing(
    scope: model.Scope,
    context: uuid.UUID | str,
    *,
    deps: Deps,
    runner: str | None = None,
    full: bool = False,
) -> list[dict[str, Any]]:
    """One line per component of the context: ``component``, ``reuse``, ``reason`` and
    ``from_session``, for a session started now on the default branch's head."""
    with deps.transactions() as uow:
        project = catalog.get_project(uow, scope)
        context_id = (
            context
            if isinstance(context, uuid.UUID)
            else catalog.find_component(uow, scope, context, "context").id
        )
        if not reuse.enabled(project.settings, full=full):
            why = f"runs: full run ({reuse.SETTING} is false)" if not full else "runs: full run"
            return [
                {"component": c.module_name, "reuse": False, "reason": why, "from_session": None}
                for c in uow.catalog.child_components(scope, context_id)
            ]
        base = deps.git.remote_head(project.code_repo, project.default_branch)
        if base is None:
            raise errors.InvalidInput(f"the remote has no branch {project.default_branch}")
        lines = reuse_step.plan(deps, uow, scope, project, context_id, base=base, runner=runner)
    return [line.to_json() for line in lines]
