"""The application factory: the ``/v1`` API, the ``/ui`` web view, ``/metrics``, ``/healthz``.

``uvicorn --factory ctworkflow.http.app:create_app`` (``ctw serve``). The OpenAPI document is at
``/openapi.json`` and its pages at ``/docs``.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

import ctworkflow
from ctworkflow.config import get_settings
from ctworkflow.http import (
    catalog_routes,
    failures,
    metrics,
    session_routes,
    web,
    webhook_routes,
    wiring,
)
from ctworkflow.http.limits import BodyLimit
from ctworkflow.http.schemas import ErrorOut
from ctworkflow.tasks.dispatch import send_deliveries_on_commit

DESCRIPTION = """\
Start, follow and manage context testing sessions.

Every call carries an API token (`Authorization: Bearer <token>`; `ctw token create NAME
--account ACCOUNT` makes one). The token decides the account, and optionally the one project,
a call may reach: another tenant's ids answer exactly like missing ones (404). Errors are one
JSON line: `{"error": "..."}`.
"""

#: The error answers every authenticated route may give, documented once.
ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorOut, "description": "The body is empty or not valid JSON"},
    401: {"model": ErrorOut, "description": "No token, or a malformed, unknown or revoked one"},
    404: {"model": ErrorOut, "description": "Missing, or not the token's"},
    413: {"model": ErrorOut, "description": "The body is over the size limit"},
    422: {"model": ErrorOut, "description": "A value or field the API refuses"},
}

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
}


def create_app() -> FastAPI:
    """A new application, configured from the settings."""
    settings = get_settings()
    send_deliveries_on_commit()

    app = FastAPI(
        title="ctworkflow",
        version=_version(),
        description=DESCRIPTION,
        responses=ERRORS,
        docs_url="/docs",
        redoc_url=None,
    )
    wiring.hold(app, settings)
    failures.install(app)
    app.add_middleware(BodyLimit, max_bytes=settings.api_max_body_bytes)
    for router in (catalog_routes.router, session_routes.router, webhook_routes.router):
        app.include_router(router)
    app.include_router(web.router)
    app.mount("/ui/static", StaticFiles(directory=web.HERE / "static"), name="static")
    registry = metrics.registry()

    @app.middleware("http")
    async def _security_headers(request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        if not request.url.path.startswith("/docs"):
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
        return response

    @app.get("/metrics", include_in_schema=False)
    def _metrics() -> Response:
        return Response(metrics.exposition(registry), media_type="text/plain; version=0.0.4")

    @app.get("/healthz", include_in_schema=False)
    def _health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/", include_in_schema=False)
    def _root() -> RedirectResponse:
        return RedirectResponse("/ui/", status_code=307)

    return app


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ctworkflow")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return ctworkflow.__name__
