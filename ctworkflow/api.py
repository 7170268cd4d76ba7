"""The Python API for backend services: start, read, list, cancel and retry sessions.

The stable names a service that imports ctworkflow calls; each is a use case of
:mod:`ctworkflow.services` (this module holds no logic, and nothing inside ctworkflow imports
it). Every function takes a :class:`~ctworkflow.Scope`; ids and names of another tenant behave
as missing ones. Errors are typed (``ctworkflow.errors``).

A session that is started (or retried) is committed first, then its first wake-up is sent. If
the broker cannot take it in time, the session is not lost and no error is raised: it is
returned *queued* (:func:`queued_reason` says why) and the reconciler sends that wake-up on its
next pass.
"""

from __future__ import annotations

from ctworkflow.services.discovery import DiscoveryReport, discover_components
from ctworkflow.services.lifecycle import (
    cancel_session,
    queued_reason,
    reconcile,
    retry_session,
    start_context_testing,
)
from ctworkflow.services.session_views import (
    SessionDetails,
    get_session,
    list_sessions,
    session_details,
)

__all__ = [
    "DiscoveryReport",
    "SessionDetails",
    "cancel_session",
    "discover_components",
    "get_session",
    "list_sessions",
    "queued_reason",
    "reconcile",
    "retry_session",
    "session_details",
    "start_context_testing",
]
