"""The step tasks' Celery retry, as a :class:`~ctworkflow.domain.retry.RetryPolicy`.

A step task that meets an infrastructure hiccup (``tasks.context.RETRY_ON``) is retried by
Celery: 1 s, doubled, up to 60 s, nine tries in all. Every other failure is recorded as data
and routed (``Settings.step_retry``).
"""

from __future__ import annotations

from typing import Any, Final

from ctworkflow.domain.retry import RetryPolicy

STEP_TASK_RETRY: Final = RetryPolicy(initial_s=1, cap_s=60, attempts=9)


def celery_options(policy: RetryPolicy) -> dict[str, Any]:
    """``policy`` as a task's Celery options (Celery's backoff always doubles)."""
    if policy.factor != 2:
        raise ValueError(f"Celery's retry backoff doubles; {policy} multiplies by {policy.factor}")
    return {
        "retry_backoff": int(policy.initial_s),
        "retry_backoff_max": int(policy.cap_s),
        "max_retries": policy.attempts - 1,  # Celery counts the tries after the first
    }
