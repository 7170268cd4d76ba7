"""The lease a component run holds on its session while it works.

Taking it is a compare-and-set in the database, in the transaction of the run's claim. While it
works, the run renews it from its stop check, with the same statement that tells it whether its
session is still active: it stops when the session was cancelled, or when it fell silent longer
than the lease and another delivery took over (then it records nothing). The renewal's
transaction also writes the run's journal of steps (:mod:`ctworkflow.workflow.journal`), only
when the lease is still the run's.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import timedelta

from ctworkflow import errors, ports
from ctworkflow.domain import leases, model
from ctworkflow.workflow.journal import Journal

logger = logging.getLogger(__name__)

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
    """A lease held by this run, and the run's one question to the database while it works."""

    scope: model.Scope
    session_id: uuid.UUID
    owner: str
    ttl_s: float
    worker_losses: int
    transactions: ports.Transactions
    clock: ports.Clock
    #: The run's steps, written with each renewal that finds the lease still the run's.
    journal: Journal
    #: When the lease was last taken or renewed (the clock's ``monotonic``).
    checked_at: float
    #: How often :meth:`still_held` asks; well under the lease's lifetime.
    check_interval_s: float = 2.0
    held: bool = True

    def still_held(self) -> bool:
        """Renew the lease while the session is active; False once cancelled or taken over.

        One transaction at most every ``check_interval_s``: the renewal, and the steps the
        journal noted since its last write when the lease is still the run's. A database that
        cannot be reached (restarting) is no answer: the run goes on and asks again later.
        """
        now = self.clock.monotonic()
        if not self.held or now - self.checked_at < self.check_interval_s:
            return self.held
        self.checked_at = now
        written: list[model.Interaction] = []
        try:
            with self.transactions() as uow:
                renewed = uow.sessions.renew_lease(
                    self.scope,
                    self.session_id,
                    owner=self.owner,
                    expires_at=self.clock.now() + timedelta(seconds=self.ttl_s),
                )
                if renewed:
                    written = self.journal.write(uow)
            self.held = renewed
            self.journal.confirm(written)
        except errors.DatabaseUnavailable:
            logger.warning("session %s: database unreachable; running on", self.session_id)
        return self.held

    def should_stop(self) -> bool:
        """The run's stop check: cancelled, or taken over by another delivery."""
        return not self.still_held()


def take(
    uow: ports.UnitOfWork,
    clock: ports.Clock,
    scope: model.Scope,
    child: model.Session,
    ttl_s: float,
) -> tuple[str, int] | None:
    """In ``uow``, take the child's lease if it is free (or its holder, a process of this
    host, is gone): its new owner and the child's worker losses; None while another live run
    holds it."""
    holder = str(new_holder())
    now = clock.now()
    replacing = None
    if leases.holder_is_gone(
        child.lease_owner, host=socket.gethostname(), process_alive=process_alive
    ):
        replacing = child.lease_owner
    losses = uow.sessions.take_lease(
        scope,
        child.id,
        owner=holder,
        expires_at=now + timedelta(seconds=ttl_s),
        now=now,
        replacing=replacing,
    )
    return None if losses is None else (holder, losses)


def run_lease(
    transactions: ports.Transactions,
    clock: ports.Clock,
    scope: model.Scope,
    child_id: uuid.UUID,
    taken: tuple[str, int],
    ttl_s: float,
    *,
    check_interval_s: float,
) -> RunLease:
    """The lease :func:`take` took, once its transaction committed, with an empty journal."""
    owner, losses = taken
    return RunLease(
        scope=scope,
        session_id=child_id,
        owner=owner,
        ttl_s=ttl_s,
        worker_losses=losses,
        transactions=transactions,
        clock=clock,
        journal=Journal(scope=scope, session_id=child_id, clock=clock),
        checked_at=clock.monotonic(),
        check_interval_s=min(check_interval_s, ttl_s / 3),
    )
