"""The validation of a round (the chord callback): every component has a complete child whose
test file passes here, in the orchestrator's own run at the base commit."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from ctworkflow import errors, ports
from ctworkflow.domain import agent_runs, budgets, landing, model, regression, validation
from ctworkflow.domain.session_state import SessionState
from ctworkflow.domain.states import ParentStep, SessionStatus
from ctworkflow.effects import repository_layout
from ctworkflow.workflow import environment, recording, test_files
from ctworkflow.workflow.deps import Deps

#: Kept artifacts whose reports are read per transaction.
KEPT_PAGE = 500


class Verdict(StrEnum):
    """What a validation call did."""

    RECORDED = "recorded"  # it judged the round: move the session on
    WAITING = "waiting"  # a child of the round still runs: look again later
    IGNORED = "ignored"  # a late or duplicate callback: nothing to do


def validate(scope: model.Scope, session_id: uuid.UUID, attempt: int, deps: Deps) -> Verdict:
    """Check the round: every component has a complete child whose test file passes here.

    A round is judged only once every child has ended: a callback fired early (a child
    delivered twice is counted once by the chord, whichever copy returns first) waits.
    """
    with deps.transactions() as uow:
        session = uow.sessions.get_session(scope, session_id)
        interaction = uow.sessions.find_interaction(
            scope, session_id, step=ParentStep.SPAWN_COMPONENT_TESTING_SESSIONS, attempt=attempt
        )
        if session.status is not SessionStatus.ACTIVE or interaction is None:
            return Verdict.IGNORED  # cancelled or ended meanwhile: a late callback does nothing
        if not interaction.pending:
            return Verdict.IGNORED  # a duplicate callback
        children = uow.sessions.round_children(scope, session_id)
        if any(c.status is SessionStatus.ACTIVE for c in children):
            return Verdict.WAITING
        project = uow.catalog.get_project(scope.account_id, scope.project_id)
        components = uow.catalog.child_components(scope, session.component_id)
        # Heads only: the test files are read a page at a time as they are written.
        artifacts = uow.sessions.round_artifact_heads(scope, session_id)
    failures, to_run = validation.unverified(components, children, artifacts)
    checked = _check_here(deps, scope, project, session, to_run)
    disproved = validation.disproved(components, children, to_run, checked.after, checked.base)
    failures += disproved
    start = recording.StepStart(session=session, interaction=interaction)
    # What lands if the round lands: every artifact that passed (all of them, or none, under
    # the ``all`` policy).
    lost = {f.child_id for f in disproved}
    passing = [a for a in to_run if a.session_id not in lost]
    kept = validation.kept(passing, checked.base_digests)
    # A session whose agents spent its budget makes this round its last.
    over = _over_budget(deps, scope, project, children) if failures else None
    outcome, give_up = validation.verdict(
        failures,
        len(components),
        {a.test_path: checked.after[a.test_path] for a in passing if a.test_path in checked.after},
        _kept_summaries(deps, scope, kept),
        policy=landing.policy_of(project.settings),
        last_round=attempt >= session.max_attempts or over is not None,
    )
    outcome, give_up = budgets.verdict_within_budget(outcome, give_up, over)
    with deps.transactions() as uow:
        _fail_disproved(uow, scope, failures)
        # Every failure left is one no round can change: fail now, not after the rounds left.
        recorded = recording.finish(uow, scope, start, outcome, fail_session=give_up)
    return Verdict.RECORDED if recorded else Verdict.IGNORED


def _fail_disproved(
    uow: ports.UnitOfWork, scope: model.Scope, failures: Sequence[validation.Failure]
) -> None:
    """Fail every child that said complete but did not pass."""
    for failure in failures:
        if failure.child_id is not None:
            uow.sessions.set_status(
                scope,
                [failure.child_id],
                expected=SessionStatus.COMPLETE,
                target=SessionStatus.FAILED,
                error=failure.reason,
            )


def _check_here(
    deps: Deps,
    scope: model.Scope,
    project: model.Project,
    session: model.Session,
    to_run: Sequence[model.ArtifactHead],
) -> Checked:
    """The round's artifacts run here; when that cannot be done (e.g. the remote is
    unreachable), a report per artifact saying why, blaming no test."""
    assert session.base_commit is not None, "initialize records the base commit"
    try:
        return run_tests_here(
            deps,
            project,
            session.base_commit,
            [a.test_path for a in to_run],
            test_files.stored(deps.transactions, scope, to_run),
            session.runner,
            state=session.state,
        )
    except errors.CtWorkflowError as error:
        reports = {a.test_path: model.TestReport(errors=1, output_tail=str(error)) for a in to_run}
        return Checked(after=reports)


def _kept_summaries(
    deps: Deps, scope: model.Scope, kept: Sequence[model.ArtifactHead]
) -> list[dict[str, str]]:
    """What each kept test file's own run reported, read a page of artifacts at a time."""
    summaries: list[dict[str, str]] = []
    for start in range(0, len(kept), KEPT_PAGE):
        page = kept[start : start + KEPT_PAGE]
        with deps.transactions() as uow:
            found = uow.sessions.latest_artifacts(scope, [a.session_id for a in page])
        summaries += [
            {
                "test_path": a.test_path,
                "summary": regression.kept_summary(found[a.session_id].report),
            }
            for a in page
            if a.session_id in found
        ]
    return summaries


def _over_budget(
    deps: Deps, scope: model.Scope, project: model.Project, children: Sequence[model.RoundChild]
) -> str | None:
    """Why the session starts no new round because of its budget, or None."""
    if budgets.budget(project.settings, budgets.SESSION_BUDGET) is None:
        return None
    with deps.transactions() as uow:
        steps = uow.sessions.interactions_of(scope, [c.id for c in children])
    spent = agent_runs.usage(step for found in steps.values() for step in found)
    return budgets.session_over_budget(spent, project.settings)


@dataclass(frozen=True, slots=True, kw_only=True)
class Checked:
    """The orchestrator's own test runs of a round."""

    #: Every artifact's test file with the round's change applied, by test path.
    after: dict[str, model.TestReport]
    #: The test files that existed at the base, run there, unchanged.
    base: dict[str, model.TestReport] = field(default_factory=dict)
    #: Their digests at the base (:func:`ctworkflow.workflow.test_files.digest`).
    base_digests: dict[str, str] = field(default_factory=dict)


def run_tests_here(
    deps: Deps,
    project: model.Project,
    base_commit: str,
    test_paths: Sequence[str],
    files: Iterable[tuple[str, str]],
    runner_name: str | None = None,
    *,
    state: SessionState | None = None,
) -> Checked:
    """Run, in a workspace of the base commit and in the session's environment (``state``:
    the session's, which holds its recipe and layout), those of ``test_paths`` that exist there
    (the regression gate's base), then every one with the round's test ``files`` (path,
    content; read as they are written) applied."""
    if not test_paths:
        return Checked(after={})
    runner = deps.runner(project, runner_name)
    timeout_s = deps.settings.test_timeout_s
    state = state or SessionState()
    profile = repository_layout.session_profile(state, base_commit)
    deps.git.mirror(project.code_repo, need=base_commit)
    with (
        deps.git.workspace(project.code_repo, base_commit) as workspace,
        environment.prepared(
            deps,
            project,
            environment.session_recipe(state) or environment.recipe_for(project, workspace),
            profile,
            workspace,
        ) as ready,
    ):
        env = ready.environment
        digests: dict[str, str] = {}
        for path in test_paths:
            text = test_files.read_at_base(workspace, path, deps.settings)
            if text is not None:
                digests[path] = test_files.digest(text)
        base = (
            runner.run(workspace, list(digests), timeout_s=timeout_s, environment=env)
            if digests
            else {}
        )
        refused = test_files.write_artifacts(workspace, files, deps.settings)
        runnable = [path for path in test_paths if path not in refused]
        after = (
            runner.run(workspace, runnable, timeout_s=timeout_s, environment=env)
            if runnable
            else {}
        )
    return Checked(after={**after, **refused}, base=base, base_digests=digests)
