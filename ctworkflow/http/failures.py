"""Every error as one JSON line, ``{"error": "..."}``, with a status that says whose fault it is.

No traceback ever reaches a client: an unexpected error is logged here and answered with 500
and the words ``internal error``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from ctworkflow import errors

logger = logging.getLogger(__name__)


def answer(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The error response."""
    line = message.strip().splitlines()[0] if message.strip() else "error"
    return JSONResponse({"error": line}, status_code=status, headers=headers)


def status_of(error: errors.CtWorkflowError) -> int:
    """The HTTP status of one of our errors."""
    if isinstance(error, errors.NotFound):
        return 404
    if isinstance(error, errors.InvalidInput):
        return 422
    if isinstance(error, errors.InvalidTransition):
        return 409
    if _of_the_database(error):
        return 503
    if isinstance(error, errors.GitError):
        return 502
    if isinstance(error, errors.ConfigurationError | errors.TransientError):
        return 503
    return 500


def message_of(error: errors.CtWorkflowError) -> str:
    """What the client reads. A not-found names only the kind of thing, so a missing id and
    another tenant's id get the same body."""
    if isinstance(error, errors.NotFound):
        return f"{error.kind} not found"
    if _of_the_database(error):
        return "database unavailable"
    if status_of(error) == 500:
        return "internal error"
    return str(error)


def _of_the_database(error: errors.CtWorkflowError) -> bool:
    return isinstance(error, errors.DatabaseError | errors.DatabaseUnavailable)


def validation_message(error: RequestValidationError) -> tuple[int, str]:
    """One line for the first problem of a request (400 for a body that is empty or not JSON)."""
    problems: list[Any] = list(error.errors())
    if not problems:
        return 422, "invalid request"
    first = problems[0]
    kind = str(first.get("type", ""))
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
    if kind == "json_invalid":
        return 400, "request body is not valid JSON"
    if kind == "missing" and where == "body":
        return 400, "request body is empty: send a JSON object"
    if kind == "extra_forbidden":
        return 422, f"unknown field {where!r}"
    if kind == "missing":
        return 422, f"missing field {where!r}"
    if kind == "model_attributes_type" or (where == "body" and kind.endswith("_type")):
        return 422, "request body must be a JSON object"
    return 422, f"{where}: {first.get('msg', 'invalid')}"


def install(app: FastAPI) -> None:
    """Answer every error of ``app`` with one JSON line."""

    @app.exception_handler(errors.CtWorkflowError)
    async def _ours(_: Request, error: errors.CtWorkflowError) -> JSONResponse:
        status = status_of(error)
        if status == 500:
            logger.error("unexpected %s", type(error).__name__, exc_info=error)
        elif _of_the_database(error):
            logger.error("database error", exc_info=error)
        return answer(status, message_of(error))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        return answer(*validation_message(error))

    @app.exception_handler(HTTPException)
    async def _http(_: Request, error: HTTPException) -> JSONResponse:
        return answer(error.status_code, str(error.detail), getattr(error, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, error: Exception) -> JSONResponse:
        logger.error("unexpected error", exc_info=error)
        return answer(500, "internal error")
