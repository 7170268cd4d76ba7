"""An in-memory database implementing :class:`~ctworkflow.ports.Transactions`.

It keeps what the SQL stores keep (sessions, interactions, artifacts, projects, components)
in dictionaries of the domain's frozen values, with the same rules: every read and write is
scoped by tenant, a status changes only through the compare-and-set of
:meth:`InMemorySessions.set_status` (which refuses what the status table forbids), a step's
interaction is unique per (session, step, attempt), an artifact per (session, attempt), and a
lease is taken only when it is free. A unit of work that raises leaves nothing behind.

The parts mirror :mod:`ctworkflow.persistence.session_store`: :mod:`.tables` (what is held and
the scope rules), :mod:`.catalog`, the session records by concern (:mod:`.sessions`,
:mod:`.children`, :mod:`.status`, :mod:`.leases`, :mod:`.interactions`, :mod:`.artifacts`,
assembled in :mod:`.records`) and :mod:`.database` (units of work).
"""

from __future__ import annotations

from ctworkflow.testing.store.catalog import InMemoryCatalog
from ctworkflow.testing.store.database import InMemoryDatabase, InMemoryUnitOfWork
from ctworkflow.testing.store.records import InMemorySessions
from ctworkflow.testing.store.tables import Tables

__all__ = [
    "InMemoryCatalog",
    "InMemoryDatabase",
    "InMemorySessions",
    "InMemoryUnitOfWork",
    "Tables",
]
