"""An in-memory database implementing :class:`~ctworkflow.ports.Transactions`.

It keeps what the SQL stores keep (sessions, interactions, artifacts, projects, components)
in dictionaries of the domain's frozen values, with the same rules: every read and write is
scoped by tenant, a status changes only through the compare-and-set of
:meth:`InMemorySessions.set_status` (which refuses what the status table forbids), a step's
interaction is unique per (session, step, attempt), an artifact per (session, attempt), and a
lease is taken only when it is free. A unit of work that raises leaves nothing behind.
"""

from __future__ import annotations

import copy
import dataclasses
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ctworkflow import errors, ports
from ctworkflow.domain import model
from ctworkflow.domain.repository.layouts import Layout
from ctworkflow.domain.session_state import SessionState, StatePatch
from ctworkflow.domain.states import (
    TERMINAL,
    ComponentKind,
    ExecutionMode,
    SessionStatus,
    SessionType,
    can_transition,
)


@dataclass(slots=True)
class Tables:
    """Everything the in-memory database holds."""

    accounts: dict[uuid.UUID, model.Account] = field(default_factory=dict)
    projects: dict[uuid.UUID, model.Project] = field(default_factory=dict)
    components: dict[uuid.UUID, model.Component] = field(default_factory=dict)
    sessions: dict[uuid.UUID, model.Session] = field(default_factory=dict)
    interactions: dict[uuid.UUID, model.Interaction] = field(default_factory=dict)
    artifacts: dict[tuple[uuid.UUID, int], model.Artifact] = field(default_factory=dict)
    #: The order interactions completed in: what tells apart two completed at the same
    #: instant of a clock that stands still.
    completions: dict[uuid.UUID, int] = field(default_factory=dict)
    #: Every status change that ended a session, in order (the SQL store's webhook outbox).
    ended: list[tuple[uuid.UUID, SessionStatus]] = field(default_factory=list)


_TABLES = tuple(f.name for f in dataclasses.fields(Tables))


def _in_scope(scope: model.Scope, row: model.Session | model.Component) -> bool:
    return row.account_id == scope.account_id and row.project_id == scope.project_id


def _active_context(session: model.Session) -> bool:
    return session.parent_id is None and session.status is SessionStatus.ACTIVE


def _same_unique_key(new: model.Session, other: model.Session) -> bool:
    """The SQL tables' unique keys: an idempotency key per project, one child per (parent,
    component), one active context session per (project, context)."""
    if new.project_id != other.project_id:
        return False
    if new.idempotency_key is not None and new.idempotency_key == other.idempotency_key:
        return True
    if new.component_id != other.component_id:
        return False
    if new.parent_id is not None:
        return new.parent_id == other.parent_id
    return _active_context(new) and _active_context(other)


class InMemoryCatalog:
    """Projects and components (:class:`~ctworkflow.ports.CatalogRecords`)."""

    def __init__(self, tables: Tables, clock: ports.Clock) -> None:
        self._t = tables
        self._clock = clock

    def add_account(self, name: str) -> model.Account:
        account = model.Account(id=uuid.uuid4(), name=name, created_at=self._clock.now())
        self._t.accounts[account.id] = account
        return account

    def add_project(
        self,
        account_id: uuid.UUID,
        *,
        name: str,
        code_repo: str,
        layout: Layout,
        default_branch: str,
        settings: Mapping[str, Any],
    ) -> model.Project:
        project = model.Project(
            id=uuid.uuid4(),
            account_id=account_id,
            name=name,
            code_repo=code_repo,
            layout=layout,
            default_branch=default_branch,
            settings=dict(settings),
            created_at=self._clock.now(),
        )
        self._t.projects[project.id] = project
        return project

    def add_component(
        self,
        scope: model.Scope,
        *,
        name: str,
        module_name: str,
        type: str,
        priority: int,
        parent_id: uuid.UUID | None,
    ) -> model.Component:
        component = model.Component(
            id=uuid.uuid4(),
            account_id=scope.account_id,
            project_id=scope.project_id,
            parent_id=parent_id,
            name=name,
            module_name=module_name,
            type=type,
            priority=priority,
            created_at=self._clock.now(),
        )
        self._t.components[component.id] = component
        return component

    def get_project(self, account_id: uuid.UUID, project_id: uuid.UUID) -> model.Project:
        found = self._t.projects.get(project_id)
        if found is None or found.account_id != account_id:
            raise errors.ProjectNotFound(project_id)
        return found

    def get_component(self, scope: model.Scope, component_id: uuid.UUID) -> model.Component:
        found = self._t.components.get(component_id)
        if found is None or not _in_scope(scope, found):
            raise errors.ComponentNotFound(component_id)
        return found

    def child_components(self, scope: model.Scope, parent_id: uuid.UUID) -> list[model.Component]:
        found = [
            c
            for c in self._t.components.values()
            if _in_scope(scope, c) and c.parent_id == parent_id and not c.removed
        ]
        return sorted(found, key=lambda c: (-c.priority, c.name, c.module_name))

    def find_component(
        self, scope: model.Scope, module_name: str, *, include_removed: bool = False
    ) -> model.Component | None:
        for found in self._t.components.values():
            named = _in_scope(scope, found) and found.module_name == module_name
            if named and (include_removed or not found.removed):
                return found
        return None

    def component_ids_between(
        self, scope: model.Scope, low: uuid.UUID, high: uuid.UUID
    ) -> list[uuid.UUID]:
        """Up to two ids of the project's components in ``[low, high]``."""
        found = [c.id for c in self._t.components.values() if _in_scope(scope, c)]
        return sorted(i for i in found if low <= i <= high)[:2]

    def components_by_id(
        self, scope: model.Scope, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, model.Component]:
        return {
            i: c
            for i in ids
            if (c := self._t.components.get(i)) is not None and _in_scope(scope, c)
        }


class InMemorySessions:
    """Sessions, interactions, leases and artifacts (:class:`~ctworkflow.ports.SessionRecords`)."""

    def __init__(self, tables: Tables, clock: ports.Clock) -> None:
        self._t = tables
        self._clock = clock

    # -- sessions -------------------------------------------------------------------------

    def add_session(self, scope: model.Scope, **values: Any) -> model.Session:
        """Insert a session of the scope (its first status is not a status change)."""
        now = self._clock.now()
        defaults: dict[str, Any] = {
            "id": uuid.uuid4(),
            "user_id": scope.user_id,
            "parent_id": None,
            "execution_mode": ExecutionMode.AGENTIC,
            "environment_type": "local",
            "state": SessionState(),
            "attempt": 0,
            "max_attempts": 3,
            "idempotency_key": None,
            "branch_name": None,
            "base_commit": None,
            "error": None,
            "created_at": now,
            "updated_at": now,
            "completed_at": None,
        }
        fields = {**defaults, **values}
        if isinstance(fields["state"], Mapping):  # as the SQL store takes it: a JSON document
            fields["state"] = SessionState.from_json(fields["state"])
        session = model.Session(account_id=scope.account_id, project_id=scope.project_id, **fields)
        if any(_same_unique_key(session, other) for other in self._t.sessions.values()):
            raise errors.Conflict(f"a session with the unique key of {session.id} is there")
        self._t.sessions[session.id] = session
        return session

    def find_session(
        self,
        scope: model.Scope,
        *,
        component_id: uuid.UUID | None = None,
        idempotency_key: str | None = None,
        active_context: bool = False,
    ) -> model.Session | None:
        for found in self._t.sessions.values():
            if not _in_scope(scope, found):
                continue
            if idempotency_key is not None and found.idempotency_key != idempotency_key:
                continue
            if component_id is not None and found.component_id != component_id:
                continue
            if active_context and not _active_context(found):
                continue
            return found
        return None

    def session_ids_between(
        self, scope: model.Scope, low: uuid.UUID, high: uuid.UUID
    ) -> list[uuid.UUID]:
        """Up to two ids of the project's sessions in ``[low, high]``."""
        found = [s.id for s in self._t.sessions.values() if _in_scope(scope, s)]
        return sorted(i for i in found if low <= i <= high)[:2]

    def list_sessions(
        self,
        scope: model.Scope,
        *,
        statuses: Iterable[SessionStatus] = (),
        type: SessionType | None = None,
        parent_id: uuid.UUID | None = None,
        limit: int = 100,
    ) -> list[model.Session]:
        """Sessions of the project, newest first."""
        wanted = set(statuses)
        found = [
            s
            for s in self._t.sessions.values()
            if _in_scope(scope, s)
            and (not wanted or s.status in wanted)
            and (type is None or s.type is type)
            and (parent_id is None or s.parent_id == parent_id)
        ]
        newest_first = sorted(found, key=lambda s: s.id)
        newest_first.sort(key=lambda s: s.created_at, reverse=True)
        return newest_first[:limit]

    def active_context_scopes(self) -> list[model.Scope]:
        """The tenants that have an active context session."""
        tenants = {
            (s.account_id, s.project_id) for s in self._t.sessions.values() if _active_context(s)
        }
        return [
            model.Scope(account_id=a, project_id=p, user_id="reconciler")
            for a, p in sorted(tenants)
        ]

    def touch(self, scope: model.Scope, session_ids: Sequence[uuid.UUID]) -> None:
        """Mark sessions as just handled (``updated_at``)."""
        for session_id in session_ids:
            found = self._t.sessions.get(session_id)
            if found is not None and _in_scope(scope, found):
                self._t.sessions[session_id] = dataclasses.replace(
                    found, updated_at=self._clock.now()
                )

    def set_children_max_attempts(
        self, scope: model.Scope, parent_id: uuid.UUID, max_attempts: int
    ) -> None:
        """Give every child of a parent the parent's budget of rounds."""
        for child in self.children(scope, parent_id):
            self._t.sessions[child.id] = dataclasses.replace(child, max_attempts=max_attempts)

    def get_session(
        self, scope: model.Scope, session_id: uuid.UUID, *, for_update: bool = False
    ) -> model.Session:
        found = self._t.sessions.get(session_id)
        if found is None or not _in_scope(scope, found):
            raise errors.SessionNotFound(session_id)
        return found

    def children(self, scope: model.Scope, parent_id: uuid.UUID) -> list[model.Session]:
        found = [
            s for s in self._t.sessions.values() if s.parent_id == parent_id and _in_scope(scope, s)
        ]
        components = self._t.components

        def order(s: model.Session) -> tuple[int, str, str]:
            c = components[s.component_id]
            return (-c.priority, c.name, c.module_name)

        return sorted(found, key=order)

    def add_children(
        self, parent: model.Session, component_ids: Sequence[uuid.UUID], **values: Any
    ) -> None:
        existing = {s.component_id for s in self._t.sessions.values() if s.parent_id == parent.id}
        for component_id in component_ids:
            if component_id in existing:
                continue
            self.add_session(
                parent.scope,
                type=SessionType.COMPONENT_TESTING,
                status=SessionStatus.ACTIVE,
                user_id=parent.user_id,
                component_id=component_id,
                parent_id=parent.id,
                **values,
            )

    def branch_holders(
        self, scope: model.Scope, branch_name: str, *, besides: uuid.UUID
    ) -> list[model.Session]:
        return [
            s
            for s in self._t.sessions.values()
            if _in_scope(scope, s)
            and s.parent_id is None
            and s.branch_name == branch_name
            and s.id != besides
        ]

    def branches_in_use(
        self, scope: model.Scope, names: Sequence[str], *, besides_component: uuid.UUID
    ) -> set[str]:
        return {
            s.branch_name
            for s in self._t.sessions.values()
            if _in_scope(scope, s)
            and s.parent_id is None
            and s.branch_name is not None
            and s.branch_name in names
            and s.component_id != besides_component
        }

    def set_status(
        self,
        scope: model.Scope,
        session_ids: Sequence[uuid.UUID],
        *,
        expected: SessionStatus,
        target: SessionStatus,
        error: str | None = None,
    ) -> list[uuid.UUID]:
        """Compare-and-set, as the SQL store's: the table's rule, then only rows in
        ``expected``."""
        if not can_transition(expected, target):
            first = session_ids[0] if session_ids else None
            raise errors.InvalidTransition(first, expected, target)
        now = self._clock.now()
        changes: dict[str, Any] = {
            "updated_at": now,
            "completed_at": now if target in TERMINAL else None,
        }
        if error is not None or target in (SessionStatus.ACTIVE, SessionStatus.COMPLETE):
            changes["error"] = error
        moved: list[uuid.UUID] = []
        for session_id in session_ids:
            found = self._t.sessions.get(session_id)
            if found is None or not _in_scope(scope, found) or found.status is not expected:
                continue
            self._t.sessions[session_id] = dataclasses.replace(found, status=target, **changes)
            moved.append(session_id)
            if target in TERMINAL:
                self._t.ended.append((session_id, target))
        return moved

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
    ) -> bool:
        """Set the fields given (None: unchanged) and merge ``state`` into the session's, as
        the SQL store's one statement does: from the state stored, not a copy read before."""
        columns = {
            "branch_name": branch_name,
            "base_commit": base_commit,
            "attempt": attempt,
            "max_attempts": max_attempts,
            "pushed_commit": pushed_commit,
        }
        values: dict[str, Any] = {k: v for k, v in columns.items() if v is not None}
        found = self._t.sessions.get(session_id)
        if found is None or not _in_scope(scope, found):
            return False
        if only_if is not None and found.status is not only_if:
            return False
        if state is not None:  # a copy: the caller's documents stay the caller's
            merged = state.merge_into(found.state.to_json())
            values["state"] = SessionState.from_json(copy.deepcopy(merged))
        self._t.sessions[session_id] = dataclasses.replace(
            found, updated_at=self._clock.now(), **values
        )
        return True

    def start_round(
        self,
        scope: model.Scope,
        attempt: int,
        *,
        session_ids: Sequence[uuid.UUID],
        states: Mapping[uuid.UUID, StatePatch],
    ) -> None:
        for session_id in session_ids:
            self.update_session(scope, session_id, attempt=attempt)
        for session_id, patch in states.items():
            self.update_session(scope, session_id, state=patch)

    # -- leases ---------------------------------------------------------------------------

    def take_lease(
        self,
        scope: model.Scope,
        session_id: uuid.UUID,
        *,
        owner: str,
        expires_at: datetime,
        now: datetime,
        replacing: str | None = None,
    ) -> int | None:
        found = self._t.sessions.get(session_id)
        if found is None or not _in_scope(scope, found) or found.status is not SessionStatus.ACTIVE:
            return None
        free = (
            found.lease_owner is None
            or (found.lease_expires_at is not None and found.lease_expires_at <= now)
            or (replacing is not None and found.lease_owner == replacing)
        )
        if not free:
            return None
        losses = found.worker_losses + (1 if found.lease_owner is not None else 0)
        self._t.sessions[session_id] = dataclasses.replace(
            found,
            lease_owner=owner,
            lease_expires_at=expires_at,
            worker_losses=losses,
            updated_at=now,
        )
        return losses

    def renew_lease(
        self, scope: model.Scope, session_id: uuid.UUID, *, owner: str, expires_at: datetime
    ) -> bool:
        found = self._t.sessions.get(session_id)
        if (
            found is None
            or not _in_scope(scope, found)
            or found.lease_owner != owner
            or found.status is not SessionStatus.ACTIVE
        ):
            return False
        self._t.sessions[session_id] = dataclasses.replace(found, lease_expires_at=expires_at)
        return True

    def release_lease(self, scope: model.Scope, session_id: uuid.UUID, *, owner: str) -> bool:
        found = self._t.sessions.get(session_id)
        if found is None or not _in_scope(scope, found) or found.lease_owner != owner:
            return False
        self._t.sessions[session_id] = dataclasses.replace(
            found, lease_owner=None, lease_expires_at=None
        )
        return True

    # -- interactions ---------------------------------------------------------------------

    def _owned(self, scope: model.Scope, session_id: uuid.UUID) -> bool:
        found = self._t.sessions.get(session_id)
        return found is not None and _in_scope(scope, found)

    def _of(self, scope: model.Scope, session_id: uuid.UUID) -> list[model.Interaction]:
        if not self._owned(scope, session_id):
            return []
        found = [i for i in self._t.interactions.values() if i.session_id == session_id]
        return sorted(found, key=lambda i: i.started_at)  # stable: then in the order begun

    def begin_interaction(
        self,
        scope: model.Scope,
        session_id: uuid.UUID,
        *,
        step: str,
        attempt: int,
        command: model.Command,
    ) -> model.Interaction:
        if not self._owned(scope, session_id):
            raise errors.SessionNotFound(session_id)
        existing = self.find_interaction(scope, session_id, step=step, attempt=attempt)
        if existing is not None:
            return existing
        started = model.Interaction(
            id=uuid.uuid4(),
            session_id=session_id,
            step=step,
            attempt=attempt,
            command=command,
            outcome=None,
            duration_ms=None,
            started_at=self._clock.now(),
            completed_at=None,
        )
        self._t.interactions[started.id] = started
        return started

    def update_interaction_command(
        self, scope: model.Scope, interaction: model.Interaction, command: model.Command
    ) -> None:
        found = self._t.interactions.get(interaction.id)
        if found is not None and self._owned(scope, found.session_id):
            self._t.interactions[found.id] = dataclasses.replace(found, command=command)

    def complete_interaction(
        self,
        scope: model.Scope,
        interaction: model.Interaction,
        outcome: model.Outcome,
        *,
        command: model.Command | None = None,
        completed_at: datetime | None = None,
    ) -> bool:
        found = self._t.interactions.get(interaction.id)
        if found is None or not self._owned(scope, found.session_id):
            raise errors.NotFound(interaction.id)
        if not found.pending:
            return False
        done = completed_at or self._clock.now()
        self._t.interactions[found.id] = dataclasses.replace(
            found,
            outcome=outcome,
            command=command or found.command,
            completed_at=done,
            duration_ms=max(0, int((done - found.started_at).total_seconds() * 1000)),
        )
        self._t.completions[found.id] = len(self._t.completions)
        return True

    def find_interaction(
        self, scope: model.Scope, session_id: uuid.UUID, *, step: str, attempt: int
    ) -> model.Interaction | None:
        for found in self._of(scope, session_id):
            if found.step == step and found.attempt == attempt:
                return found
        return None

    def latest_attempts(self, scope: model.Scope, session_id: uuid.UUID) -> dict[str, int]:
        latest: dict[str, int] = {}
        for found in self._of(scope, session_id):
            latest[found.step] = max(latest.get(found.step, 0), found.attempt)
        return latest

    def abandon_pending(self, scope: model.Scope, session_id: uuid.UUID, reason: str) -> int:
        pending = [i for i in self._of(scope, session_id) if i.pending]
        for found in pending:
            self.complete_interaction(scope, found, model.Outcome.error(reason))
        return len(pending)

    def interactions(self, scope: model.Scope, session_id: uuid.UUID) -> list[model.Interaction]:
        """A session's whole history, oldest first."""
        return self._of(scope, session_id)

    def interactions_of(
        self, scope: model.Scope, session_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[model.Interaction]]:
        """The histories of many sessions, each oldest first."""
        return {session_id: self._of(scope, session_id) for session_id in session_ids}

    def last_completed(self, scope: model.Scope, session_id: uuid.UUID) -> model.Interaction | None:
        done = [i for i in self._of(scope, session_id) if i.completed_at is not None]
        return max(done, key=lambda i: self._t.completions[i.id], default=None)

    # -- artifacts ------------------------------------------------------------------------

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
    ) -> bool:
        if not self._owned(scope, session_id):
            raise errors.SessionNotFound(session_id)
        if (session_id, attempt) in self._t.artifacts:
            return False
        self._t.artifacts[(session_id, attempt)] = model.Artifact(
            id=uuid.uuid4(),
            session_id=session_id,
            attempt=attempt,
            test_path=test_path,
            content=content,
            digest=digest,
            report=model.TestReport.from_json(report),
            created_at=self._clock.now(),
        )
        return True

    def latest_artifacts(
        self, scope: model.Scope, session_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, model.Artifact]:
        newest: dict[uuid.UUID, model.Artifact] = {}
        for (session_id, attempt), artifact in sorted(self._t.artifacts.items()):
            wanted = session_id in session_ids and self._owned(scope, session_id)
            if wanted and (session_id not in newest or newest[session_id].attempt < attempt):
                newest[session_id] = artifact
        return newest

    def last_complete_context(
        self, scope: model.Scope, component_id: uuid.UUID
    ) -> model.Session | None:
        complete = [
            s
            for s in self._t.sessions.values()
            if _in_scope(scope, s)
            and s.parent_id is None
            and s.component_id == component_id
            and s.status is SessionStatus.COMPLETE
        ]
        return max(complete, key=lambda s: (s.created_at, str(s.id)), default=None)


@dataclass(frozen=True, slots=True)
class InMemoryUnitOfWork:
    """One transaction of :class:`InMemoryDatabase` (:class:`~ctworkflow.ports.UnitOfWork`)."""

    sessions: InMemorySessions
    catalog: InMemoryCatalog


class InMemoryDatabase:
    """The database of a unit test: call it to open a unit of work, as ``unit_of_work()``.

    Also what a test sets up (:meth:`add_project`, :meth:`add_component`) and reads back
    (:attr:`tables`).
    """

    def __init__(self, clock: ports.Clock) -> None:
        self.clock = clock
        self.tables = Tables()
        #: How many units of work were opened, and how many rolled back.
        self.opened = 0
        self.rolled_back = 0
        #: While set, the database is down: opening or committing a unit of work raises
        #: :class:`~ctworkflow.errors.DatabaseUnavailable` with this reason, as the SQL one
        #: does when its server cannot be reached.
        self.unavailable: str | None = None

    @contextmanager
    def __call__(self) -> Iterator[InMemoryUnitOfWork]:
        if self.unavailable is not None:
            raise errors.DatabaseUnavailable(self.unavailable)
        saved = {name: copy.copy(getattr(self.tables, name)) for name in _TABLES}
        self.opened += 1
        try:
            yield InMemoryUnitOfWork(
                sessions=InMemorySessions(self.tables, self.clock),
                catalog=InMemoryCatalog(self.tables, self.clock),
            )
            if self.unavailable is not None:  # went down during the transaction: no commit
                raise errors.DatabaseUnavailable(self.unavailable)
        except BaseException:
            self.rolled_back += 1
            for name, value in saved.items():
                setattr(self.tables, name, value)
            raise

    def add_project(
        self,
        *,
        code_repo: str,
        layout: Layout = Layout.PYTHON,
        default_branch: str = "main",
        settings: Mapping[str, Any] | None = None,
        name: str = "project",
    ) -> model.Project:
        """A project of a new account."""
        with self() as uow:
            account = uow.catalog.add_account(f"account of {name}")
            return uow.catalog.add_project(
                account.id,
                name=name,
                code_repo=code_repo,
                layout=layout,
                default_branch=default_branch,
                settings=dict(settings or {}),
            )

    def add_component(
        self,
        project: model.Project,
        module_name: str,
        *,
        parent: model.Component | None = None,
        priority: int = 0,
    ) -> model.Component:
        """A component of the project (a context when it has none for parent)."""
        scope = model.Scope(account_id=project.account_id, project_id=project.id)
        with self() as uow:
            return uow.catalog.add_component(
                scope,
                name=module_name.rsplit(".", 1)[-1],
                module_name=module_name,
                type=ComponentKind.CONTEXT if parent is None else ComponentKind.MODULE,
                priority=priority,
                parent_id=parent.id if parent else None,
            )

    def session(self, session_id: uuid.UUID) -> model.Session:
        """A session as it is now, whatever its tenant."""
        return self.tables.sessions[session_id]
