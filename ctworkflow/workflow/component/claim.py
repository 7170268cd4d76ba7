"""A component run's claim: one transaction that reads the job, takes the child's lease and
closes what an interrupted run left open.

It reads the child and its parent and decides (:func:`ctworkflow.domain.claims.verdict`)
whether there is anything to run: a redelivery of a round that ran finds nothing, a child whose
parent ended is cancelled. Otherwise it takes the lease (:func:`ctworkflow.workflow.leasing.take`);
a component lost with its worker too often is failed instead of run; a run that may go on closes
the steps an interrupted run left pending and reads each step's latest attempt, so its own
attempts are numbered after them. While another live run holds the lease, the claim looks again
every :data:`~ctworkflow.workflow.leasing.WAIT_POLL_S` for up to one lease lifetime.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ctworkflow import ports
from ctworkflow.domain import claims, model
from ctworkflow.domain.states import SessionStatus
from ctworkflow.effects import repository_layout
from ctworkflow.workflow import environment, leasing
from ctworkflow.workflow.component.job import Job
from ctworkflow.workflow.component.patience import patiently
from ctworkflow.workflow.deps import Deps


@dataclass(frozen=True, slots=True)
class Claimed:
    """A round to run: its job, and the lease the run holds."""

    job: Job
    lease: leasing.RunLease


@dataclass(frozen=True, slots=True)
class Busy:
    """Another live run held the lease for as long as the claim waited."""

    owner: str | None


def claim(
    scope: model.Scope, child_id: uuid.UUID, attempt: int, deps: Deps, *, check_interval_s: float
) -> Claimed | Busy | model.Session:
    """Claim round ``attempt`` of the child; the child as it ended when there is nothing to
    run (ran already, cancelled, its parent ended, lost too often)."""
    clock = deps.clock
    deadline = clock.monotonic() + deps.settings.lease_ttl_s + leasing.WAIT_POLL_S
    while True:
        got = patiently(
            deps,
            lambda: _claim_once(scope, child_id, attempt, deps, check_interval_s),
            "claiming the run",
        )
        if not isinstance(got, Busy) or clock.monotonic() >= deadline:
            return got  # claimed, nothing to run, or a live run has it: start no second agent
        clock.sleep(leasing.WAIT_POLL_S)


def _claim_once(
    scope: model.Scope, child_id: uuid.UUID, attempt: int, deps: Deps, check_interval_s: float
) -> Claimed | Busy | model.Session:
    """One try at the claim, in one transaction; :class:`Busy` if the lease is held."""
    with deps.transactions() as uow:
        child = uow.sessions.get_session(scope, child_id)
        assert child.parent_id is not None, "a component testing session has a parent"
        parent = uow.sessions.get_session(scope, child.parent_id)
        match claims.verdict(child, parent, attempt):
            case claims.Verdict.NOTHING:
                return child
            case claims.Verdict.CANCEL:
                return _end_child(uow, scope, child, SessionStatus.CANCELLED, claims.PARENT_ENDED)
        taken = leasing.take(uow, deps.clock, scope, child, deps.settings.lease_ttl_s)
        if taken is None:
            return Busy(owner=child.lease_owner)
        owner, losses = taken
        uow.sessions.abandon_pending(scope, child_id, claims.INTERRUPTED)
        lost = claims.lost_too_often(losses, deps.settings.max_worker_losses)
        if lost is not None:
            uow.sessions.release_lease(scope, child_id, owner=owner)
            return _end_child(uow, scope, child, SessionStatus.FAILED, lost)
        bases = uow.sessions.latest_attempts(scope, child_id)
        project = uow.catalog.get_project(scope.account_id, scope.project_id)
        component = uow.catalog.get_component(scope, child.component_id)
    lease = leasing.run_lease(
        deps.transactions,
        deps.clock,
        scope,
        child_id,
        (owner, losses),
        deps.settings.lease_ttl_s,
        check_interval_s=check_interval_s,
    )
    return Claimed(job=_job(scope, child, parent, project, component, bases), lease=lease)


def _end_child(
    uow: ports.UnitOfWork,
    scope: model.Scope,
    child: model.Session,
    target: SessionStatus,
    reason: str,
) -> model.Session:
    uow.sessions.set_status(
        scope, [child.id], expected=SessionStatus.ACTIVE, target=target, error=reason
    )
    return uow.sessions.get_session(scope, child.id)


def _job(
    scope: model.Scope,
    child: model.Session,
    parent: model.Session,
    project: model.Project,
    component: model.Component,
    bases: dict[str, int],
) -> Job:
    """The job of a claimed round: the rows as the claim read them."""
    assert parent.base_commit is not None, "initialize records the base commit"
    return Job(
        scope=scope,
        child=child,
        project=project,
        component=component,
        base_commit=parent.base_commit,
        attempt_bases=bases,
        runner=parent.runner,
        profile=repository_layout.session_profile(parent.state, parent.base_commit),
        recipe=environment.session_recipe(parent.state),
    )
