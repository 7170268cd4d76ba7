"""Tenant tokens at the door: who calls, and which project a call may touch.

The API takes ``Authorization: Bearer <token>``; the web view a cookie set by its login form
(a browser cannot send a bearer header without script). Either way the scope of a call comes
from the token: a project of another account, or outside a project-bound token, answers
exactly like a missing one.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ctworkflow import errors
from ctworkflow.domain import model
from ctworkflow.domain.tokens import Grant
from ctworkflow.persistence.db import unit_of_work
from ctworkflow.services import catalog, tokens

COOKIE = "ctw_token"

_bearer = HTTPBearer(auto_error=False, description="An API token: `ctw token create NAME`")


class Unauthorized(HTTPException):
    """No token, or one that is malformed, unknown or revoked."""

    def __init__(self, message: str) -> None:
        super().__init__(status_code=401, detail=message, headers={"WWW-Authenticate": "Bearer"})


def grant_of(secret: str | None) -> Grant | None:
    """What a presented secret grants, if anything."""
    if not secret:
        return None
    with unit_of_work() as uow:
        return tokens.authenticate(uow, secret)


def api_grant(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Grant:
    """The grant of the API call's bearer token."""
    if credentials is None:
        raise Unauthorized("missing token: send the header Authorization: Bearer <token>")
    found = grant_of(credentials.credentials)
    if found is None:
        raise Unauthorized("invalid or revoked token")
    return found


def cookie_grant(request: Request) -> Grant | None:
    """The grant of the web view's login cookie, if it holds a live token."""
    return grant_of(request.cookies.get(COOKIE))


def project_scope(grant: Grant, project: str) -> model.Scope:
    """The scope of a call on ``project`` (an id or a name) of the grant's account.

    Raises:
        ProjectNotFound: no such project in the account, or not one the token may see.
    """
    with unit_of_work() as uow:
        found = catalog.find_project(uow, grant.account_id, project)
    if not grant.sees(found.id):
        raise errors.ProjectNotFound(project)
    return grant.scope(found.id)


ProjectParam = Annotated[str, Path(description="Project id or name", max_length=255)]


def api_scope(grant: Annotated[Grant, Depends(api_grant)], project: ProjectParam) -> model.Scope:
    """The scope of an API call under ``/v1/projects/{project}``."""
    return project_scope(grant, project)


ApiGrant = Annotated[Grant, Depends(api_grant)]
ApiScope = Annotated[model.Scope, Depends(api_scope)]
