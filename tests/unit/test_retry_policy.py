"""One RetryPolicy value for the router's rounds, the webhooks' sends and Celery's task retry."""

from __future__ import annotations

import pytest

from ctworkflow.config import Settings
from ctworkflow.domain.retry import RetryPolicy
from ctworkflow.tasks import retries


def test_the_first_try_waits_nothing_and_later_ones_grow_by_the_factor_up_to_the_cap() -> None:
    policy = RetryPolicy(initial_s=3, factor=3, cap_s=50, attempts=5)
    assert [policy.delay_before(n) for n in range(1, 6)] == [0, 3, 9, 27, 50]


def test_a_policy_allows_exactly_its_attempts() -> None:
    policy = RetryPolicy(initial_s=1, cap_s=1, attempts=3)
    assert [policy.allows(n) for n in (1, 3, 4)] == [True, True, False]


def test_the_step_tasks_keep_their_celery_retry_numbers() -> None:
    options = retries.celery_options(retries.STEP_TASK_RETRY)
    assert options == {"retry_backoff": 1, "retry_backoff_max": 60, "max_retries": 8}


def test_celery_cannot_take_a_policy_that_does_not_double() -> None:
    with pytest.raises(ValueError, match="doubles"):
        retries.celery_options(RetryPolicy(initial_s=1, factor=3, cap_s=9, attempts=2))


def test_the_settings_build_the_router_and_webhook_policies_from_their_variables() -> None:
    settings = Settings(
        max_attempts=4, retry_backoff_s=2, retry_backoff_cap_s=300, webhook_max_attempts=8
    )
    assert settings.step_retry == RetryPolicy(initial_s=2, cap_s=300, attempts=4)
    assert settings.webhook_retry == RetryPolicy(initial_s=5, cap_s=3600, attempts=8)
