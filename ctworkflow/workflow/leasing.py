"""The lease a component run holds on its session while it works.

Taking it is a compare-and-set in the database; the run renews it from its stop check, and
loses it only if it fell silent longer than the lease and another delivery took over. A run
that lost its lease stops without recording anything.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ctworkflow.domain import leases, model
from ctworkflow.persistence.db import unit_of_work
from ctworkflow.persistence.tables import utcnow

#: How often a run that found the lease held looks again.
WAIT_POLL_S = 1.0


def process_alive(pid: int) -> bool:
    """Tell whether a process of this host still runs."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def new_holder() -> leases.Holder:
    """A holder naming this process, unique per run."""
    return leases.Holder(host=socket.gethostname(), pid=os.getpid(), token=uuid.uuid4().hex[:12])


@dataclass(slots=True, kw_only=True)
class RunLease:
    """A lease held by this run; renewed at most every third of its lifetime."""

    scope: model.Scope
    session_id: uuid.UUID
    owner: str
    ttl_s: float
    worker_losses: int
    renewed_at: float = field(default_factory=time.monotonic)
    lost: bool = False

    def expiry(self) -> datetime:
        return utcnow() + timedelta(seconds=self.ttl_s)

    def renew(self) -> bool:
        """Keep the lease; False once another run took it over."""
        now = time.monotonic()
        if self.lost or now - self.renewed_at < self.ttl_s / 3:
            return not self.lost
        with unit_of_work() as uow:
            kept = uow.sessions.renew_lease(
                self.scope, self.session_id, owner=self.owner, expires_at=self.expiry()
            )
        self.renewed_at = now
        self.lost = not kept
        return kept


def take(scope: model.Scope, child: model.Session, ttl_s: float) -> RunLease | None:
    """Take the child's lease if it is free; None while another live run holds it."""
    holder = str(new_holder())
    now = utcnow()
    replacing = None
    if leases.holder_is_gone(
        child.lease_owner, host=socket.gethostname(), process_alive=process_alive
    ):
        replacing = child.lease_owner
    with unit_of_work() as uow:
        losses = uow.sessions.take_lease(
            scope,
            child.id,
            owner=holder,
            expires_at=now + timedelta(seconds=ttl_s),
            now=now,
            replacing=replacing,
        )
    if losses is None:
        return None
    return RunLease(
        scope=scope, session_id=child.id, owner=holder, ttl_s=ttl_s, worker_losses=losses
    )
