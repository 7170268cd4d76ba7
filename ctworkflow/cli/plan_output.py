"""``ctw session start --plan``: print which components would run and which would be reused."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from ctworkflow.domain.model import Scope


def print_plan(scope: Scope, context: str, *, as_json: bool) -> None:
    """Print the plan: one line per component (``module: reason``), or its JSON."""
    from ctworkflow.cli import render
    from ctworkflow.services import incremental
    from ctworkflow.tasks import live

    lines = incremental.plan_context_testing(scope, context, deps=live.deps())
    if as_json:
        render.print_json({"plan": lines})
        return
    for line in lines:
        typer.echo(f"{line['component']}: {line['reason']}")
