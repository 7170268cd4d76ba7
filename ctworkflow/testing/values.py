"""Domain values for tests, with every field a test does not care about filled in."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ctworkflow.domain.model import Session
from ctworkflow.domain.session_state import SessionState
from ctworkflow.domain.states import ExecutionMode, SessionStatus, SessionType

#: The instant the values are made at.
MOMENT = datetime(2026, 1, 1, tzinfo=UTC)


def child_session(status: SessionStatus, error: str | None = None, **fields: Any) -> Session:
    """A component testing session of a new parent, in ``status``; ``fields`` override."""
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "type": SessionType.COMPONENT_TESTING,
        "status": status,
        "account_id": uuid.uuid4(),
        "project_id": uuid.uuid4(),
        "user_id": "user",
        "component_id": uuid.uuid4(),
        "parent_id": uuid.uuid4(),
        "execution_mode": ExecutionMode.AGENTIC,
        "environment_type": "local",
        "agent": "scaffold",
        "state": SessionState(),
        "attempt": 1,
        "max_attempts": 3,
        "idempotency_key": None,
        "branch_name": None,
        "base_commit": None,
        "error": error,
        "created_at": MOMENT,
        "updated_at": MOMENT,
        "completed_at": None,
    }
    merged = {**values, **fields}
    if isinstance(merged["state"], Mapping):  # a test may give the stored JSON document
        merged["state"] = SessionState.from_json(merged["state"])
    return Session(**merged)
