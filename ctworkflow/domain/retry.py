"""How a failed thing is tried again: one :class:`RetryPolicy` value for every retry loop.

Three loops use it, each with its own numbers: the router's steps (their delay between rounds,
``CTW_RETRY_BACKOFF_S``/``CTW_RETRY_BACKOFF_CAP_S`` and ``CTW_MAX_ATTEMPTS``, see
``Settings.step_retry``), the webhooks' redelivery (``CTW_WEBHOOK_*``, ``Settings.webhook_retry``)
and the Celery retry of a step task after an infrastructure hiccup (``ctworkflow.tasks.context``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """Tries at most ``attempts`` times in all, waiting ``initial_s`` before the second try,
    ``factor`` times longer before each later one, never more than ``cap_s``."""

    initial_s: float
    factor: float = 2.0
    cap_s: float
    attempts: int

    def delay_before(self, attempt: int) -> float:
        """Seconds to wait before the ``attempt``-th try (1-based): none before the first."""
        if attempt <= 1:
            return 0.0
        return float(min(self.cap_s, self.initial_s * self.factor ** (attempt - 2)))

    def allows(self, attempt: int) -> bool:
        """Whether an ``attempt``-th try is within the policy."""
        return attempt <= self.attempts
