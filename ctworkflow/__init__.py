"""ctworkflow: context testing sessions on Celery.

For one context of a code base it creates a git branch, fans out one component testing session
per component as a Celery chord, validates that every component ended with an existing, passing
test file, retries what failed (bounded), then commits the test files and pushes the branch.
"""

from __future__ import annotations

from ctworkflow.domain.model import Scope
from ctworkflow.domain.naming import branch_name
from ctworkflow.domain.routing import (
    Completed,
    Halt,
    Next,
    get_next_child_interaction,
    get_next_interaction,
    steps,
)
from ctworkflow.domain.states import ParentStep, SessionStatus, SessionType

__all__ = [
    # routing (pure)
    "Completed",
    "Halt",
    "Next",
    "ParentStep",
    # values
    "Scope",
    "SessionStatus",
    "SessionType",
    "branch_name",
    "get_next_child_interaction",
    "get_next_interaction",
    "steps",
]
