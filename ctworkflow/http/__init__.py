"""The HTTP API and web view (FastAPI, served by uvicorn: ``ctw serve``).

Modules: ``app`` (the application factory), ``auth`` (tenant tokens: bearer header for the API,
an HttpOnly cookie for the web view), ``failures`` (every error as one JSON line), ``limits``
(request body size), ``schemas`` (requests and responses), ``session_schemas`` (a session's
summary, steps and component matrix), ``catalog_routes``, ``session_routes`` and
``webhook_routes`` (``/v1``), ``web`` (the pages under ``/ui``), ``metrics`` (``/metrics``).
"""
