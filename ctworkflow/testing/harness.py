"""The in-memory kit assembled: dependencies, a dispatcher that keeps messages, and a worker.

:class:`Harness` builds :class:`~ctworkflow.workflow.deps.Deps` from the in-memory
database, the fake git, the fake clock, the scripted agent and the verdict runner, and plays
the worker: the session use cases (:meth:`Harness.start`, :meth:`Harness.cancel`,
:meth:`Harness.retry`, :meth:`Harness.reconcile`) are the real ones of
:mod:`ctworkflow.services.lifecycle` on these ports, and :meth:`Harness.deliver` hands one
message to the workflow step it names through :mod:`ctworkflow.workflow.drive`, as the Celery
tasks of :mod:`ctworkflow.tasks.context` do (a step that recorded its outcome moves the session
on; one that found nothing to do finishes an ending), and the round a spawn sends runs its
component sessions one after the other, then validation, as the chord would.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ctworkflow.config import Settings
from ctworkflow.domain import model
from ctworkflow.domain.routing import Next
from ctworkflow.domain.states import ParentStep
from ctworkflow.effects.environments import Environments
from ctworkflow.services import lifecycle
from ctworkflow.testing.clock import FakeClock
from ctworkflow.testing.doubles import ScriptedAgent, VerdictRunner
from ctworkflow.testing.git import FakeGit
from ctworkflow.testing.store import InMemoryDatabase
from ctworkflow.workflow import component, drive, steps
from ctworkflow.workflow.deps import Deps
from ctworkflow.workflow.reconciler import ReconcileReport

REMOTE = "https://git.example/shop.git"

#: A Python project with one context (``shop.cart``) of two components.
SHOP: dict[str, str] = {
    "pyproject.toml": '[project]\nname = "shop"\nversion = "1.0"\n',
    "shop/__init__.py": "",
    "shop/cart/__init__.py": "",
    "shop/cart/items.py": "def add(a, b):\n    return a + b\n",
    "shop/cart/totals.py": "def total(xs):\n    return sum(xs)\n",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """A step message the workflow sent."""

    scope: model.Scope
    session_id: uuid.UUID
    step: str
    attempt: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Round:
    """A round a spawn sent: its children's runs, then its validation."""

    scope: model.Scope
    session_id: uuid.UUID
    attempt: int
    run_ids: tuple[uuid.UUID, ...]


@dataclass(slots=True)
class RecordingDispatcher:
    """Keeps every message sent (:class:`~ctworkflow.ports.Dispatcher`): the steps in
    :attr:`sent`, the rounds in :attr:`rounds`, every other wake-up in :attr:`others`."""

    sent: list[Message] = field(default_factory=list)
    rounds: list[Round] = field(default_factory=list)
    others: list[tuple[str, tuple[object, ...]]] = field(default_factory=list)

    def send_step(self, scope: model.Scope, session_id: uuid.UUID, route: Next) -> None:
        self.sent.append(
            Message(scope=scope, session_id=session_id, step=route.step, attempt=route.attempt)
        )

    def send_round(
        self, scope: model.Scope, session_id: uuid.UUID, attempt: int, run_ids: Sequence[uuid.UUID]
    ) -> None:
        self.rounds.append(
            Round(scope=scope, session_id=session_id, attempt=attempt, run_ids=tuple(run_ids))
        )

    def send_validation(self, scope: model.Scope, session_id: uuid.UUID, attempt: int) -> None:
        self.others.append(("validation", (session_id, attempt)))

    def send_component(
        self, scope: model.Scope, parent_id: uuid.UUID, child_id: uuid.UUID, attempt: int
    ) -> None:
        self.others.append(("component", (parent_id, child_id, attempt)))

    def send_release(self, scope: model.Scope, session_id: uuid.UUID) -> None:
        self.others.append(("release", (session_id,)))

    def revoke_runs(self, child_ids: Sequence[uuid.UUID], attempt: int) -> None:
        self.others.append(("revoke", (tuple(child_ids), attempt)))

    def send_webhook(self, delivery_id: uuid.UUID, countdown_s: float | None = None) -> None:
        self.others.append(("webhook", (delivery_id, countdown_s)))


class Harness:
    """One project on an in-memory remote, and everything a step needs to run on it."""

    def __init__(
        self,
        root: Path,
        files: dict[str, str] | None = None,
        *,
        project_settings: Mapping[str, Any] | None = None,
        **overrides: Any,
    ) -> None:
        self.clock = FakeClock()
        self.db = InMemoryDatabase(self.clock)
        self.git = FakeGit(root / "git")
        self.base = self.git.add_remote(REMOTE, files or SHOP)
        self.agent = ScriptedAgent()
        self.runner = VerdictRunner()
        self.dispatcher = RecordingDispatcher()
        chosen = {"max_attempts": 3, "max_fix_rounds": 0, **overrides}
        settings = Settings(data_dir=root / "data", **chosen)
        self.deps = Deps(
            settings=settings,
            git=self.git,
            # never used: the project's setting says its tests need no environment built
            environments=Environments(settings),
            transactions=self.db,
            clock=self.clock,
            dispatcher=self.dispatcher,
            agent_factory=lambda name, project_settings: self.agent,
            runner_factory=lambda name: self.runner,
        )
        self.project = self.db.add_project(
            code_repo=REMOTE,
            settings={"environment": {"installer": "none"}, **(project_settings or {})},
        )
        self.scope = model.Scope(account_id=self.project.account_id, project_id=self.project.id)
        self.context = self.db.add_component(self.project, "shop.cart")
        self.components = [
            self.db.add_component(self.project, name, parent=self.context)
            for name in ("shop.cart.items", "shop.cart.totals")
        ]

    # -- sessions -------------------------------------------------------------------------

    def start(self, *, max_attempts: int = 3, idempotency_key: str | None = None) -> uuid.UUID:
        """Start testing the context, its first step sent (``api.start_context_testing``)."""
        started = lifecycle.start_context_testing(
            self.scope,
            self.context.id,
            agent=self.agent.name,
            max_attempts=max_attempts,
            idempotency_key=idempotency_key,
            deps=self.deps,
        )
        return started.id

    def cancel(self, session_id: uuid.UUID) -> model.Session:
        """Cancel a session and its active children (``api.cancel_session``)."""
        return lifecycle.cancel_session(self.scope, session_id, deps=self.deps)

    def retry(self, session_id: uuid.UUID) -> model.Session:
        """Run a failed or cancelled session again (``api.retry_session``)."""
        return lifecycle.retry_session(self.scope, session_id, deps=self.deps)

    def reconcile(self) -> ReconcileReport:
        """One reconciler pass (``api.reconcile``)."""
        return lifecycle.reconcile(deps=self.deps)

    def session(self, session_id: uuid.UUID) -> model.Session:
        """A session as it is now."""
        return self.db.session(session_id)

    def children(self, session_id: uuid.UUID) -> list[model.Session]:
        """The children of a context session, in their components' order."""
        with self.db() as uow:
            return uow.sessions.children(self.scope, session_id)

    def interactions(self, session_id: uuid.UUID) -> list[model.Interaction]:
        """A session's history, oldest first."""
        with self.db() as uow:
            return uow.sessions.interactions(self.scope, session_id)

    # -- the worker -----------------------------------------------------------------------

    def run(self, *, limit: int = 50) -> int:
        """Deliver the messages sent, in order, until none is left; how many were."""
        delivered = 0
        while self.dispatcher.sent:
            if delivered >= limit:
                raise AssertionError(f"still sending after {limit} messages")
            self.deliver(self.dispatcher.sent.pop(0))
            delivered += 1
        return delivered

    def deliver(self, message: Message) -> None:
        """Run the step a message names, as its Celery task does."""
        scope, session_id, attempt, deps = (
            message.scope,
            message.session_id,
            message.attempt,
            self.deps,
        )
        drive.STEPS[ParentStep(message.step)](scope, session_id, attempt, deps)
        while self.dispatcher.rounds:  # what a spawn sent: the chord, run here in order
            self.run_round(self.dispatcher.rounds.pop(0))

    def run_round(self, sent: Round) -> None:
        """A round's chord: every run, one after the other, then the round's validation."""
        for child_id in sent.run_ids:
            component.run_component(sent.scope, child_id, sent.attempt, self.deps)
        self.validate(sent.session_id, sent.attempt)

    def validate(self, session_id: uuid.UUID, attempt: int) -> steps.validate.Verdict:
        """The chord callback of a round."""
        return drive.validate(self.scope, session_id, attempt, self.deps)
