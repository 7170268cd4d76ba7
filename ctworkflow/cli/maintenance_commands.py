"""``ctw discover`` and ``ctw reconcile``: keep the catalog and the running sessions in step."""

from __future__ import annotations

import typer

from ctworkflow.cli import options


def discover(
    account: options.Account = None,
    project: options.Project = None,
    as_json: options.Json = False,
) -> None:
    """Register the contexts and components found in the project's repository.

    Prints the layout read, what changed and what was skipped and why; finding no context
    is an error that says why (exit status 2), and registers nothing.
    """
    from ctworkflow.cli import render
    from ctworkflow.services import discovery

    report = discovery.discover_components(options.resolve_scope(account, project))
    lines = [f"read {report.commit[:12]}"]
    if report.profile is not None:
        lines.append(f"layout    {report.profile.describe()}")
    lines += [f"added     {name}" for name in report.added]
    lines += [f"renamed   {r.old_module} -> {r.new_module}" for r in report.renamed]
    lines += [f"removed   {name}" for name in report.removed]
    lines += [f"skipped   {s.path}: {s.reason}" for s in report.skipped]
    lines.append(f"unchanged {len(report.unchanged)}, skipped {len(report.skipped)}")
    render.emit(as_json, report.to_json(), "\n".join(lines))


def reconcile(as_json: options.Json = False) -> None:
    """Re-drive every session whose next step is due but not queued or not running."""
    from ctworkflow.cli import render
    from ctworkflow.services import lifecycle
    from ctworkflow.tasks import live

    report = lifecycle.reconcile(deps=live.deps())
    data = report.to_json()
    actions = ", ".join(f"{kind} {count}" for kind, count in sorted(report.actions.items()))
    text = f"looked at {report.sessions} active sessions; re-drove: {actions or 'nothing'}"
    render.emit(as_json, data, text)


def register(app: typer.Typer) -> None:
    """Add these commands to the program."""
    app.command("discover")(discover)
    app.command("reconcile")(reconcile)
