"""The API's bodies are JSON, whatever ``Content-Type`` the client declared.

``curl -d '{"context": "shop.accounts"}'`` declares ``application/x-www-form-urlencoded``; FastAPI
would then read the body as bytes and refuse a perfectly good JSON object. Every ``/v1`` route
takes JSON only, so the declared type carries no information: a body that parses as a JSON
object is accepted, anything else gets one line (``failures.validation_message``).

FastAPI's strict check guards against a web page that makes a browser send a JSON body
cross-site as a "simple" request (no preflight). That cannot reach these routes: they take only
an ``Authorization: Bearer`` header, which a browser never sends cross-site without a preflight
(no CORS is allowed), never the web view's cookie (``SameSite=Strict``, and scoped to ``/ui``).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

JSON = (b"content-type", b"application/json")


def as_json(request: Request) -> Request:
    """The same request, its body declared as JSON."""
    headers = [(name, value) for name, value in request.scope["headers"] if name != JSON[0]]
    return Request({**request.scope, "headers": [*headers, JSON]}, request.receive)


class JsonBodyRoute(APIRoute):
    """A route whose body is read as JSON whatever its declared ``Content-Type``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            return await handler(as_json(request))

        return handle
