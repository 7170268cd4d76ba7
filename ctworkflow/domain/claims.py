"""What a component run's claim decides from the rows it read, before and after the lease.

Pure. A run claims its child in one transaction (:mod:`ctworkflow.workflow.component.claim`):
it reads the child and its parent, decides here whether there is anything to run, takes the
lease, and decides here whether the component was lost with its worker too often to run again.
"""

from __future__ import annotations

from enum import StrEnum

from ctworkflow.domain.model import Session
from ctworkflow.domain.states import SessionStatus

#: Why a child is cancelled when its run finds its parent ended.
PARENT_ENDED = "parent session is no longer active"
#: What a run that takes the lease over closes the steps an interrupted run left open with.
INTERRUPTED = "interrupted: the run was delivered again"


class Verdict(StrEnum):
    """What a run of a round does with the child it read."""

    #: Take the lease and run the round.
    RUN = "run"
    #: Nothing: the child ran this round already (a redelivery), or it ended.
    NOTHING = "nothing"
    #: Cancel the child: its parent ended, so no round of it counts any more.
    CANCEL = "cancel"


def verdict(child: Session, parent: Session, attempt: int) -> Verdict:
    """What a delivery of round ``attempt`` does with ``child``, given its ``parent``."""
    if child.status is not SessionStatus.ACTIVE or child.attempt > attempt:
        return Verdict.NOTHING
    if parent.status is not SessionStatus.ACTIVE:
        return Verdict.CANCEL
    return Verdict.RUN


def lost_too_often(worker_losses: int, cap: int) -> str | None:
    """Why a component is not run again (its runs were lost with their workers ``cap`` times,
    killed or out of memory), or None when it may run."""
    if worker_losses < cap:
        return None
    return (
        f"the run of this component was lost with its worker {worker_losses} times "
        "(killed or out of memory); not running it again"
    )
