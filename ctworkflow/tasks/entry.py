"""The entry tasks a backend service calls by name, without importing ctworkflow.

    celery_app.send_task("ctworkflow.start_context_testing",
                         kwargs={"account_id": ..., "project_id": ..., "context": "MyApp.Accounts"})

returns the session id;

    celery_app.send_task("ctworkflow.get_session",
                         kwargs={"account_id": ..., "project_id": ..., "session_id": ...})

returns its summary (status, round, branch, commit, component counts) as JSON.
"""

from __future__ import annotations

from typing import Any

from ctworkflow import constants, errors
from ctworkflow.domain.inputs import check_user_id, parse_id
from ctworkflow.domain.model import Scope
from ctworkflow.persistence.tables import utcnow
from ctworkflow.services import lifecycle, session_views
from ctworkflow.services.summary import SessionSummary
from ctworkflow.tasks import live
from ctworkflow.tasks.app import app


@app.task(
    name=constants.START_CONTEXT_TESTING,
    acks_late=True,
    # Bad input is the caller's error: it fails the task with its one-line message, and the
    # worker logs it without a traceback.
    throws=(errors.InvalidInput, errors.NotFound),
)
def start_context_testing(
    account_id: str,
    project_id: str,
    context: str,
    user_id: str = "system",
    idempotency_key: str | None = None,
    agent: str | None = None,
) -> str:
    """Start (or find) the context testing session of ``context``; return its id."""
    scope = Scope(
        account_id=parse_id(account_id, "account id"),
        project_id=parse_id(project_id, "project id"),
        user_id=check_user_id(user_id),
    )
    session = lifecycle.start_context_testing(
        scope, context, idempotency_key=idempotency_key, agent=agent, deps=live.deps()
    )
    return str(session.id)


@app.task(name=constants.GET_SESSION, throws=(errors.InvalidInput, errors.NotFound))
def get_session(account_id: str, project_id: str, session_id: str) -> dict[str, Any]:
    """The summary of a session of the project (``ctworkflow.services.summary.SessionSummary``).

    Scoped like the entry task: a session of another project answers as a missing one.
    """
    scope = Scope(
        account_id=parse_id(account_id, "account id"),
        project_id=parse_id(project_id, "project id"),
    )
    details = session_views.session_details(scope, session_id)
    return SessionSummary.of(details, utcnow()).to_json()
