"""The side effects a step needs, bundled so tests and benchmarks can swap them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ctworkflow.agents.base import Agent
from ctworkflow.agents.registry import get_agent
from ctworkflow.config import Settings, get_settings
from ctworkflow.domain.layouts import Layout
from ctworkflow.domain.model import Project
from ctworkflow.effects.environments import Environments
from ctworkflow.effects.git import Git
from ctworkflow.runners.base import Runner
from ctworkflow.runners.registry import get_runner

#: The test runner a layout uses unless the project says otherwise.
DEFAULT_RUNNERS = {Layout.PYTHON: "pytest", Layout.PHOENIX: "mix"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Effects:
    """Git, the targets' environments, agents and test runners, as the workers use them."""

    settings: Settings
    git: Git
    environments: Environments
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


def live_effects(settings: Settings | None = None) -> Effects:
    """The real effects, configured from the settings."""
    settings = settings or get_settings()
    return Effects(
        settings=settings, git=Git(settings.workspaces), environments=Environments(settings)
    )
