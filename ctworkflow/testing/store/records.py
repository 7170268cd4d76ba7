"""The session records of one unit of work, assembled from one part per concern."""

from __future__ import annotations

from ctworkflow.testing.store.artifacts import Artifacts
from ctworkflow.testing.store.children import Children
from ctworkflow.testing.store.interactions import Interactions
from ctworkflow.testing.store.leases import Leases
from ctworkflow.testing.store.status import StatusChanges


class InMemorySessions(Artifacts, Children, StatusChanges, Leases, Interactions):
    """Sessions, interactions, leases and artifacts (:class:`~ctworkflow.ports.SessionRecords`)."""
