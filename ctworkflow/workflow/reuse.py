"""Incremental sessions in a step: read the facts :mod:`ctworkflow.domain.reuse` decides on,
from the store (the latest complete session of the context, its children's artifacts) and from
git (blob ids of just the components' files, at both base commits), and keep the verified
artifacts of the components that did not change.

:func:`plan` is read-only (what ``ctw session start --plan`` shows); :func:`keep_verified` is
what spawn does before its first round: a reused child is marked complete with a copy of the
earlier artifact, and one interaction says where it came from. Validation then runs its test
file here with the others, so what lands still passes.
"""

from __future__ import annotations

import json
import logging
import posixpath
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from ctworkflow import errors, ports
from ctworkflow.domain import model, reuse
from ctworkflow.domain.repository import layout_profile
from ctworkflow.domain.repository.environments import Recipe
from ctworkflow.domain.repository.layout_profile import LayoutProfile
from ctworkflow.domain.repository.layouts import Layout
from ctworkflow.domain.session_state import SessionState
from ctworkflow.domain.states import SessionStatus
from ctworkflow.effects import repository_layout
from ctworkflow.workflow import environment
from ctworkflow.workflow.children import add_missing_children
from ctworkflow.workflow.deps import DEFAULT_RUNNERS, Deps

logger = logging.getLogger(__name__)

#: The step of the one interaction a reused child records.
REUSE_STEP: Final = "reuse_verified_test"


@dataclass(frozen=True, slots=True, kw_only=True)
class Line:
    """One component of a plan: its module, the decision, and the artifact it would keep."""

    component: model.Component
    decision: reuse.Decision
    artifact: model.Artifact | None = None

    def to_json(self) -> dict[str, Any]:
        """The line as JSON (the CLI's and the API's plan)."""
        return {
            "component": self.component.module_name,
            "reuse": self.decision.reuse,
            "reason": self.decision.reason,
            "from_session": str(self.decision.source_session)
            if self.decision.source_session
            else None,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class _Side:
    """One session's view of the facts: its base commit, profile, environment and runner."""

    commit: str
    profile: LayoutProfile | None
    environment: str | None
    runner: str


def runner_name(project: model.Project, override: str | None) -> str:
    """The runner a session uses (as :meth:`Deps.runner` chooses it)."""
    return str(override or project.settings.get("runner") or DEFAULT_RUNNERS[project.layout])


def environment_fact(state: SessionState) -> str | None:
    """A session's environment: the key it built, else its recipe (no environment built)."""
    recorded = state.environment
    if not isinstance(recorded, Mapping):
        return None
    build = recorded.get("build")
    if isinstance(build, Mapping) and isinstance(build.get("key"), str):
        return str(build["key"])
    recipe = recorded.get("recipe")
    return json.dumps(recipe, sort_keys=True) if recipe is not None else None


def plan(
    deps: Deps,
    uow: ports.UnitOfWork,
    scope: model.Scope,
    project: model.Project,
    context_id: uuid.UUID,
    *,
    base: str,
    runner: str | None,
) -> list[Line]:
    """What a new session of the context at ``base`` would reuse and run, and why; writes
    nothing. Before Initialize the environment is predicted: the earlier one, when the files
    its recipe reads are the same blobs at ``base`` (spawn then compares the built key)."""
    earlier = uow.sessions.last_complete_context(scope, context_id)
    components = uow.catalog.child_components(scope, context_id)
    if earlier is None or earlier.base_commit is None:
        return _all_run(components, None)
    then = _side_of(project, earlier)
    env = _predicted_environment(deps, project, earlier, base)
    now = _Side(
        commit=base, profile=then.profile, environment=env, runner=runner_name(project, runner)
    )
    verified = _verified_artifacts(uow, scope, earlier)
    return _decide(deps, project, components, earlier, verified, then, now)


def keep_verified(
    deps: Deps, scope: model.Scope, session_id: uuid.UUID, *, full: bool = False
) -> list[Line]:
    """Mark complete, each with a copy of the earlier verified artifact, the children of
    ``session_id`` whose component did not change since the latest complete session of its
    context (only children still waiting for their first round). Returns the plan it followed.

    Reuse only saves work: when its facts cannot be read (git or the database failing), every
    component runs, and the reason is logged.
    """
    try:
        return _keep_verified(deps, scope, session_id, full=full)
    except errors.CtWorkflowError as error:
        logger.warning("session %s: reusing no verified tests: %s", session_id, error)
        return []


def _keep_verified(
    deps: Deps, scope: model.Scope, session_id: uuid.UUID, *, full: bool
) -> list[Line]:
    # Three phases, so no transaction stays open while git runs: read the facts the store
    # holds, read git's, then keep what did not change (children re-read: one may have moved).
    with deps.transactions() as uow:
        session = uow.sessions.get_session(scope, session_id)
        project = uow.catalog.get_project(scope.account_id, scope.project_id)
        if not reuse.enabled(project.settings, full=full) or session.base_commit is None:
            return []
        earlier = uow.sessions.last_complete_context(scope, session.component_id)
        if earlier is None or earlier.base_commit is None or earlier.id == session.id:
            return []  # nothing to reuse: spawn reads the children itself (once per round)
        components = uow.catalog.child_components(scope, session.component_id)
        add_missing_children(uow, session, components)
        verified = _verified_artifacts(uow, scope, earlier)
    then, now = _side_of(project, earlier), _side_of(project, session)
    lines = _decide(deps, project, components, earlier, verified, then, now)
    with deps.transactions() as uow:
        waiting = {
            c.component_id: c
            for c in uow.sessions.children(scope, session_id)
            if c.status is SessionStatus.ACTIVE and c.attempt == 0
        }
        kept = [
            _keep(uow, scope, child, line)
            for line in lines
            if line.decision.reuse
            and line.artifact is not None
            and (child := waiting.get(line.component.id)) is not None
        ]
        # The round's bookkeeping for all of them at once: one statement each, not per child.
        uow.sessions.start_round(scope, 1, session_ids=kept, states={})
        if kept:
            uow.sessions.set_status(
                scope, kept, expected=SessionStatus.ACTIVE, target=SessionStatus.COMPLETE
            )
    return lines


def _keep(uow: ports.UnitOfWork, scope: model.Scope, child: model.Session, line: Line) -> uuid.UUID:
    """Copy the earlier artifact to ``child`` and record where it came from; its id."""
    artifact = line.artifact
    assert artifact is not None
    uow.sessions.add_artifact(
        scope,
        child.id,
        attempt=1,
        test_path=artifact.test_path,
        content=artifact.content,
        digest=artifact.digest,
        report=artifact.report.to_json(),
    )
    said = model.Command(keyword=REUSE_STEP, metadata={"from_artifact": str(artifact.id)})
    interaction = uow.sessions.begin_interaction(
        scope, child.id, step=REUSE_STEP, attempt=1, command=said
    )
    data = {"reason": line.decision.reason, "from_session": str(line.decision.source_session)}
    uow.sessions.complete_interaction(scope, interaction, model.Outcome.ok(data=data))
    return child.id


def _all_run(components: Sequence[model.Component], earlier: None) -> list[Line]:
    return [Line(component=c, decision=reuse.decide(_NO_FACTS, earlier)) for c in components]


_NO_FACTS: Final = reuse.Facts(source_blob=None, test_blob=None, environment=None, runner=None)


def _side_of(project: model.Project, session: model.Session) -> _Side:
    assert session.base_commit is not None
    return _Side(
        commit=session.base_commit,
        profile=repository_layout.session_profile(session.state, session.base_commit),
        environment=environment_fact(session.state),
        runner=runner_name(project, session.runner),
    )


def _predicted_environment(
    deps: Deps, project: model.Project, earlier: model.Session, base: str
) -> str | None:
    recipe = environment.session_recipe(earlier.state)
    assert earlier.base_commit is not None
    files = list(recipe.files) if isinstance(recipe, Recipe) else []
    deps.git.mirror(project.code_repo, need=base)
    same = deps.git.blob_ids(project.code_repo, base, files) == deps.git.blob_ids(
        project.code_repo, earlier.base_commit, files
    )
    return environment_fact(earlier.state) if same else f"changed at {base[:12]}"


def _verified_artifacts(
    uow: ports.UnitOfWork, scope: model.Scope, earlier: model.Session
) -> dict[uuid.UUID, model.Artifact]:
    """The verified artifact of each component whose child ended complete in ``earlier``."""
    complete = {
        c.id: c.component_id
        for c in uow.sessions.children(scope, earlier.id)
        if c.status is SessionStatus.COMPLETE
    }
    artifacts = uow.sessions.latest_artifacts(scope, list(complete))
    return {complete[child]: artifact for child, artifact in artifacts.items()}


def _decide(
    deps: Deps,
    project: model.Project,
    components: Sequence[model.Component],
    earlier: model.Session,
    verified: Mapping[uuid.UUID, model.Artifact],
    then: _Side,
    now: _Side,
) -> list[Line]:
    """Each component's decision, from both sides' facts (two ``ls-tree`` of its files)."""
    sources = {
        c.id: _source_candidates(now.profile or then.profile, c.module_name) for c in components
    }
    tests = {c.id: verified[c.id].test_path for c in components if c.id in verified}
    paths = sorted({p for found in sources.values() for p in found} | set(tests.values()))
    deps.git.mirror(project.code_repo, need=now.commit)
    blobs_then = deps.git.blob_ids(project.code_repo, then.commit, paths)
    blobs_now = deps.git.blob_ids(project.code_repo, now.commit, paths)
    lines: list[Line] = []
    for component in components:
        test_path = tests.get(component.id)
        if test_path is None:
            decision = reuse.decide(
                _NO_FACTS, reuse.Earlier(session_id=earlier.id, facts=_NO_FACTS, artifact_blob=None)
            )
            lines.append(Line(component=component, decision=decision))
            continue
        artifact = verified[component.id]
        earlier_facts = _facts(blobs_then, sources[component.id], test_path, then)
        decision = reuse.decide(
            _facts(blobs_now, sources[component.id], test_path, now),
            reuse.Earlier(
                session_id=earlier.id,
                facts=earlier_facts,
                artifact_blob=reuse.blob_id(artifact.content),
            ),
        )
        lines.append(Line(component=component, decision=decision, artifact=artifact))
    return lines


def _facts(
    blobs: Mapping[str, str], sources: Sequence[str], test_path: str, side: _Side
) -> reuse.Facts:
    source = next((blobs[p] for p in sources if p in blobs), None)
    return reuse.Facts(
        source_blob=source,
        test_blob=blobs.get(test_path),
        environment=side.environment,
        runner=side.runner,
    )


def _source_candidates(profile: LayoutProfile | None, module_name: str) -> list[str]:
    """Where the module's source file can be: the path its name gives, and for a Python
    package its ``__init__.py`` (read without the whole tree)."""
    if profile is None:
        return []
    path = layout_profile.source_path(profile, module_name)
    if profile.layout is Layout.PHOENIX:
        return [path]
    return [path, posixpath.join(path.removesuffix(".py"), "__init__.py")]
