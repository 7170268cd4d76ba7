"""Statuses, kinds and step names of sessions, and the legal status transitions."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final


class SessionType(StrEnum):
    """What a session runs: the parent workflow over a context, or one component's."""

    CONTEXT_TESTING = "context_testing"
    COMPONENT_TESTING = "component_testing"


class SessionStatus(StrEnum):
    """Where a session is in its life."""

    ACTIVE = "active"  #: created, a step is due, queued or running
    COMPLETE = "complete"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL: Final = frozenset({SessionStatus.COMPLETE, SessionStatus.FAILED, SessionStatus.CANCELLED})

#: The only status changes a session may make. A failed or cancelled session may be run again
#: (``→ active``): a retried context session, or a component session re-run by the next
#: fan-out round. A complete component session whose tests fail when the orchestrator runs
#: them itself is disproved (``complete → failed``). Nothing leaves ``complete`` otherwise.
TRANSITIONS: Final[Mapping[SessionStatus, frozenset[SessionStatus]]] = {
    SessionStatus.ACTIVE: frozenset(
        {SessionStatus.COMPLETE, SessionStatus.FAILED, SessionStatus.CANCELLED}
    ),
    SessionStatus.FAILED: frozenset({SessionStatus.ACTIVE}),
    SessionStatus.CANCELLED: frozenset({SessionStatus.ACTIVE}),
    SessionStatus.COMPLETE: frozenset({SessionStatus.FAILED}),
}


def can_transition(current: SessionStatus, target: SessionStatus) -> bool:
    """Tell whether the table allows ``current → target``."""
    return target in TRANSITIONS[current]


class ComponentKind(StrEnum):
    """The kinds of component ctworkflow itself knows (a component's ``type`` may also be a
    kind of the user's own, which is tested as a module)."""

    CONTEXT = "context"  #: its children are the components a context session tests
    COORDINATION_CONTEXT = "coordination_context"  #: a context that coordinates others
    MODULE = "module"


#: The kinds of component that can be tested as a context.
CONTEXT_KINDS: Final = frozenset({ComponentKind.CONTEXT, ComponentKind.COORDINATION_CONTEXT})


class ExecutionMode(StrEnum):
    """How a session is driven: step by step by a person, or on its own."""

    MANUAL = "manual"
    AGENTIC = "agentic"


class ResultStatus(StrEnum):
    """Outcome of one interaction."""

    OK = "ok"
    ERROR = "error"


class ParentStep(StrEnum):
    """Steps of a context testing session, in order (the seed's ``steps()``)."""

    INITIALIZE = "initialize"
    SPAWN_COMPONENT_TESTING_SESSIONS = "spawn_component_testing_sessions"
    FINALIZE = "finalize"


class ChildStep(StrEnum):
    """Steps of a component testing session, in order."""

    INITIALIZE = "initialize"
    GENERATE_TESTS = "generate_tests"
    RUN_TESTS = "run_tests"
    FIX_FAILURES = "fix_failures"
    FINALIZE = "finalize"
