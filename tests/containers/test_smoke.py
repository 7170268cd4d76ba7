"""The deployment, end to end in containers: the project's image runs compose's two workers
against Redis and PostgreSQL containers, and a session sent the way a backend service sends it
(README, "Enqueue from a backend service") goes through the chord to a branch on the remote.

Needs a Docker engine; without one it is skipped with one line saying so.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from celery import Celery
from pytest_celery import CeleryTestSetup

from ctworkflow import constants
from ctworkflow.domain.repository.layouts import Layout, test_file_path
from ctworkflow.domain.states import SessionStatus
from tests.containers import stack
from tests.containers.stack import CONTEXT, MODULES, REMOTE, Shop

pytestmark = [
    pytest.mark.containers,
    # Building the image and a first session's environment take minutes on a cold engine.
    pytest.mark.timeout(1800),
]

SESSION_DEADLINE_S = 900.0


def summary(app: Celery, shop: Shop, session_id: str) -> dict[str, Any]:
    """The session's summary, read through the status task as a backend service reads it."""
    found: dict[str, Any] = app.send_task(
        constants.GET_SESSION,
        kwargs={
            "account_id": shop.account_id,
            "project_id": shop.project_id,
            "session_id": session_id,
        },
        queue=constants.ORCHESTRATION_QUEUE,
    ).get(timeout=60)
    return found


def ended(app: Celery, shop: Shop, session_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + SESSION_DEADLINE_S
    while (found := summary(app, shop, session_id))["status"] == SessionStatus.ACTIVE:
        assert time.monotonic() < deadline, f"still active after {SESSION_DEADLINE_S:g} s: {found}"
        time.sleep(2)
    return found


def test_a_session_sent_over_celery_ends_in_a_branch_pushed_to_the_remote(
    celery_setup: CeleryTestSetup, shop: Shop, ctw_components: stack.ComponentWorker
) -> None:
    app = celery_setup.app
    session_id = app.send_task(
        constants.START_CONTEXT_TESTING,
        kwargs={"account_id": shop.account_id, "project_id": shop.project_id, "context": CONTEXT},
        queue=constants.ORCHESTRATION_QUEUE,
    ).get(timeout=60)

    done = ended(app, shop, session_id)

    # Every component of the chord passed, and the callback finalized the session.
    assert done["status"] == SessionStatus.COMPLETE, done["error"]
    assert done["components"]["complete"] == done["components"]["total"] == len(MODULES)
    assert done["base_commit"] == shop.base

    # The remote, as another container sees it: one commit on the base, adding the tests.
    def git(*args: str) -> str:
        return stack.run(ctw_components, ["git", "--git-dir", REMOTE, *args]).strip()

    head = git("rev-parse", f"refs/heads/{done['branch_name']}")
    assert head == done["commit"]
    assert git("rev-parse", f"{head}^") == shop.base
    assert git("rev-parse", "main") == shop.base, "the default branch is left as it was"
    added = git("diff", "--name-only", shop.base, head).splitlines()
    assert sorted(added) == sorted(
        test_file_path(Layout.PYTHON, f"{CONTEXT}.{module}") for module in MODULES
    )
