"""The dependencies a step needs (its ports, settings, agents and runners), bundled so tests
and benchmarks can swap them.

A step reads and writes the database only through :attr:`Deps.transactions`, reads the time
only through :attr:`Deps.clock`, and sends the next message only through
:attr:`Deps.dispatcher` (the ports of :mod:`ctworkflow.ports`);
:mod:`ctworkflow.testing` has in-memory ones.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ctworkflow import errors, ports
from ctworkflow.agents.base import Agent
from ctworkflow.agents.registry import get_agent
from ctworkflow.config import Settings, get_settings
from ctworkflow.domain.model import Project, Scope
from ctworkflow.domain.repository.layouts import Layout
from ctworkflow.domain.routing import Next
from ctworkflow.effects.clock import SystemClock
from ctworkflow.effects.environments import Environments
from ctworkflow.effects.git import Git
from ctworkflow.persistence.db import unit_of_work
from ctworkflow.runners.base import Runner
from ctworkflow.runners.registry import get_runner

#: The test runner a layout uses unless the project says otherwise.
DEFAULT_RUNNERS = {Layout.PYTHON: "pytest", Layout.PHOENIX: "mix"}


class NoDispatcher:
    """The dispatcher of dependencies that may not send messages: sending is a bug."""

    def send_step(self, scope: Scope, session_id: uuid.UUID, route: Next) -> None:
        _refuse(f"session {session_id}", str(route.step))

    def send_round(
        self, scope: Scope, session_id: uuid.UUID, attempt: int, run_ids: Sequence[uuid.UUID]
    ) -> None:
        _refuse(f"session {session_id}", f"round {attempt}")

    def send_validation(self, scope: Scope, session_id: uuid.UUID, attempt: int) -> None:
        _refuse(f"session {session_id}", f"the validation of round {attempt}")

    def send_component(
        self, scope: Scope, parent_id: uuid.UUID, child_id: uuid.UUID, attempt: int
    ) -> None:
        _refuse(f"session {child_id}", f"its run of round {attempt}")

    def send_release(self, scope: Scope, session_id: uuid.UUID) -> None:
        _refuse(f"session {session_id}", "the release of its branch")

    def revoke_runs(self, child_ids: Sequence[uuid.UUID], attempt: int) -> None:
        _refuse("a cancel", f"the revocation of {len(child_ids)} runs")

    def send_webhook(self, delivery_id: uuid.UUID, countdown_s: float | None = None) -> None:
        _refuse(f"webhook delivery {delivery_id}", "its attempt")


def _refuse(whose: str, what: str) -> None:
    raise errors.ConfigurationError(f"{whose}: these effects have no dispatcher to send {what}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Deps:
    """The database, git, the clock, the dispatcher, the targets' environments, agents and
    test runners of a step."""

    settings: Settings
    git: ports.GitRemote
    environments: Environments
    #: Opens a unit of work (the configured database by default).
    transactions: ports.Transactions = field(default=unit_of_work)
    clock: ports.Clock = field(default_factory=SystemClock)
    #: Sends the next step's message (the Celery layer passes its own).
    dispatcher: ports.Dispatcher = field(default_factory=NoDispatcher)
    agent_factory: Callable[[str, dict[str, Any]], Agent] = field(default=get_agent)
    runner_factory: Callable[[str], Runner] = field(default=get_runner)
    #: Told the step and attempt a component run starts (the Celery task turns it into a
    #: ``task-progress`` event that Flower shows); small values only, never a prompt.
    progress: Callable[[str, int], None] = field(default=lambda step, attempt: None)

    def agent(self, name: str, project: Project) -> Agent:
        """The agent a session asked for, configured by its project's settings."""
        return self.agent_factory(name, dict(project.settings))

    def runner(self, project: Project, override: str | None = None) -> Runner:
        """The test runner a session asked for, else its project's setting, else its layout's
        default."""
        name = override or project.settings.get("runner") or DEFAULT_RUNNERS[project.layout]
        return self.runner_factory(str(name))


def live_deps(
    settings: Settings | None = None, *, dispatcher: ports.Dispatcher | None = None
) -> Deps:
    """The real dependencies, configured from the settings."""
    settings = settings or get_settings()
    return Deps(
        settings=settings,
        git=Git(settings.workspaces),
        environments=Environments(settings),
        dispatcher=dispatcher or NoDispatcher(),
    )
