"""``/v1/projects/{project}/sessions``: start, list, show, cancel and retry sessions."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response, status
from fastapi.responses import PlainTextResponse

from ctworkflow.domain.states import SessionStatus, SessionType
from ctworkflow.http.auth import ApiScope
from ctworkflow.http.json_body import JsonBodyRoute
from ctworkflow.http.schemas import StartSession
from ctworkflow.http.session_schemas import SessionOut
from ctworkflow.http.text import output_text
from ctworkflow.http.wiring import AppDeps
from ctworkflow.persistence.tables import utcnow
from ctworkflow.services import incremental, lifecycle, session_views
from ctworkflow.services.summary import SessionSummary

router = APIRouter(
    prefix="/v1/projects/{project}/sessions", tags=["sessions"], route_class=JsonBodyRoute
)


def _summary(scope: ApiScope, session_id: uuid.UUID) -> SessionSummary:
    return SessionSummary.of(session_views.session_details(scope, session_id), utcnow())


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Start testing a context",
    description=(
        "Idempotent: while a session of the context is active, or for an `Idempotency-Key` "
        "already used in the project, the existing session is returned and nothing is queued."
    ),
)
def start_session(
    scope: ApiScope,
    body: StartSession,
    response: Response,
    deps: AppDeps,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> SessionSummary:
    session = lifecycle.start_context_testing(
        scope,
        body.context,
        idempotency_key=idempotency_key,
        agent=body.agent,
        max_attempts=body.max_rounds,
        runner=body.runner,
        deps=deps,
    )
    response.headers["Location"] = f"/v1/projects/{scope.project_id}/sessions/{session.id}"
    return _summary(scope, session.id)


@router.post(
    "/plan",
    summary="Show which components a session started now would run and which it would reuse",
    description="Starts nothing and writes nothing: one line per component, with why.",
)
def plan_session(
    scope: ApiScope, body: StartSession, deps: AppDeps
) -> dict[str, list[dict[str, Any]]]:
    return {
        "plan": incremental.plan_context_testing(scope, body.context, runner=body.runner, deps=deps)
    }


@router.get("", summary="List sessions, newest first")
def list_sessions(
    scope: ApiScope,
    status_: Annotated[list[SessionStatus] | None, Query(alias="status")] = None,
    type_: Annotated[SessionType | None, Query(alias="type")] = SessionType.CONTEXT_TESTING,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[SessionSummary]:
    found = session_views.list_sessions(scope, statuses=status_ or (), type=type_, limit=limit)
    now = utcnow()
    return [SessionSummary.of(session_views.session_details(scope, s.id), now) for s in found]


@router.get(
    "/{session_id}",
    summary="Show a session: its steps, its component matrix and each component's steps",
)
def show_session(scope: ApiScope, session_id: uuid.UUID) -> SessionOut:
    return SessionOut.of_full(session_views.full_session(scope, session_id), utcnow())


@router.get(
    "/{session_id}/output",
    response_class=PlainTextResponse,
    summary="The output tail of a session's steps and of its newest test run",
)
def session_output(scope: ApiScope, session_id: uuid.UUID) -> str:
    return output_text(session_views.output_tail(scope, session_id))


@router.post("/{session_id}/cancel", summary="Cancel a session and its running components")
def cancel_session(scope: ApiScope, session_id: uuid.UUID, deps: AppDeps) -> SessionSummary:
    lifecycle.cancel_session(scope, session_id, deps=deps)
    return _summary(scope, session_id)


@router.post("/{session_id}/retry", summary="Run a failed or cancelled session again")
def retry_session(scope: ApiScope, session_id: uuid.UUID, deps: AppDeps) -> SessionSummary:
    lifecycle.retry_session(scope, session_id, deps=deps)
    return _summary(scope, session_id)
