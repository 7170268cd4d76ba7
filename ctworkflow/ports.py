"""The outside worlds the workflow steps use, each as a small Protocol.

The steps (:mod:`ctworkflow.workflow`) receive these through their
:class:`~ctworkflow.workflow.deps.Deps` bundle and never open a database transaction,
run git, send a Celery message or read the time by themselves:

- :class:`Transactions` opens a :class:`UnitOfWork`: one transaction with the session and
  catalog records in it (:mod:`ctworkflow.persistence.db` in production);
- :class:`GitRemote` reads and writes the project's remote (:mod:`ctworkflow.effects.git`);
- :class:`Dispatcher` sends the messages to the workers (:mod:`ctworkflow.tasks.dispatch`);
- :class:`Clock` tells the time and waits.

:mod:`ctworkflow.testing` implements every one of them in memory, so the workflow's decisions
(a retry round, a twin delivery, a cancel, a lease taken over) are unit tests with no server.
Only the methods the steps and the session use cases (:mod:`ctworkflow.services.lifecycle`, the
reconciler) call are here; the stores have more, for the rest of the service layer.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from ctworkflow.domain import model
from ctworkflow.domain.repository.repository_tree import TreeEntry
from ctworkflow.domain.routing import Next
from ctworkflow.domain.session_state import StatePatch
from ctworkflow.domain.states import SessionStatus, SessionType


class SessionRecords(Protocol):
    """Sessions, their interactions, leases and artifacts, inside one unit of work."""

    def add_session(self, scope: model.Scope, **values: Any) -> model.Session:
        """Insert a session; raise :class:`~ctworkflow.errors.Conflict` if its unique key (one
        active session per context, an idempotency key) was taken meanwhile."""
        ...

    def get_session(
        self, scope: model.Scope, session_id: uuid.UUID, *, for_update: bool = False
    ) -> model.Session: ...

    def find_session(
        self,
        scope: model.Scope,
        *,
        component_id: uuid.UUID | None = None,
        idempotency_key: str | None = None,
        active_context: bool = False,
    ) -> model.Session | None: ...

    def session_ids_between(
        self, scope: model.Scope, low: uuid.UUID, high: uuid.UUID
    ) -> list[uuid.UUID]: ...

    def list_sessions(
        self,
        scope: model.Scope,
        *,
        statuses: Iterable[SessionStatus] = (),
        type: SessionType | None = None,
        parent_id: uuid.UUID | None = None,
        limit: int = 100,
    ) -> list[model.Session]: ...

    def active_context_scopes(self) -> list[model.Scope]:
        """The tenants that have an active context session (the one read across tenants)."""
        ...

    def touch(self, scope: model.Scope, session_ids: Sequence[uuid.UUID]) -> None:
        """Mark sessions as just handled (their ``updated_at``)."""
        ...

    def set_children_max_attempts(
        self, scope: model.Scope, parent_id: uuid.UUID, max_attempts: int
    ) -> None: ...

    def children(self, scope: model.Scope, parent_id: uuid.UUID) -> list[model.Session]: ...

    def round_children(
        self, scope: model.Scope, parent_id: uuid.UUID
    ) -> list[model.RoundChild]: ...

    def add_children(
        self, parent: model.Session, component_ids: Sequence[uuid.UUID], **values: Any
    ) -> None: ...

    def branch_holders(
        self, scope: model.Scope, branch_name: str, *, besides: uuid.UUID
    ) -> list[model.Session]: ...

    def branches_in_use(
        self, scope: model.Scope, names: Sequence[str], *, besides_component: uuid.UUID
    ) -> set[str]: ...

    def set_status(
        self,
        scope: model.Scope,
        session_ids: Sequence[uuid.UUID],
        *,
        expected: SessionStatus,
        target: SessionStatus,
        error: str | None = None,
    ) -> list[uuid.UUID]: ...

    def update_session(
        self,
        scope: model.Scope,
        session_id: uuid.UUID,
        *,
        only_if: SessionStatus | None = None,
        branch_name: str | None = None,
        base_commit: str | None = None,
        attempt: int | None = None,
        max_attempts: int | None = None,
        pushed_commit: str | None = None,
        state: StatePatch | None = None,
    ) -> bool: ...

    def start_round(
        self,
        scope: model.Scope,
        attempt: int,
        *,
        session_ids: Sequence[uuid.UUID],
        states: Mapping[uuid.UUID, StatePatch],
    ) -> None: ...

    def take_lease(
        self,
        scope: model.Scope,
        session_id: uuid.UUID,
        *,
        owner: str,
        expires_at: datetime,
        now: datetime,
        replacing: str | None = None,
    ) -> int | None: ...

    def renew_lease(
        self, scope: model.Scope, session_id: uuid.UUID, *, owner: str, expires_at: datetime
    ) -> bool: ...

    def release_lease(self, scope: model.Scope, session_id: uuid.UUID, *, owner: str) -> bool: ...

    def begin_interaction(
        self,
        scope: model.Scope,
        session_id: uuid.UUID,
        *,
        step: str,
        attempt: int,
        command: model.Command,
    ) -> model.Interaction: ...

    def update_interaction_command(
        self, scope: model.Scope, interaction: model.Interaction, command: model.Command
    ) -> None: ...

    def complete_interaction(
        self,
        scope: model.Scope,
        interaction: model.Interaction,
        outcome: model.Outcome,
        *,
        command: model.Command | None = None,
        completed_at: datetime | None = None,
    ) -> bool: ...

    def record_interactions(
        self,
        scope: model.Scope,
        session_id: uuid.UUID,
        interactions: Sequence[model.Interaction],
    ) -> int:
        """Write a run's journal in one statement: a new (step, attempt) is inserted, a pending
        row of the same id completed, any other row kept. How many rows were written."""
        ...

    def find_interaction(
        self, scope: model.Scope, session_id: uuid.UUID, *, step: str, attempt: int
    ) -> model.Interaction | None: ...

    def latest_attempts(self, scope: model.Scope, session_id: uuid.UUID) -> dict[str, int]: ...

    def interactions_of(
        self, scope: model.Scope, session_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[model.Interaction]]: ...

    def abandon_pending(self, scope: model.Scope, session_id: uuid.UUID, reason: str) -> int: ...

    def interactions(self, scope: model.Scope, session_id: uuid.UUID) -> list[model.Interaction]:
        """A session's whole history, oldest first."""
        ...

    def last_completed(
        self, scope: model.Scope, session_id: uuid.UUID
    ) -> model.Interaction | None: ...

    def add_artifact(
        self,
        scope: model.Scope,
        session_id: uuid.UUID,
        *,
        attempt: int,
        test_path: str,
        content: str,
        digest: str,
        report: Mapping[str, Any],
    ) -> bool: ...

    def latest_artifacts(
        self, scope: model.Scope, session_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, model.Artifact]: ...

    def round_artifact_heads(
        self, scope: model.Scope, parent_id: uuid.UUID
    ) -> dict[uuid.UUID, model.ArtifactHead]: ...

    def artifact_contents(
        self, scope: model.Scope, artifact_ids: Sequence[uuid.UUID]
    ) -> Iterator[tuple[uuid.UUID, str]]: ...

    def last_complete_context(
        self, scope: model.Scope, component_id: uuid.UUID
    ) -> model.Session | None: ...


class CatalogRecords(Protocol):
    """Projects and components, inside one unit of work."""

    def get_project(self, account_id: uuid.UUID, project_id: uuid.UUID) -> model.Project: ...

    def get_component(self, scope: model.Scope, component_id: uuid.UUID) -> model.Component: ...

    def find_component(
        self, scope: model.Scope, module_name: str, *, include_removed: bool = False
    ) -> model.Component | None: ...

    def component_ids_between(
        self, scope: model.Scope, low: uuid.UUID, high: uuid.UUID
    ) -> list[uuid.UUID]: ...

    def child_components(
        self, scope: model.Scope, parent_id: uuid.UUID
    ) -> list[model.Component]: ...

    def components_by_id(
        self, scope: model.Scope, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, model.Component]: ...


class UnitOfWork(Protocol):
    """One transaction: everything written in it is kept together, or nothing is."""

    @property
    def sessions(self) -> SessionRecords: ...

    @property
    def catalog(self) -> CatalogRecords: ...


class Transactions(Protocol):
    """Opens a unit of work: committed when the block ends, rolled back if it raises."""

    def __call__(self) -> AbstractContextManager[UnitOfWork]: ...


class GitRemote(Protocol):
    """The project's git remote, as the steps use it: read commits, check out, push."""

    def mirror(self, remote: str, *, need: str | None = None) -> Path: ...

    def remote_head(self, remote: str, branch: str) -> str | None: ...

    def commit_message(self, remote: str, commit: str) -> str: ...

    def create_branch(self, remote: str, branch: str, commit: str) -> None: ...

    def tree_entries(self, remote: str, commit: str) -> list[TreeEntry]: ...

    def blob_ids(self, remote: str, commit: str, paths: Sequence[str]) -> dict[str, str]: ...

    def read_blob(self, remote: str, commit: str, obj: str) -> str: ...

    def workspace(self, remote: str, commit: str) -> AbstractContextManager[Path]: ...

    def changed_paths(self, worktree: Path) -> list[str]: ...

    def commit_all(self, worktree: Path, paths: Sequence[str], message: str) -> str: ...

    def commits_between(self, remote: str, head: str, base: str) -> list[tuple[str, str]]: ...

    def delete_branch(self, remote: str, branch: str, *, expected_head: str) -> None: ...

    def push(
        self, worktree: Path, remote: str, branch: str, commit: str, *, expected_head: str | None
    ) -> None: ...


class Dispatcher(Protocol):
    """Sends the messages that move sessions on, and webhook deliveries, to the workers.

    Called only after the commit of what the message is about. The Celery implementation is
    :class:`ctworkflow.tasks.dispatch.CeleryDispatcher`, the one module that builds Celery
    messages. A method that cannot hand its message to the broker in time raises
    :class:`~ctworkflow.errors.BrokerUnavailable`; nothing is sent then.
    """

    def send_step(self, scope: model.Scope, session_id: uuid.UUID, route: Next) -> None:
        """Send the parent step ``route`` names, after the backoff its attempt calls for."""
        ...

    def send_round(
        self, scope: model.Scope, session_id: uuid.UUID, attempt: int, run_ids: Sequence[uuid.UUID]
    ) -> None:
        """Run a round: each child of ``run_ids``, then the round's validation once all ended
        (at once when nothing is to run)."""
        ...

    def send_validation(self, scope: model.Scope, session_id: uuid.UUID, attempt: int) -> None:
        """Validate a round outside its chord (it fired early, or its counter was lost)."""
        ...

    def send_component(
        self, scope: model.Scope, parent_id: uuid.UUID, child_id: uuid.UUID, attempt: int
    ) -> None:
        """Run one child's round outside its chord (a lost run, re-driven)."""
        ...

    def send_release(self, scope: model.Scope, session_id: uuid.UUID) -> None:
        """Delete the empty branch an ended context session left, in a worker."""
        ...

    def revoke_runs(self, child_ids: Sequence[uuid.UUID], attempt: int) -> None:
        """Revoke the queued runs of these children's round ``attempt`` (running ones stop by
        themselves on seeing the cancel)."""
        ...

    def send_webhook(self, delivery_id: uuid.UUID, countdown_s: float | None = None) -> None:
        """Make one attempt at a webhook delivery (after ``countdown_s`` seconds)."""
        ...


class Clock(Protocol):
    """The time, and waiting: a test's clock moves only when the test (or a wait) moves it."""

    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary start, never going back."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""
        ...
