"""Queries on sessions, their interactions and their artifacts; all scoped by tenant.

:class:`SessionStore` is assembled from one part per concept: :mod:`.sessions` (the rows and
the columns a step may set), :mod:`.children` (a parent's children, inserted in bulk and
started on a round), :mod:`.status` (the one compare-and-set of a status), :mod:`.leases`,
:mod:`.interactions` and :mod:`.artifacts`.
"""

from __future__ import annotations

from ctworkflow.persistence.session_store.artifacts import Artifacts
from ctworkflow.persistence.session_store.children import Children
from ctworkflow.persistence.session_store.interactions import Interactions
from ctworkflow.persistence.session_store.leases import Leases
from ctworkflow.persistence.session_store.status import StatusChanges

__all__ = ["SessionStore"]


class SessionStore(Artifacts, Children, StatusChanges, Leases, Interactions):
    """Sessions, interactions and artifacts of one unit of work."""
