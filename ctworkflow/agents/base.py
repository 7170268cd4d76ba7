"""The agent protocol: what an agent is asked to do and what it reports."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ctworkflow.domain.agent_usage import Usage
from ctworkflow.domain.repository.layouts import Layout


@dataclass(frozen=True, slots=True, kw_only=True)
class ExistingTests:
    """The test file a component already has at the base commit: keep all of it, add to it."""

    path: str
    #: How many tests the runner collected from it at the base.
    tests: int
    #: Its content at the base, so an agent that writes again adds to the original.
    content: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentRequest:
    """Write the tests of one component in a workspace."""

    workspace: Path
    component_name: str
    module_name: str
    source_path: str
    test_path: str
    layout: Layout
    feedback: str | None = None
    timeout_s: float = 900.0
    should_stop: Callable[[], bool] | None = None
    #: The component's test file at the base, if it has one.
    existing: ExistingTests | None = None
    #: Variables of the target's environment (``PATH`` with its interpreter first,
    #: ``VIRTUAL_ENV``); None: the worker's own.
    env: Mapping[str, str] | None = None
    #: The lines of the source file the previous round's tests left uncovered, as (first,
    #: last) ranges; empty: unknown, or the first round. An agent that can aim at lines does.
    uncovered: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentResult:
    """What an agent did: whether it succeeded, what ran and what it printed."""

    ok: bool
    argv: tuple[str, ...] | None = None
    exit_code: int | None = None
    duration_s: float = 0.0
    stdout_tail: str = ""
    stderr_tail: str = ""
    error: str | None = None
    #: The failure is one no further try can change (:func:`ctworkflow.errors.no_round_can_fix`).
    permanent: bool = False
    #: What the run used, where the program reports it (a preset's output).
    usage: Usage | None = None
    #: What the program printed, redacted and bounded (:func:`agent_usage.transcript`).
    transcript: str = ""


class Agent(Protocol):
    """Something that writes a component's test file into the workspace."""

    name: str

    def write_tests(self, request: AgentRequest) -> AgentResult:
        """Write request.test_path in request.workspace and report how it went."""
        ...
