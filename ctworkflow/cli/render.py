"""How the CLI looks: rich tables, the live view's layout, and JSON printing. No commands here."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from ctworkflow.cli import shapes
from ctworkflow.domain import model, quality
from ctworkflow.domain.agent_usage import Usage
from ctworkflow.domain.states import SessionStatus
from ctworkflow.services.catalog import CONTEXT_TYPES
from ctworkflow.services.session_views import SessionDetails

STATUS_STYLES = {
    SessionStatus.ACTIVE: "yellow",
    SessionStatus.COMPLETE: "green",
    SessionStatus.FAILED: "red",
    SessionStatus.CANCELLED: "magenta",
}


def console() -> Console:
    """The console commands print to (stdout; wide enough not to wrap ids in pipes)."""
    return Console(width=None if Console().is_terminal else 160)


def print_json(data: Any) -> None:
    """Print a JSON document on stdout."""
    console().out(json.dumps(data, indent=2), highlight=False)


def emit(as_json: bool, data: Any, text: RenderableType) -> None:
    """Print ``data`` as JSON with ``--json``, else ``text`` (a line or a rich renderable)."""
    if as_json:
        print_json(data)
    else:
        console().print(text, highlight=False, soft_wrap=isinstance(text, str))


def _status(status: SessionStatus) -> Text:
    return Text(status.value, style=STATUS_STYLES[status])


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)


def first_line(text: str | None) -> str:
    """A reason's first line, whole (a table cell wraps it rather than cut it)."""
    stripped = (text or "").strip()
    return stripped.splitlines()[0] if stripped else ""


def _id_column(table: Table, header: str = "id") -> None:
    # Ids are shown whole, never cut to fit: people copy them into the next command.
    table.add_column(header, no_wrap=True, min_width=36)


def _reason_column(table: Table, header: str = "error") -> None:
    table.add_column(header, overflow="fold", ratio=1)


def components_table(rows: Sequence[shapes.ComponentRow]) -> Table:
    """One line per component: status, attempt, test counts, coverage and mutation score
    (base→after), duration, why it failed."""
    table = Table(title="components", title_justify="left")
    table.add_column("component", overflow="fold")
    for header in ("status", "attempt"):
        table.add_column(header)
    for header in ("tests", "passed", "failed", "cov %", "mut %", "duration"):
        table.add_column(header, justify="right")
    _reason_column(table)
    _id_column(table, "session")
    for row in rows:
        table.add_row(
            row.module_name,
            _status(row.status),
            str(row.attempt),
            _count(row.tests_collected),
            _count(row.tests_passed),
            _count(row.tests_failed),
            quality.arrow(row.quality.get("coverage") or {}),
            quality.arrow(row.quality.get("mutation") or {}),
            f"{row.duration_s:.1f} s",
            first_line(row.error),
            str(row.session_id),
        )
    return table


def watch_view(details: SessionDetails, now: datetime) -> RenderableType:
    """The live view: the session's status and step, a progress bar, the components table."""
    session = details.session
    progress = shapes.progress_json(details.children)
    header = Text.assemble(
        ("session ", "bold"),
        str(session.id),
        "  ",
        _status(session.status),
        f"  step {shapes.current_step(details.interactions) or '-'}",
    )
    bar = Table.grid(padding=(0, 1))
    bar.add_row(
        ProgressBar(total=max(progress["total"], 1), completed=progress["done"], width=40),
        Text(
            f"{progress['done']}/{progress['total']} components ended, "
            f"{progress['complete']} complete"
        ),
    )
    parts: list[RenderableType] = [
        header,
        bar,
        components_table(shapes.component_rows(details, now)),
    ]
    if session.error:
        parts.append(Text(f"error: {first_line(session.error)}", style="red"))
    return Group(*parts)


def outcome_table(details: SessionDetails) -> Table:
    """The session's steps: step, attempt, outcome, duration, error."""
    table = Table(title="steps", title_justify="left")
    for header in ("step", "attempt", "outcome", "duration"):
        table.add_column(header)
    _reason_column(table)
    for interaction in details.interactions:
        outcome = interaction.outcome
        table.add_row(
            interaction.step,
            str(interaction.attempt),
            outcome.status.value if outcome else "running",
            f"{interaction.duration_ms / 1000:.1f} s"
            if interaction.duration_ms is not None
            else "",
            first_line(outcome.error_message if outcome else None),
        )
    return table


def usage_line(usage: Usage) -> str:
    """What agent runs used, in one line: tokens, cost and turns where known, wall time."""
    parts = []
    if usage.input_tokens is not None or usage.output_tokens is not None:
        parts.append(f"tokens {usage.input_tokens or 0} in, {usage.output_tokens or 0} out")
    if usage.cost_usd is not None:
        parts.append(f"${usage.cost_usd:.4f}")
    if usage.turns is not None:
        parts.append(f"{usage.turns} turns")
    if usage.wall_s is not None:
        parts.append(f"{usage.wall_s:.1f} s")
    return ", ".join(parts) or "-"


def session_view(
    details: SessionDetails, now: datetime, usage: Usage | None = None
) -> RenderableType:
    """``session show``: the session's fields, its steps, its components."""
    session = details.session
    context = details.components.get(session.component_id)
    fields = Table.grid(padding=(0, 2))
    for name, value in (
        ("session", str(session.id)),
        ("context", context.module_name if context else str(session.component_id)),
        ("status", _status(session.status)),
        ("attempt", f"{session.attempt} of {session.max_attempts}"),
        ("branch", session.branch_name or "-"),
        ("base commit", session.base_commit or "-"),
        ("commit", details.session.pushed_commit or "-"),
        ("error", first_line(session.error) or "-"),
        *((("agent usage", usage_line(usage)),) if usage is not None else ()),
    ):
        fields.add_row(Text(name, style="bold"), value)
    ended = shapes.outcome(details)
    if ended is not None:
        label = "partial: " if ended.partial else ""
        fields.add_row(Text("outcome", style="bold"), Text(label + ended.describe()))
    return Group(
        fields, outcome_table(details), components_table(shapes.component_rows(details, now))
    )


def sessions_table(sessions: Sequence[model.Session]) -> Table:
    """A list of sessions, newest first."""
    table = Table()
    _id_column(table)
    for header in ("type", "status", "attempt", "branch", "created"):
        table.add_column(header)
    _reason_column(table)
    for session in sessions:
        table.add_row(
            str(session.id),
            session.type.value,
            _status(session.status),
            str(session.attempt),
            session.branch_name or "",
            session.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            first_line(session.error),
        )
    return table


def catalog_table(components: Sequence[model.Component]) -> Table:
    """The components of a project."""
    by_id = {c.id: c for c in components}
    table = Table()
    for header in ("module", "name", "type", "priority", "parent"):
        table.add_column(header, overflow="fold")
    _id_column(table)
    for component in components:
        parent = by_id.get(component.parent_id) if component.parent_id else None
        table.add_row(
            component.module_name,
            first_line(component.name),
            component.type,
            str(component.priority),
            parent.module_name if parent else "",
            str(component.id),
        )
    return table


def accounts_table(accounts: Sequence[model.Account]) -> Table:
    """Every account."""
    table = Table()
    _id_column(table)
    table.add_column("name", overflow="fold")
    table.add_column("created")
    for account in accounts:
        table.add_row(str(account.id), account.name, f"{account.created_at:%Y-%m-%d %H:%M:%S}")
    return table


def projects_table(projects: Sequence[model.Project]) -> Table:
    """The projects of an account."""
    table = Table()
    _id_column(table)
    for header in ("name", "layout", "default branch", "repository"):
        table.add_column(header, overflow="fold")
    for project in projects:
        table.add_row(
            str(project.id),
            project.name,
            project.layout.value,
            project.default_branch,
            shapes.project_json(project)["code_repo"],
        )
    return table


def project_view(project: model.Project, components: Sequence[model.Component]) -> Group:
    """``project show``: the project's fields, then its components."""
    shown = shapes.project_json(project)
    fields = Table.grid(padding=(0, 2))
    contexts = [c for c in components if c.type in CONTEXT_TYPES]
    for name, value in (
        ("project", shown["id"]),
        ("name", project.name),
        ("account", shown["account_id"]),
        ("repository", shown["code_repo"]),
        ("layout", project.layout.value),
        ("default branch", project.default_branch),
        ("settings", json.dumps(shown["settings"], sort_keys=True)),
        ("discovered at", project.discovered_commit or "-"),
        ("components", f"{len(components)}, of which {len(contexts)} contexts"),
    ):
        fields.add_row(Text(name, style="bold"), Text(str(value)))
    return Group(fields, catalog_table(components))
