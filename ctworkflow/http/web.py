"""The web view under ``/ui``: a login form, the sessions list, one session's live matrix.

Plain HTML rendered on the server; the matrix updates through server-sent events and a dozen
lines of script (``static/live.js``), and without script the page refreshes itself. The login
form turns a token into an HttpOnly, SameSite=Strict cookie; every page checks it as the API
checks its bearer header, so another tenant's ids answer like missing ones.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import (
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from fastapi.templating import Jinja2Templates

from ctworkflow import errors
from ctworkflow.domain import model
from ctworkflow.domain.states import SessionType
from ctworkflow.domain.tokens import Grant
from ctworkflow.http import auth
from ctworkflow.http.session_schemas import SessionOut
from ctworkflow.http.text import output_text
from ctworkflow.persistence.db import unit_of_work
from ctworkflow.persistence.tables import utcnow
from ctworkflow.services import catalog, session_views
from ctworkflow.services.summary import SessionSummary

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(prefix="/ui", include_in_schema=False)

#: How often the live view reads the session, and how long one event stream lasts (the
#: browser's EventSource reconnects by itself after it).
POLL_S = 1.0
STREAM_S = 600.0
HEARTBEAT_S = 15.0


def _page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status)


def _login(request: Request) -> RedirectResponse:
    return RedirectResponse(request.url_for("ui_login_form"), status_code=303)


def _missing(request: Request, grant: Grant) -> HTMLResponse:
    return _page(request, "missing.html", status=404, grant=grant)


@router.get("/login", name="ui_login_form")
def login_form(request: Request) -> HTMLResponse:
    return _page(request, "login.html")


@router.post("/login")
def login(request: Request, token: Annotated[str, Form(max_length=256)]) -> Response:
    secret = token.strip()
    if auth.grant_of(secret) is None:
        return _page(request, "login.html", status=401, error="invalid or revoked token")
    response = RedirectResponse(request.url_for("ui_home"), status_code=303)
    response.set_cookie(
        auth.COOKIE,
        secret,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/ui",
    )
    return response


@router.post("/logout", name="ui_logout")
def logout(request: Request) -> Response:
    response = _login(request)
    response.delete_cookie(auth.COOKIE, path="/ui")
    return response


@router.get("/", name="ui_home")
def home(request: Request) -> Response:
    grant = auth.cookie_grant(request)
    if grant is None:
        return _login(request)
    with unit_of_work() as uow:
        projects = [p for p in catalog.list_projects(uow, grant.account_id) if grant.sees(p.id)]
    if len(projects) == 1:
        return RedirectResponse(
            request.url_for("ui_sessions", project=str(projects[0].id)), status_code=303
        )
    return _page(request, "projects.html", projects=projects)


def _scope(request: Request, project: str) -> tuple[Grant | None, model.Scope | None]:
    grant = auth.cookie_grant(request)
    if grant is None:
        return None, None
    try:
        return grant, auth.project_scope(grant, project)
    except errors.NotFound:
        return grant, None


@router.get("/projects/{project}", name="ui_sessions")
def sessions(request: Request, project: str) -> Response:
    grant, scope = _scope(request, project)
    if grant is None:
        return _login(request)
    if scope is None:
        return _missing(request, grant)
    now = utcnow()
    with unit_of_work() as uow:
        found = catalog.get_project(uow, scope)
    listed = session_views.list_sessions(scope, type=SessionType.CONTEXT_TESTING, limit=50)
    summaries = [SessionSummary.of(session_views.session_details(scope, s.id), now) for s in listed]
    return _page(request, "sessions.html", project=found, sessions=summaries)


def _full(scope: model.Scope, session_id: uuid.UUID) -> SessionOut:
    return SessionOut.of_full(session_views.full_session(scope, session_id), utcnow())


@router.get("/projects/{project}/sessions/{session_id}", name="ui_session")
def session(request: Request, project: str, session_id: uuid.UUID) -> Response:
    grant, scope = _scope(request, project)
    if grant is None:
        return _login(request)
    try:
        if scope is None:
            raise errors.ProjectNotFound(project)
        shown = _full(scope, session_id)
    except errors.NotFound:
        return _missing(request, grant)
    return _page(request, "session.html", project=project, session=shown)


@router.get("/projects/{project}/sessions/{session_id}/events", name="ui_session_events")
async def session_events(request: Request, project: str, session_id: uuid.UUID) -> Response:
    """Server-sent events: ``matrix`` with the live part's new HTML whenever it changes,
    ``end`` once the session has ended."""
    grant, scope = await run_in_threadpool(_scope, request, project)
    if grant is None or scope is None:
        return PlainTextResponse("not found", status_code=404 if grant else 401)
    try:
        await run_in_threadpool(_full, scope, session_id)
    except errors.NotFound:
        return PlainTextResponse("not found", status_code=404)
    return StreamingResponse(
        _stream(request, scope, project, session_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _live_html(request: Request, project: str, shown: SessionOut) -> str:
    template = templates.get_template("_live.html")
    return template.render(request=request, project=project, session=shown)


def _event(name: str, data: str) -> str:
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"event: {name}\n{lines}\n"


async def _stream(
    request: Request, scope: model.Scope, project: str, session_id: uuid.UUID
) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    started = last_sent = loop.time()
    previous = None
    while loop.time() - started < STREAM_S and not await request.is_disconnected():
        shown = await run_in_threadpool(_full, scope, session_id)
        html = _live_html(request, project, shown)
        if html != previous:
            previous, last_sent = html, loop.time()
            yield _event("matrix", html)
        elif loop.time() - last_sent > HEARTBEAT_S:
            last_sent = loop.time()
            yield ": still here\n\n"
        if shown.status != "active":
            yield _event("end", shown.status)
            return
        await asyncio.sleep(POLL_S)


@router.get("/projects/{project}/sessions/{session_id}/output", name="ui_session_output")
def session_output(request: Request, project: str, session_id: uuid.UUID) -> Response:
    grant, scope = _scope(request, project)
    if grant is None:
        return _login(request)
    try:
        if scope is None:
            raise errors.ProjectNotFound(project)
        return PlainTextResponse(output_text(session_views.output_tail(scope, session_id)))
    except errors.NotFound:
        return _missing(request, grant)
