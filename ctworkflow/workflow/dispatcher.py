"""The dispatcher port: every wake-up the workflow and the services send to the workers.

The Celery implementation is :class:`ctworkflow.tasks.dispatch.CeleryDispatcher`, the one
module that builds Celery messages. A method that cannot hand its message to the broker in time
raises :class:`~ctworkflow.errors.BrokerUnavailable`; nothing is sent then.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Protocol

from ctworkflow.domain import model
from ctworkflow.domain.orchestrator import Next


class Dispatcher(Protocol):
    """Sends the steps of sessions, their rounds and webhook deliveries to the workers."""

    def send_step(self, scope: model.Scope, session_id: uuid.UUID, route: Next) -> None:
        """Run the context session's step ``route``, after the backoff its attempt calls for."""
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
