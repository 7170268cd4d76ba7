"""``/v1/projects``: the projects a token sees, their contexts, and discovery."""

from __future__ import annotations

from fastapi import APIRouter

from ctworkflow.http.auth import ApiGrant, ApiScope
from ctworkflow.http.json_body import JsonBodyRoute
from ctworkflow.http.schemas import ContextOut, DiscoveryOut, ProjectOut
from ctworkflow.persistence.db import unit_of_work
from ctworkflow.services import catalog, discovery

router = APIRouter(prefix="/v1/projects", tags=["projects"], route_class=JsonBodyRoute)


@router.get("", summary="List the projects the token sees")
def list_projects(grant: ApiGrant) -> list[ProjectOut]:
    with unit_of_work() as uow:
        found = catalog.list_projects(uow, grant.account_id)
    return [ProjectOut.of(p) for p in found if grant.sees(p.id)]


@router.get("/{project}", summary="Show a project")
def show_project(scope: ApiScope) -> ProjectOut:
    with unit_of_work() as uow:
        return ProjectOut.of(catalog.get_project(uow, scope))


@router.get("/{project}/contexts", summary="List the project's contexts")
def list_contexts(scope: ApiScope) -> list[ContextOut]:
    with unit_of_work() as uow:
        return [ContextOut.of(c) for c in catalog.list_contexts(uow, scope)]


@router.post(
    "/{project}/discover",
    summary="Read the repository and register its contexts and components",
    description="Reads the head of the project's default branch; sessions are never touched.",
)
def discover(scope: ApiScope) -> DiscoveryOut:
    return DiscoveryOut.of(discovery.discover_components(scope))
