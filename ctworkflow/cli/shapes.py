"""The JSON documents the CLI prints: pure functions of domain values, nothing else.

Every ``--json`` output is built here, so its shape is tested without a database. Ids are
strings, times ISO 8601 in UTC, repository URLs have their credentials redacted, and artifacts
carry their test path, digest and report but not the test file's content.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ctworkflow.domain import agent_runs, landing, model, quality
from ctworkflow.domain.states import SessionStatus
from ctworkflow.effects.git import redact
from ctworkflow.services.session_views import SessionDetails

JSONDict = dict[str, Any]


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _id(value: uuid.UUID | None) -> str | None:
    return str(value) if value is not None else None


def account_json(account: model.Account) -> JSONDict:
    """An account."""
    return {"id": str(account.id), "name": account.name, "created_at": _time(account.created_at)}


def project_json(project: model.Project) -> JSONDict:
    """A project; its repository URL without credentials."""
    return {
        "id": str(project.id),
        "account_id": str(project.account_id),
        "name": project.name,
        "code_repo": redact(project.code_repo),
        "layout": project.layout.value,
        "default_branch": project.default_branch,
        "settings": dict(project.settings),
        "discovered_commit": project.discovered_commit,
        "created_at": _time(project.created_at),
    }


def project_details_json(project: model.Project, components: Iterable[model.Component]) -> JSONDict:
    """A project with its components."""
    return {**project_json(project), "components": [component_json(c) for c in components]}


def component_json(component: model.Component) -> JSONDict:
    """A component."""
    return {
        "id": str(component.id),
        "name": component.name,
        "module_name": component.module_name,
        "type": component.type,
        "priority": component.priority,
        "parent_id": _id(component.parent_id),
        "created_at": _time(component.created_at),
    }


def session_json(session: model.Session) -> JSONDict:
    """A session's own fields."""
    return {
        "id": str(session.id),
        "type": session.type.value,
        "status": session.status.value,
        "component_id": str(session.component_id),
        "parent_id": _id(session.parent_id),
        "user_id": session.user_id,
        "agent": session.agent,
        "attempt": session.attempt,
        "max_attempts": session.max_attempts,
        "branch_name": session.branch_name,
        "base_commit": session.base_commit,
        "error": session.error,
        "idempotency_key": session.idempotency_key,
        "state": session.state.to_json(),
        "created_at": _time(session.created_at),
        "updated_at": _time(session.updated_at),
        "completed_at": _time(session.completed_at),
    }


def interaction_json(interaction: model.Interaction) -> JSONDict:
    """One step of a session: its command and its outcome (null while it runs)."""
    outcome = interaction.outcome
    return {
        "id": str(interaction.id),
        "step": interaction.step,
        "attempt": interaction.attempt,
        "command": interaction.command.to_json(),
        "outcome": None
        if outcome is None
        else {
            "status": outcome.status.value,
            "data": outcome.data_json(),
            "exit_code": outcome.exit_code,
            "stdout_tail": outcome.stdout_tail,
            "stderr_tail": outcome.stderr_tail,
            "error_message": outcome.error_message,
        },
        "duration_ms": interaction.duration_ms,
        "started_at": _time(interaction.started_at),
        "completed_at": _time(interaction.completed_at),
    }


def artifact_json(artifact: model.Artifact) -> JSONDict:
    """What a child produced: its test file's path and digest, and the test report."""
    return {
        "attempt": artifact.attempt,
        "test_path": artifact.test_path,
        "digest": artifact.digest,
        "report": artifact.report.to_json(),
        "created_at": _time(artifact.created_at),
    }


def current_step(interactions: Sequence[model.Interaction]) -> str | None:
    """The step the session is at: its newest interaction, with its attempt."""
    if not interactions:
        return None
    last = interactions[-1]
    return f"{last.step} (attempt {last.attempt})"


def progress_json(children: Iterable[model.Session]) -> JSONDict:
    """How many children there are, by status; ``done`` counts the ended ones."""
    counts = {status.value: 0 for status in SessionStatus}
    for child in children:
        counts[child.status.value] += 1
    total = sum(counts.values())
    return {"total": total, "done": total - counts[SessionStatus.ACTIVE.value], **counts}


@dataclass(frozen=True, slots=True, kw_only=True)
class ComponentRow:
    """One line of the per-component view."""

    session_id: uuid.UUID
    module_name: str
    status: SessionStatus
    attempt: int
    tests_collected: int | None
    tests_passed: int | None
    tests_failed: int | None
    duration_s: float
    error: str | None
    #: Coverage and mutation score, base and after (:func:`ctworkflow.domain.quality.headline`).
    quality: dict[str, Any] = field(default_factory=dict)


def component_rows(details: SessionDetails, now: datetime) -> list[ComponentRow]:
    """The children of a context session as rows, in their components' order."""
    rows = []
    for child in details.children:
        component = details.components.get(child.component_id)
        artifact = details.artifacts.get(child.id)
        report = artifact.report if artifact is not None else None
        end = (child.completed_at or child.updated_at) if child.terminal else now
        rows.append(
            ComponentRow(
                session_id=child.id,
                module_name=component.module_name if component else str(child.component_id),
                status=child.status,
                attempt=child.attempt,
                tests_collected=report.collected if report else None,
                tests_passed=report.passed if report else None,
                tests_failed=(report.failed + report.errors) if report else None,
                duration_s=round(max((end - child.created_at).total_seconds(), 0.0), 1),
                error=child.error,
                quality=quality.headline(report.quality if report else None),
            )
        )
    return rows


def row_json(row: ComponentRow) -> JSONDict:
    """A per-component row."""
    return {
        "session_id": str(row.session_id),
        "module_name": row.module_name,
        "status": row.status.value,
        "attempt": row.attempt,
        "tests_collected": row.tests_collected,
        "tests_passed": row.tests_passed,
        "tests_failed": row.tests_failed,
        "duration_s": row.duration_s,
        "error": row.error,
        "coverage": row.quality.get("coverage"),
        "mutation": row.quality.get("mutation"),
    }


def watch_json(details: SessionDetails, now: datetime) -> JSONDict:
    """One snapshot of a watched session: status, step, progress and per-component rows."""
    return {
        "id": str(details.session.id),
        "status": details.session.status.value,
        "attempt": details.session.attempt,
        "step": current_step(details.interactions),
        "branch_name": details.session.branch_name,
        "commit": details.session.pushed_commit,
        "progress": progress_json(details.children),
        "outcome": outcome_json(details),
        "components": [row_json(r) for r in component_rows(details, now)],
    }


def details_json(
    details: SessionDetails,
    child_steps: Mapping[uuid.UUID, Sequence[model.Interaction]] | None = None,
) -> JSONDict:
    """The whole session: its fields, context, commit, children (with their component and
    newest artifact) and every interaction; with ``child_steps``, also what the agents used
    (``usage``, summed over every run) and each child's agent runs with their transcripts."""
    context = details.components.get(details.session.component_id)
    document = {
        **session_json(details.session),
        "context": component_json(context) if context else None,
        "commit": details.session.pushed_commit,
        "progress": progress_json(details.children),
        "outcome": outcome_json(details),
        "children": [_child_json(details, child, child_steps) for child in details.children],
        "interactions": [interaction_json(i) for i in details.interactions],
    }
    if child_steps is not None:
        every = [i for steps in child_steps.values() for i in steps]
        own = [*details.interactions, *every]
        document["usage"] = agent_runs.usage(own).to_json()
    else:
        document["usage"] = agent_runs.usage(details.interactions).to_json()
    return document


def outcome(details: SessionDetails) -> landing.SessionOutcome | None:
    """What the ended session left: the components that landed and those that failed."""
    return landing.outcome_of(
        details.session, details.children, details.components, details.artifacts
    )


def outcome_json(details: SessionDetails) -> JSONDict | None:
    """:func:`outcome` as JSON (null while the session runs, or once it was cancelled)."""
    found = outcome(details)
    return found.to_json() if found else None


def _child_json(
    details: SessionDetails,
    child: model.Session,
    child_steps: Mapping[uuid.UUID, Sequence[model.Interaction]] | None,
) -> JSONDict:
    component = details.components.get(child.component_id)
    artifact = details.artifacts.get(child.id)
    document = {
        **session_json(child),
        "component": component_json(component) if component else None,
        "artifact": artifact_json(artifact) if artifact else None,
        "quality": quality.headline(artifact.report.quality if artifact else None),
    }
    if child_steps is not None:
        steps = child_steps.get(child.id, ())
        document["usage"] = agent_runs.usage(steps).to_json()
        document["agent_runs"] = [run.to_json() for run in agent_runs.runs(steps)]
    return document


def _first_line(text: str | None) -> str:
    stripped = (text or "").strip()
    return stripped.splitlines()[0] if stripped else ""


def change_lines(details: SessionDetails, now: datetime) -> list[tuple[str, str]]:
    """What a plain watch prints: one line for the session, one per component, each keyed,
    so that a line is printed again only when its text changed."""
    session = details.session
    progress = progress_json(details.children)
    lines = [
        (
            "session",
            f"session {session.id} {session.status.value}, step "
            f"{current_step(details.interactions) or '-'}, {progress['done']}/{progress['total']}"
            f" components ended, {progress['complete']} complete",
        )
    ]
    for row in component_rows(details, now):
        tests = (
            f", tests {row.tests_passed}/{row.tests_collected} passed"
            if row.tests_collected is not None
            else ""
        )
        reason = f": {_first_line(row.error)}" if row.error else ""
        lines.append(
            (
                str(row.session_id),
                f"  {row.module_name} {row.status.value}, attempt {row.attempt}{tests}{reason}",
            )
        )
    return lines


def end_line(details: SessionDetails) -> str:
    """The last line of a plain watch: how the session ended."""
    session = details.session
    if session.status is SessionStatus.COMPLETE:
        commit = details.session.pushed_commit or "-"
        return f"session {session.id} complete: branch {session.branch_name}, commit {commit}"
    reason = f": {_first_line(session.error)}" if session.error else ""
    return f"session {session.id} {session.status.value}{reason}"
